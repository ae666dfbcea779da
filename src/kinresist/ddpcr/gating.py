"""Automatic two-channel gating: each droplet into Ch1-Ch2-, Ch1+Ch2-, Ch1+Ch2+, Ch1-Ch2+.

Algorithm (vectorised; one pass of per-well histograms per channel):

1. **Plate threshold per channel.** All droplets of the plate are binned (``nbins`` bins between
   the 0.01 and 99.99 percentiles) into per-well histograms with one ``np.bincount``. On the
   smoothed plate histogram the *negative peak* is the lowest-amplitude peak holding >= 5 % of the
   tallest peak; *positive peaks* are later peaks above a small floor. The threshold is the
   density minimum between the negative peak and the first positive peak (the valley is where rain
   is thinnest), raised to the positive cluster's lower edge (positive peak - 7 robust SD, from
   its half-width at half maximum) when the valley is a long flat plain of rain (rain counts as
   negative, as in QuantaSoft's manual gates of the reference data), and never closer than 4
   robust SDs to the negative peak. With no positive peak on
   the plate (all-negative / NTC plates) the threshold is negative peak + 7 SD (as daattali/ddpcr).
2. **Per-well adjustment.** Each well's threshold is shifted by the difference between the
   median of its own below-threshold droplets and the plate's (baseline drift between wells,
   as PoDCall does), so wells with very few positives borrow the plate's valley.
3. **Ch2 conditional on Ch1.** Ch2 thresholds are learned separately for Ch1-negative and
   Ch1-positive droplets (Ch1 fluorescence spills into Ch2 and competition lowers double-positive
   amplitudes, so one crosshair misplaces clusters in assays such as the BRAF wild-type-negative
   duplex). Among Ch1-positive droplets the lower Ch2 population is a real cluster (Ch1+Ch2-
   single positives), so its border is kept tight: min(valley, cluster + 4 SD), as daattali/ddpcr
   tightens its border to the mutant cluster's mean + 3 SD. Ch1 is then re-learned separately
   for Ch2-negative and Ch2-positive droplets.
4. **Rain.** Droplets between negative peak + 4 SD and the threshold (called negative but not
   part of the negative cluster); a well is flagged when rain exceeds 10 % of its positives in
   a channel (and >= 10 droplets).

Manual thresholds (``thresholds={"ch1": 6789, "ch2": 3000}`` or per well) override everything
(a crosshair, as QuantaSoft's threshold mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from kinresist.ddpcr.plate import Plate
from kinresist.errors import InputError

__all__ = ["Gating", "gate_plate"]

EDGE_SD = 7.0
RAIN_FRACTION = 0.10
EDGE_SPILL = False
SPILL_SD = 4.0


@dataclass(frozen=True)
class Gating:
    """Result of gating a plate.

    Attributes
    ----------
    labels
        Cluster code per droplet (1 = Ch1-Ch2-, 2 = Ch1+Ch2-, 3 = Ch1+Ch2+, 4 = Ch1-Ch2+).
    counts
        (n_wells, 4) droplet counts for codes 1-4.
    thr_ch1, thr_ch2_neg, thr_ch2_pos
        Per-well thresholds: Ch1 (for Ch2-negative droplets; ``thr_ch1_pos2`` for Ch2-positive
        ones), Ch2 for Ch1-negative and for Ch1-positive droplets.
    rain_fraction
        (n_wells, 2) rain droplets / positives per channel.
    method
        ``"auto"`` or ``"manual"``.
    """

    labels: np.ndarray
    counts: np.ndarray
    thr_ch1: np.ndarray
    thr_ch1_pos2: np.ndarray
    thr_ch2_neg: np.ndarray
    thr_ch2_pos: np.ndarray
    rain_fraction: np.ndarray
    rain_flag: np.ndarray
    method: str


@dataclass(frozen=True)
class _ChannelModel:
    threshold: float
    neg_peak: float
    neg_sd: float
    pos_peak: float  # NaN when no positive cluster on the plate
    pos_sd: float = float("nan")


def _model_from_hist(
    hist: np.ndarray, lo: float, width: float, *, first_peak: bool = False, edge_rule: bool = True
) -> _ChannelModel:
    h = gaussian_filter1d(hist.astype(float), 2.0)
    centers = lo + (np.arange(h.size) + 0.5) * width
    top = h.max()
    if top <= 0:
        return _ChannelModel(np.nan, np.nan, np.nan, np.nan)
    is_peak = np.r_[False, (h[1:-1] > h[:-2]) & (h[1:-1] >= h[2:]), False]
    peaks = np.flatnonzero(is_peak & (h >= 0.05 * top))
    neg = int(peaks[0]) if peaks.size else int(np.argmax(h))
    # robust SD of the negative cluster from its left half-width at half maximum
    left = np.flatnonzero(h[: neg + 1] < h[neg] / 2)
    hw = (neg - left[-1]) if left.size else 2
    sd = max(hw * width / 1.1774, width)
    total = hist.sum()
    floor = max(0.0005 * top, 3.0 / max(total, 1) * top)
    above = centers > centers[neg] + 6 * sd
    cands = np.flatnonzero(is_peak & (h >= floor) & above)
    if cands.size:
        prom = np.array([h[c] - h[neg : c + 1].min() for c in cands])
        # skip bumps of rain: a positive peak must stand out by >= 10 % of the most prominent one
        cands = cands[prom >= 0.1 * prom.max()]
        pos = int(cands[0]) if first_peak else int(cands[np.argmax(prom[prom >= 0.1 * prom.max()])])
        seg = h[neg : pos + 1]
        # lowest point of the valley; a flat floor (sparse rain) -> its middle
        mins = np.flatnonzero(seg <= seg.min() + 0.05 * (h[pos] - seg.min()) * 0.1)
        valley = neg + int(np.round(mins.mean()))
        # rain between the clusters counts as negative up to the positive cluster's lower edge
        pleft = np.flatnonzero(h[neg : pos + 1] < h[pos] / 2)
        psd = max((pos - neg - pleft[-1]) * width / 1.1774, width) if pleft.size else sd
        edge = centers[pos] - EDGE_SD * psd
        if edge_rule:
            thr = max(centers[valley], edge, centers[neg] + 4 * sd)
        else:  # spill-over group: the lower cluster is real (single positives), keep the border tight
            thr = min(centers[valley], centers[neg] + SPILL_SD * sd)
        return _ChannelModel(
            float(thr), float(centers[neg]), float(sd), float(centers[pos]), float(psd)
        )
    return _ChannelModel(float(centers[neg] + 7 * sd), float(centers[neg]), float(sd), np.nan)


def _well_hists(
    x: np.ndarray, well: np.ndarray, nwells: int, lo: float, width: float, nbins: int
) -> np.ndarray:
    idx = np.clip(((x - lo) / width).astype(np.int64), 0, nbins - 1)
    return np.bincount(well.astype(np.int64) * nbins + idx, minlength=nwells * nbins).reshape(
        nwells, nbins
    )


def _median_below(hists: np.ndarray, cut_bins: np.ndarray, lo: float, width: float) -> np.ndarray:
    """Per-well median amplitude of droplets in bins below ``cut_bins`` (NaN when none)."""
    nb = hists.shape[1]
    mask = np.arange(nb)[None, :] < cut_bins[:, None]
    h = np.where(mask, hists, 0)
    cs = np.cumsum(h, axis=1)
    tot = cs[:, -1]
    med_bin = np.argmax(cs >= (tot / 2)[:, None], axis=1)
    return np.where(tot > 0, lo + (med_bin + 0.5) * width, np.nan)


def _learn(
    x: np.ndarray,
    well: np.ndarray,
    nwells: int,
    sel: np.ndarray | None,
    *,
    nbins: int,
    lo: float,
    width: float,
    shift: np.ndarray | None = None,
    edge_rule: bool = True,
) -> tuple[np.ndarray, _ChannelModel, np.ndarray, np.ndarray]:
    """Per-well thresholds for ``x`` (restricted to ``sel``), the plate model and well hists."""
    xs, ws = (x, well) if sel is None else (x[sel], well[sel])
    hists = _well_hists(xs, ws, nwells, lo, width, nbins)
    model = _model_from_hist(hists.sum(axis=0), lo, width, edge_rule=edge_rule)
    if not np.isfinite(model.threshold):
        return np.full(nwells, np.nan), model, hists, np.zeros(nwells)
    if shift is None:
        cut = np.full(nwells, int((model.threshold - lo) / width))
        plate_med = _median_below(hists.sum(axis=0)[None, :], cut[:1], lo, width)[0]
        well_med = _median_below(hists, cut, lo, width)
        n_below = np.where(np.arange(nbins)[None, :] < cut[:, None], hists, 0).sum(axis=1)
        shift = np.where(np.isfinite(well_med) & (n_below >= 50), well_med - plate_med, 0.0)
    return model.threshold + shift, model, hists, shift


def gate_plate(
    plate: Plate,
    *,
    thresholds: Mapping[str, float] | Mapping[str, tuple[float, float]] | None = None,
    nbins: int = 512,
) -> Gating:
    """Gate every droplet of ``plate`` (see the module docstring for the algorithm).

    Parameters
    ----------
    thresholds
        Manual crosshair: ``{"ch1": t1, "ch2": t2}`` for the whole plate, or ``{well: (t1, t2)}``
        per well (wells not listed are gated automatically).
    """
    nw = len(plate.wells)
    w = plate.well_index
    x1, x2 = plate.ch1, plate.ch2
    simplex = plate.simplex
    whole = bool(thresholds) and "ch1" in thresholds and ("ch2" in thresholds or simplex)  # type: ignore[operator]
    if whole:
        nan = np.full(nw, np.nan)
        auto = {
            "t1": nan,
            "t1p": nan.copy(),
            "t2n": nan.copy(),
            "t2p": nan.copy(),
            "edge": np.full((nw, 2), np.inf),
        }
    else:
        auto = _auto(plate, nbins=nbins)
    t1, t1p, t2n, t2p = auto["t1"], auto["t1p"], auto["t2n"], auto["t2p"]
    method = "auto"
    if thresholds:
        method = "manual"
        if "ch1" in thresholds or "ch2" in thresholds:
            if "ch1" in thresholds:
                t1 = t1p = np.full(nw, float(thresholds["ch1"]))  # type: ignore[arg-type]
            if "ch2" in thresholds:
                t2n = t2p = np.full(nw, float(thresholds["ch2"]))  # type: ignore[arg-type]
        else:
            for well, pair in thresholds.items():
                if well not in plate.wells:
                    msg = f"manual threshold for well {well}, which is not on the plate"
                    raise InputError(msg)
                i = plate.wells.index(well)
                a, b = pair  # type: ignore[misc]
                t1[i] = t1p[i] = a
                t2n[i] = t2p[i] = b
    pos1 = x1 > t1[w]
    pos2 = np.zeros_like(pos1)
    if simplex:
        labels = np.where(pos1, 2, 1).astype(np.int8)
    else:
        pos2 = np.where(pos1, x2 > t2p[w], x2 > t2n[w])
        pos1 = np.where(pos2, x1 > t1p[w], x1 > t1[w])
        labels = np.select([~pos1 & ~pos2, pos1 & ~pos2, pos1 & pos2], [1, 2, 3], 4).astype(np.int8)
    counts = np.bincount(w.astype(np.int64) * 5 + labels, minlength=nw * 5).reshape(nw, 5)[:, 1:]
    # rain: droplets called negative although above their negative cluster (+4 SD)
    edge = auto["edge"]
    r1 = ~pos1 & (x1 > edge[w, 0])
    r2 = (~pos2 & (x2 > edge[w, 1])) if not simplex else np.zeros_like(r1)
    rain = np.stack(
        [np.bincount(w, weights=r1, minlength=nw), np.bincount(w, weights=r2, minlength=nw)], axis=1
    )
    npos = np.stack([counts[:, 1] + counts[:, 2], counts[:, 2] + counts[:, 3]], axis=1)
    frac = rain / np.maximum(npos, 1)
    flag = np.asarray(((frac > RAIN_FRACTION) & (rain >= 10)).any(axis=1))
    return Gating(labels, counts, t1, t1p, t2n, t2p, frac, flag, method)


def _auto(plate: Plate, *, nbins: int) -> dict[str, np.ndarray]:
    nw = len(plate.wells)
    w = plate.well_index
    x1, x2 = plate.ch1, plate.ch2
    out: dict[str, np.ndarray] = {}
    lo1, hi1 = np.percentile(x1, [0.01, 99.99]) if x1.size else (0.0, 1.0)
    wd1 = max((hi1 - lo1) / nbins, 1e-9)
    t1, m1, _, s1a = _learn(x1, w, nw, None, nbins=nbins, lo=lo1, width=wd1)
    rain_edge = np.full((nw, 2), np.inf)
    rain_edge[:, 0] = m1.neg_peak + s1a + 4 * m1.neg_sd
    if not np.isfinite(t1).all():
        msg = "cannot gate Ch1: the plate has no droplets with amplitudes"
        raise InputError(msg)
    if plate.simplex:
        nan = np.full(nw, np.nan)
        return {"t1": t1, "t1p": t1.copy(), "t2n": nan, "t2p": nan.copy(), "edge": rain_edge}
    lo2, hi2 = np.percentile(x2, [0.01, 99.99])
    wd2 = max((hi2 - lo2) / nbins, 1e-9)
    pos1 = x1 > t1[w]
    # baseline shifts are measured on the large negative population and reused for the
    # conditional (spill-over) groups, whose own negatives may be a handful of droplets
    t2n, m2, _, s2 = _learn(x2, w, nw, ~pos1, nbins=nbins, lo=lo2, width=wd2)
    t2p, m2p, _, _ = _learn(
        x2, w, nw, pos1, nbins=nbins, lo=lo2, width=wd2, shift=s2, edge_rule=EDGE_SPILL
    )
    if not np.isfinite(t2p).all() or not np.isfinite(m2p.pos_peak) or pos1.sum() < 200:
        t2p = t2n.copy()
    rain_edge[:, 1] = m2.neg_peak + s2 + 4 * m2.neg_sd
    pos2 = np.where(pos1, x2 > t2p[w], x2 > t2n[w])
    t1n2, _, _, s1 = _learn(x1, w, nw, ~pos2, nbins=nbins, lo=lo1, width=wd1)
    t1p2, mp, _, _ = _learn(x1, w, nw, pos2, nbins=nbins, lo=lo1, width=wd1, shift=s1)
    if np.isfinite(t1n2).all():
        t1 = t1n2
    if not np.isfinite(t1p2).all() or not np.isfinite(mp.pos_peak) or pos2.sum() < 200:
        t1p2 = t1.copy()
    out.update(t1=t1, t1p=t1p2, t2n=t2n, t2p=t2p, edge=rain_edge)
    return out
