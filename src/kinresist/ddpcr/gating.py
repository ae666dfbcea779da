"""Automatic two-channel gating: each droplet into Ch1-Ch2-, Ch1+Ch2-, Ch1+Ch2+, Ch1-Ch2+.

Algorithm (vectorised; one pass of per-well histograms per channel):

1. **Binning that single droplets cannot move.** Amplitudes are binned on a grid anchored at
   0: the bin width is the span / 512 rounded down to a step of the R10 series (1, 1.25, 1.6,
   2, 2.5, 3.15, 4, 5, 6.3, 8 x 10^k), so that the bin edges of the other droplets stay where
   they are when a droplet is added, removed or moved. The span runs from the k-th smallest to
   the k-th largest droplet, k = max(4, 0.01 % of the droplets) (about the 0.01 / 99.99 %
   quantiles, so a well's few positives are inside); one droplet moves these order statistics
   by one rank at most, and the R10 rounding absorbs that. Bins are never finer than 1/16 of
   the tallest cluster's SD (a well with one population spans little, and sampling noise
   would make peaks on its flanks). The grid covers the droplets
   within [low end - 1 span, high end + 4 spans]; droplets beyond (e.g. amplitude 10^6) fall
   into the end bins, which are never peaks.
2. **Plate threshold per channel.** All droplets of the plate go into per-well histograms with
   one ``np.bincount``. On the smoothed plate histogram the *negative peak* is the
   lowest-amplitude peak holding >= 5 % of the tallest peak; *positive peaks* are later peaks
   (> negative + 10 SD) that hold at least :data:`MIN_CLUSTER` droplets within +-8 bins (one or a
   few stray droplets never make a cluster) and stand out by >= 10 % of the most prominent one.
   The threshold is the density minimum between the negative peak and the first positive peak,
   raised to the positive cluster's lower edge (positive peak - 7 robust SD) when the valley is
   a long flat plain of rain (rain counts as negative, as in QuantaSoft's manual gates of the
   reference data), and never closer than 4 robust SDs to the negative peak. With no positive
   peak on the plate (all-negative / NTC plates) the threshold is negative peak + 7 SD (as
   daattali/ddpcr).
3. **Per-well adjustment.** Each well's threshold is shifted by the difference between the
   median of its own below-threshold droplets and the plate's (baseline drift between wells,
   as PoDCall does), so wells with very few positives borrow the plate's valley.
4. **Ch2 conditional on Ch1.** Ch2 thresholds are learned separately for Ch1-negative and
   Ch1-positive droplets (Ch1 fluorescence spills into Ch2 and competition lowers double-positive
   amplitudes). Among Ch1-positive droplets the lower Ch2 population is a real cluster (Ch1+Ch2-
   single positives), so its border is kept tight: min(valley, cluster + 4 SD), as daattali/ddpcr
   tightens its border to the mutant cluster's mean + 3 SD. Ch1 is then re-learned separately
   for Ch2-negative and Ch2-positive droplets.
5. **Threshold stability.** Every plate threshold is re-learned on :data:`BOOTSTRAP` Poisson
   resamples of its plate histogram (a droplet bootstrap of the histogram; seeded, so results
   are reproducible). The 2.5-97.5 % range of the resampled thresholds, shifted per well, is
   applied at its four corners (Ch1 low/high x Ch2 low/high): ``Gating.corners`` holds the
   cluster counts there, and any count derived from them gets a range (``count_range``). A
   count is ``unstable`` (:func:`unstable`) when its range exceeds max(3, 4 sqrt(count))
   droplets, i.e. when the gating uncertainty is larger than the Poisson counting uncertainty
   (95 % half-widths). One moved, added or removed droplet cannot move a threshold beyond this
   range (anchored bins, cluster mass), which the tests check droplet by droplet.
6. **Clusters, rain and outliers.** After gating, every cluster of a well (per channel, within
   the negative / positive group of the other channel) is summarised by its median and robust
   SD (1.4826 MAD; the plate's cluster, moved to the well's baseline, when the well has < 30
   droplets there). *Rain* = droplets in the clearance band between the negative cluster's
   upper edge and the positive cluster's lower edge, edges at median +- 5 robust SD (the
   population bands of cloudy, Lievens et al. 2016, PLoS One 11:e0153317, whose
   kurtosis-dependent multiplier is about 5 for a normal cluster); a well is flagged ``rain``
   when rain exceeds 2.5 % of its droplets in a channel (their %rain rejection limit).
   *Outliers* = droplets below the negative cluster or above the positive cluster by three
   times the distance from the cluster's median to its outer 0.5 % quantile (~7.7 SD for a
   normal cluster, wider for the heavy tails real clusters have; the plate's cluster when the
   well has < 200 droplets there). They are still counted by the threshold (a droplet above
   it is positive) but never shape it; every row reports them (``outlier_droplets``). A well is
   flagged ``amplitude_outliers`` when, in a channel, the droplets above the positive cluster
   (counted positive) number at least sqrt(positives) - the count's Poisson SD - or 10 % of
   the positives, or more than 1 % of its droplets lie below the negative cluster (there they
   cannot change a count, but point to a damaged well).

Manual thresholds (``thresholds={"ch1": 6789, "ch2": 3000}`` or per well) override everything
(a crosshair, as QuantaSoft's threshold mode); they carry no stability range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from kinresist.ddpcr.plate import Plate
from kinresist.errors import InputError

__all__ = ["Gating", "gate_plate", "unstable"]

EDGE_SD = 5.0
EDGE_SPILL = False
SPILL_SD = 4.0
#: droplets a positive peak must hold (within +-8 bins) to count as a cluster
MIN_CLUSTER = 10
#: a positive peak lies this many negative-cluster SDs above the negative peak (tuning set:
#: secondary negative populations at 5.0-6.0 SD, the closest real positive cluster at 16.1 SD)
MIN_SEPARATION_SD = 10.0
#: Poisson resamples of each plate histogram for the threshold's stability range
BOOTSTRAP = 40
#: cluster bands (robust SD) for rain; outlier fences at OUTLIER_TAIL x (median - 0.5 % quantile)
BAND_SD = 5.0
OUTLIER_TAIL = 3.0
#: rain (clearance-band droplets / accepted droplets) above which a well is flagged
RAIN_LIMIT = 0.025
#: a gating range wider than max(UNSTABLE_MIN, UNSTABLE_Z * sqrt(positives)) is unstable
UNSTABLE_MIN = 3.0
UNSTABLE_Z = 4.0
#: below-the-negative-cluster droplets (harmless to the counts) are flagged above this fraction
LOW_OUTLIER_LIMIT = 0.01
_TARGET_BINS = 512
_R10 = np.array([1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0, 5.0, 6.3, 8.0, 10.0])
_MIN_BAND = 30
_SPAN_RANK = 4
_BINS_PER_SD = 16
#: a peak is the highest point within +-PEAK_WINDOW bins
PEAK_WINDOW = 10
_MIN_TAIL = 200
_SEED = 20240415


@dataclass(frozen=True)
class Gating:
    """Result of gating a plate.

    Attributes
    ----------
    labels
        Cluster code per droplet (1 = Ch1-Ch2-, 2 = Ch1+Ch2-, 3 = Ch1+Ch2+, 4 = Ch1-Ch2+).
    counts
        (n_wells, 4) droplet counts for codes 1-4.
    thr_ch1, thr_ch1_pos2, thr_ch2_neg, thr_ch2_pos
        Per-well thresholds: Ch1 for Ch2-negative and for Ch2-positive droplets, Ch2 for
        Ch1-negative and for Ch1-positive droplets.
    rain_fraction
        (n_wells, 2) droplets in the clearance band between the clusters / accepted droplets.
    rain_flag
        Wells whose rain exceeds :data:`RAIN_LIMIT` in a channel.
    method
        ``"auto"`` or ``"manual"``.
    corners
        (5, n_wells, 4) cluster counts at the nominal thresholds and at the four corners of the
        thresholds' bootstrap ranges (Ch1 low/high x Ch2 low/high); all equal when manual.
    outliers_low, outliers_high
        (n_wells, 2) droplets far below the negative / above the positive cluster per channel.
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
    corners: np.ndarray | None = None
    outliers_low: np.ndarray | None = None
    outliers_high: np.ndarray | None = None

    def count_range(
        self, positives: Callable[[np.ndarray], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) per well of a count derived from the cluster counts, e.g.
        ``lambda c: c[..., 1] + c[..., 2]`` (Ch1 positives), over the threshold ranges."""
        stack = self.corners if self.corners is not None else self.counts[None]
        values = np.stack([positives(c) for c in stack])
        return values.min(axis=0), values.max(axis=0)

    def outlier_flag(self) -> np.ndarray:
        """Wells where outliers matter: in a channel, droplets above the positive cluster (they
        are counted positive) numbering at least sqrt(positives) - the count's Poisson SD - or
        10 % of the positives, or more than :data:`LOW_OUTLIER_LIMIT` of the droplets below
        the negative cluster (there they cannot change a count, but so many point to a damaged
        well)."""
        if self.outliers_low is None or self.outliers_high is None:
            return np.zeros(len(self.counts), dtype=bool)
        c = self.counts
        n = np.maximum(c.sum(axis=1), 1)
        positives = np.stack([c[:, 1] + c[:, 2], c[:, 2] + c[:, 3]], axis=1)
        high = (self.outliers_high >= np.sqrt(positives)) | (self.outliers_high >= 0.1 * positives)
        low = self.outliers_low > LOW_OUTLIER_LIMIT * n[:, None]
        return np.asarray((high & (self.outliers_high > 0)).any(axis=1) | low.any(axis=1))


@dataclass(frozen=True)
class _Grid:
    """Bins of width ``width`` whose edges are multiples of ``width`` (anchored at 0)."""

    lo: float
    width: float
    nbins: int

    def index(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((x - self.lo) / self.width), 0, self.nbins - 1).astype(np.int64)

    def centers(self) -> np.ndarray:
        return self.lo + (np.arange(self.nbins) + 0.5) * self.width


def _nice(raw: float) -> float:
    """``raw`` rounded down to the R10 series (1, 1.25, 1.6, ... 8 x 10^k)."""
    decade = 10.0 ** np.floor(np.log10(raw))
    return float(decade * _R10[_R10 <= raw / decade * (1 + 1e-12)].max())


def _grid(x: np.ndarray) -> _Grid:
    if x.size == 0:
        return _Grid(0.0, 1.0, 1)
    # the span: from the k-th smallest to the k-th largest droplet, k = max(4, 0.01 % of the
    # droplets) (~ the 0.01 / 99.99 % quantiles, which reach a well's few positives); one
    # droplet added, removed or moved shifts these order statistics by one rank at most
    k = min(max(_SPAN_RANK, int(np.ceil(1e-4 * x.size))), (x.size - 1) // 2 + 1)
    part = np.partition(x, (k - 1, x.size - k))
    q_lo, q_hi = float(part[k - 1]), float(part[x.size - k])
    span = q_hi - q_lo
    if span <= 0:
        span = max(abs(q_hi), 1.0) * 1e-3
    width = _nice(span / _TARGET_BINS)
    grid = _span_grid(x, q_lo, q_hi, span, width)
    # a single population spans little: bins no finer than 1/16 of the tallest cluster's SD
    # (from its half-width at half maximum), or sampling noise makes peaks on its flanks
    h = gaussian_filter1d(np.bincount(grid.index(x), minlength=grid.nbins).astype(float), 4.0)
    top = int(np.argmax(h))
    left = np.flatnonzero(h[:top] < h[top] / 2)
    if left.size:
        sd = (top - left[-1]) * width / 1.1774
        if width < sd / _BINS_PER_SD:
            width = _nice(sd / _BINS_PER_SD)
            grid = _span_grid(x, q_lo, q_hi, span, width)
    return grid


def _span_grid(x: np.ndarray, q_lo: float, q_hi: float, span: float, width: float) -> _Grid:
    a = np.floor(max(float(x.min()), q_lo - span) / width)
    b = np.ceil(min(float(x.max()), q_hi + 4 * span) / width)
    return _Grid(float(a * width), width, int(max(b - a, 1)) + 1)


@dataclass(frozen=True)
class _ChannelModel:
    threshold: float
    neg_peak: float
    neg_sd: float
    pos_peak: float  # NaN when no positive cluster on the plate
    pos_sd: float = float("nan")


def _model_from_hist(hist: np.ndarray, grid: _Grid, *, edge_rule: bool = True) -> _ChannelModel:
    width = grid.width
    h = gaussian_filter1d(hist.astype(float), 2.0)
    centers = grid.centers()
    top = h.max()
    if top <= 0:
        return _ChannelModel(np.nan, np.nan, np.nan, np.nan)
    # a peak is the highest point within +-PEAK_WINDOW bins (as cloudy's peak finder), so
    # sampling bumps on a cluster's flank are not peaks; the first bin of a flat top counts
    wmax = maximum_filter1d(h, size=2 * PEAK_WINDOW + 1, mode="constant")
    is_peak = (h >= wmax) & (h > np.r_[0.0, h[:-1]])
    is_peak[[0, -1]] = False
    peaks = np.flatnonzero(is_peak & (h >= 0.05 * top))
    neg = int(peaks[0]) if peaks.size else int(np.argmax(h))
    center, sd = _cluster_center(hist, h, centers, neg)
    sd = max(sd, width)
    total = hist.sum()
    floor = max(0.0005 * top, 3.0 / max(total, 1) * top)
    above = centers > center + MIN_SEPARATION_SD * sd
    cands = np.flatnonzero(is_peak & (h >= floor) & above)
    if cands.size:
        # a cluster holds droplets: one or a few stray droplets never make a positive peak
        cands = cands[[_mass(hist, h, int(c)) >= MIN_CLUSTER for c in cands]]
    if cands.size:
        prom = np.array([h[c] - h[neg : c + 1].min() for c in cands])
        # skip bumps of rain: a positive peak must stand out by >= 10 % of the most prominent one
        keep = prom >= 0.1 * prom.max()
        cands, prom = cands[keep], prom[keep]
        pos = int(cands[np.argmax(prom)])
        seg = h[neg : pos + 1]
        # lowest point of the valley; a flat floor (sparse rain) -> its middle
        mins = np.flatnonzero(seg <= seg.min() + 0.05 * (h[pos] - seg.min()) * 0.1)
        valley = neg + int(np.round(mins.mean()))
        # rain between the clusters counts as negative up to the positive cluster's lower edge;
        # the cluster's robust SD from the droplets of [valley, mirror of the valley] (1.4826 MAD)
        psd = max(_window_mad(hist, centers, valley, pos), width)
        edge = centers[pos] - EDGE_SD * psd
        if edge_rule:
            thr = max(centers[valley], edge, center + 4 * sd)
        else:  # spill-over group: the lower cluster is real (single positives), keep the border tight
            thr = min(centers[valley], center + SPILL_SD * sd)
        return _ChannelModel(float(thr), center, float(sd), float(centers[pos]), float(psd))
    return _ChannelModel(float(center + 7 * sd), center, float(sd), np.nan)


def _cluster_center(
    hist: np.ndarray, smooth: np.ndarray, centers: np.ndarray, peak: int
) -> tuple[float, float]:
    """Median and robust SD (1.4826 MAD) of the droplets of the cluster at ``peak``: from where
    its left flank falls below 5 % of the peak to as far right of the peak (the right side
    carries rain and spill-over, so it is mirrored rather than followed). Stable where a flat
    top or the half-maximum crossing of a small cluster is not."""
    low = np.flatnonzero(smooth[:peak] < 0.05 * smooth[peak])
    a = int(low[-1]) + 1 if low.size else 0
    b = min(2 * peak - a + 1, hist.size)
    hh = hist[a:b].astype(float)
    if hh.sum() < 20:
        return float(centers[peak]), float("nan") if hh.sum() == 0 else _hwhm_sd(
            smooth, centers, peak
        )
    cum = np.cumsum(hh)
    med = float(centers[a:b][np.searchsorted(cum, cum[-1] / 2)])
    dev = np.abs(centers[a:b] - med)
    order = np.argsort(dev, kind="stable")
    cd = np.cumsum(hh[order])
    return med, float(1.4826 * dev[order][np.searchsorted(cd, cd[-1] / 2)])


def _hwhm_sd(smooth: np.ndarray, centers: np.ndarray, peak: int) -> float:
    left = np.flatnonzero(smooth[: peak + 1] < smooth[peak] / 2)
    hw = (peak - left[-1]) if left.size else 2
    return float(hw * (centers[1] - centers[0] if centers.size > 1 else 1.0) / 1.1774)


def _mass(hist: np.ndarray, smooth: np.ndarray, peak: int) -> float:
    """Droplets in the contiguous bins around ``peak`` above half its smoothed height."""
    half = smooth[peak] / 2
    below = np.flatnonzero(smooth[:peak] < half)
    above = np.flatnonzero(smooth[peak:] < half)
    a = int(below[-1]) + 1 if below.size else 0
    b = peak + int(above[0]) if above.size else smooth.size
    return float(hist[a:b].sum())


def _window_mad(hist: np.ndarray, centers: np.ndarray, valley: int, peak: int) -> float:
    """1.4826 x the median absolute deviation (from the peak) of the droplets in
    [valley, 2 peak - valley]: the positive cluster's robust SD."""
    b = min(2 * peak - valley + 1, hist.size)
    hh = hist[valley:b].astype(float)
    if hh.sum() <= 0:
        return float("nan")
    dev = np.abs(centers[valley:b] - centers[peak])
    order = np.argsort(dev, kind="stable")
    cum = np.cumsum(hh[order])
    return float(1.4826 * dev[order][np.searchsorted(cum, cum[-1] / 2)])


def _well_hists(idx: np.ndarray, well: np.ndarray, nwells: int, grid: _Grid) -> np.ndarray:
    """Per-well histograms of droplets already binned (``idx`` = bin index per droplet)."""
    nb = grid.nbins
    return np.bincount(well.astype(np.int64) * nb + idx, minlength=nwells * nb).reshape(nwells, nb)


@dataclass(frozen=True)
class _Channel:
    """A channel's amplitudes with their grid and bin index (computed once per plate)."""

    x: np.ndarray
    grid: _Grid
    idx: np.ndarray


def _channel(x: np.ndarray) -> _Channel:
    grid = _grid(x)
    return _Channel(x, grid, grid.index(x))


def _median_below(hists: np.ndarray, cut_bins: np.ndarray, grid: _Grid) -> np.ndarray:
    """Per-well median amplitude of droplets in bins below ``cut_bins`` (NaN when none)."""
    nb = hists.shape[1]
    mask = np.arange(nb)[None, :] < cut_bins[:, None]
    h = np.where(mask, hists, 0)
    cs = np.cumsum(h, axis=1)
    tot = cs[:, -1]
    med_bin = np.argmax(cs >= (tot / 2)[:, None], axis=1)
    return np.where(tot > 0, grid.lo + (med_bin + 0.5) * grid.width, np.nan)


@dataclass(frozen=True)
class _Learned:
    thr: np.ndarray  # per well
    lo: np.ndarray  # per well, 2.5 % of the bootstrap thresholds (shifted)
    hi: np.ndarray
    model: _ChannelModel
    shift: np.ndarray


def _learn(
    ch: _Channel,
    well: np.ndarray,
    nwells: int,
    sel: np.ndarray | None,
    *,
    rng: np.random.Generator,
    shift: np.ndarray | None = None,
    edge_rule: bool = True,
) -> _Learned:
    """Per-well thresholds of channel ``ch`` (droplets ``sel``), their bootstrap range, the model."""
    grid = ch.grid
    idx, ws = (ch.idx, well) if sel is None else (ch.idx[sel], well[sel])
    hists = _well_hists(idx, ws, nwells, grid)
    plate_h = hists.sum(axis=0)
    model = _model_from_hist(plate_h, grid, edge_rule=edge_rule)
    if not np.isfinite(model.threshold):
        nan = np.full(nwells, np.nan)
        return _Learned(nan, nan.copy(), nan.copy(), model, np.zeros(nwells))
    if shift is None:
        cut = np.full(nwells, int((model.threshold - grid.lo) / grid.width))
        plate_med = _median_below(plate_h[None, :], cut[:1], grid)[0]
        well_med = _median_below(hists, cut, grid)
        n_below = np.where(np.arange(grid.nbins)[None, :] < cut[:, None], hists, 0).sum(axis=1)
        shift = np.where(np.isfinite(well_med) & (n_below >= 50), well_med - plate_med, 0.0)
    boot = np.array(
        [
            _model_from_hist(r, grid, edge_rule=edge_rule).threshold
            for r in rng.poisson(plate_h, size=(BOOTSTRAP, plate_h.size))
        ]
    )
    boot = boot[np.isfinite(boot)]
    t_lo, t_hi = (
        np.percentile(boot, [2.5, 97.5]) if boot.size else (model.threshold, model.threshold)
    )
    t_lo, t_hi = min(t_lo, model.threshold), max(t_hi, model.threshold)
    return _Learned(model.threshold + shift, t_lo + shift, t_hi + shift, model, shift)


def _labels(
    x1: np.ndarray,
    x2: np.ndarray,
    w: np.ndarray,
    t: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    simplex: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t1, t1p, t2n, t2p = t
    pos1 = x1 > t1[w]
    if simplex:
        return np.where(pos1, 2, 1).astype(np.int8), pos1, np.zeros_like(pos1)
    pos2 = np.where(pos1, x2 > t2p[w], x2 > t2n[w])
    pos1 = np.where(pos2, x1 > t1p[w], x1 > t1[w])
    labels = np.select([~pos1 & ~pos2, pos1 & ~pos2, pos1 & pos2], [1, 2, 3], 4).astype(np.int8)
    return labels, pos1, pos2


def _between(
    x: np.ndarray, w: np.ndarray, a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Droplets inside either of two per-well threshold ranges (``a``, ``b`` = (low, high))."""
    lo = np.fmin(a[0], b[0])[w]
    hi = np.fmax(a[1], b[1])[w]
    return np.asarray((x >= lo) & (x <= hi))


def _cluster_counts(labels: np.ndarray, w: np.ndarray, nw: int) -> np.ndarray:
    return np.bincount(w.astype(np.int64) * 5 + labels, minlength=nw * 5).reshape(nw, 5)[:, 1:]


def _check(plate: Plate) -> None:
    bad = ~np.isfinite(plate.ch1)
    if not plate.simplex:
        bad |= ~np.isfinite(plate.ch2)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        well = plate.wells[int(plate.well_index[i])]
        msg = (
            f"well {well}: a droplet has a non-finite amplitude (Ch1 {plate.ch1[i]}, Ch2 "
            f"{plate.ch2[i]}); every droplet needs finite amplitudes in every channel it reports"
        )
        raise InputError(msg, path=plate.sources[int(plate.well_index[i])])


def gate_plate(
    plate: Plate,
    *,
    thresholds: Mapping[str, float] | Mapping[str, tuple[float, float]] | None = None,
) -> Gating:
    """Gate every droplet of ``plate`` (see the module docstring for the algorithm).

    Parameters
    ----------
    thresholds
        Manual crosshair: ``{"ch1": t1, "ch2": t2}`` for the whole plate, or ``{well: (t1, t2)}``
        per well (wells not listed are gated automatically).
    """
    _check(plate)
    nw = len(plate.wells)
    w = plate.well_index
    x1, x2 = plate.ch1, plate.ch2
    simplex = plate.simplex
    whole = bool(thresholds) and "ch1" in thresholds and ("ch2" in thresholds or simplex)  # type: ignore[operator]
    c1 = _channel(x1)
    c2 = None if simplex else _channel(x2)
    if whole:
        nan = np.full(nw, np.nan)
        auto = {k: nan.copy() for k in ("t1", "t1p", "t2n", "t2p")}
        bounds = {k: (nan.copy(), nan.copy()) for k in ("t1", "t1p", "t2n", "t2p")}
    else:
        auto, bounds = _auto(plate, c1, c2)
    t1, t1p, t2n, t2p = auto["t1"], auto["t1p"], auto["t2n"], auto["t2p"]
    method = "auto"
    manual = np.zeros(nw, dtype=bool)
    if thresholds:
        method = "manual"
        if "ch1" in thresholds or "ch2" in thresholds:
            if "ch1" in thresholds:
                t1 = t1p = np.full(nw, float(thresholds["ch1"]))  # type: ignore[arg-type]
                manual[:] = True
            if "ch2" in thresholds:
                t2n = t2p = np.full(nw, float(thresholds["ch2"]))  # type: ignore[arg-type]
                manual[:] = True
        else:
            for well, pair in thresholds.items():
                if well not in plate.wells:
                    msg = f"manual threshold for well {well}, which is not on the plate"
                    raise InputError(msg)
                i = plate.wells.index(well)
                a, b = pair  # type: ignore[misc]
                t1[i] = t1p[i] = a
                t2n[i] = t2p[i] = b
                manual[i] = True
    nominal = (t1, t1p, t2n, t2p)
    labels, pos1, pos2 = _labels(x1, x2, w, nominal, simplex=simplex)
    counts = _cluster_counts(labels, w, nw)
    # the counts at the ends of the thresholds' bootstrap ranges (manual wells: no range);
    # only droplets inside a range can change cluster, so only they are relabelled
    ends: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for k, thr in (("t1", t1), ("t1p", t1p), ("t2n", t2n), ("t2p", t2p)):
        lo_b, hi_b = (np.where(manual | ~np.isfinite(b), thr, b) for b in bounds[k])
        ends[k] = (lo_b, hi_b)
    zone = _between(x1, w, ends["t1"], ends["t1p"])
    if not simplex:
        zone |= _between(x2, w, ends["t2n"], ends["t2p"])
    sub = np.flatnonzero(zone)
    ws = w[sub]
    base = _cluster_counts(labels[sub], ws, nw)
    corners = [counts]
    for e1 in (0, 1):
        for e2 in (0, 1):
            t = (ends["t1"][e1], ends["t1p"][e1], ends["t2n"][e2], ends["t2p"][e2])
            moved = _labels(x1[sub], x2[sub], ws, t, simplex=simplex)[0]
            corners.append(counts - base + _cluster_counts(moved, ws, nw))
    rain, low, high = _bands(plate, pos1, pos2, [c1] if c2 is None else [c1, c2])
    n = np.maximum(np.diff(plate.offsets), 1)
    frac = rain / n[:, None]
    flag = np.asarray((frac > RAIN_LIMIT).any(axis=1))
    return Gating(
        labels, counts, t1, t1p, t2n, t2p, frac, flag, method,
        corners=np.stack(corners), outliers_low=low, outliers_high=high,
    )  # fmt: skip


def unstable(low: np.ndarray, high: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """A count whose threshold range moves it by more than the Poisson uncertainty:
    high - low > max(:data:`UNSTABLE_MIN`, :data:`UNSTABLE_Z` sqrt(positives))."""
    p = np.maximum(np.asarray(positives, float), 0)
    return np.asarray((high - low) > np.maximum(UNSTABLE_MIN, UNSTABLE_Z * np.sqrt(p)))


def _group_stats(
    idx: np.ndarray, key: np.ndarray, ngroups: int, grid: _Grid
) -> dict[str, np.ndarray]:
    """Per-group droplet count, 0.5 / 50 / 99.5 % quantiles, robust SD (1.4826 MAD) and the
    histogram, from the binned amplitudes (``idx``; bin-width precision)."""
    nb = grid.nbins
    h = np.bincount(key * nb + idx, minlength=ngroups * nb).reshape(ngroups, nb)
    n = h.sum(axis=1)
    cs = np.cumsum(h, axis=1)

    def quantile(q: float) -> np.ndarray:
        # in a small group the 0.5 / 99.5 % quantiles would be its extreme droplets (possibly
        # the outliers themselves): never closer to an end than the third droplet from it
        t = np.clip(q * n, np.minimum(3, n), np.maximum(n - 2, 1))
        b = np.argmax(cs >= t[:, None], axis=1)
        return np.where(n > 0, grid.lo + (b + 0.5) * grid.width, np.nan)

    med_bin = np.argmax(cs >= (n / 2)[:, None], axis=1)
    dev_bin = np.minimum(np.abs(idx - med_bin[key]), nb - 1)
    hd = np.bincount(key * nb + dev_bin, minlength=ngroups * nb).reshape(ngroups, nb)
    mad_bin = np.argmax(np.cumsum(hd, axis=1) >= (n / 2)[:, None], axis=1)
    rsd = np.where(n > 0, 1.4826 * np.maximum(mad_bin, 0.5) * grid.width, np.nan)
    return {"n": n, "lo": quantile(0.005), "med": quantile(0.5), "hi": quantile(0.995),
            "rsd": rsd, "hist": h}  # fmt: skip


def _bands(
    plate: Plate, pos1: np.ndarray, pos2: np.ndarray, chans: list[_Channel]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rain (clearance-band droplets) and low / high outliers per well x channel (module
    docstring, 6)."""
    nw = len(plate.wells)
    w = plate.well_index.astype(np.int64)
    rain = np.zeros((nw, 2))
    low = np.zeros((nw, 2), dtype=np.int64)
    high = np.zeros((nw, 2), dtype=np.int64)
    states = [(pos1, pos2), (pos2, pos1)]
    for c, ch in enumerate(chans):
        x, grid = ch.x, ch.grid
        if x.size == 0:
            continue
        pos, other = states[c]
        # groups: well x other-channel state x side (negative / positive in this channel)
        g = other.astype(np.int64)
        key = (w * 2 + g) * 2 + pos.astype(np.int64)
        stats = _group_stats(ch.idx, key, nw * 4, grid)
        st_hist = stats.pop("hist")
        st = {k: v.reshape(nw, 2, 2) for k, v in stats.items()}
        pooled_stats = _group_stats(ch.idx, key % 4, 4, grid)
        pooled_stats.pop("hist")
        pooled = {k: v.reshape(2, 2) for k, v in pooled_stats.items()}
        few = st["n"] < _MIN_BAND
        # too few droplets in the well: the plate's cluster, moved with the well's baseline
        base = st["med"][:, :, 0] - pooled["med"][None, :, 0]
        base = np.nan_to_num(np.where(few[:, :, 0], 0.0, base))
        for k, small in (
            ("med", few),
            ("rsd", few),
            ("lo", st["n"] < _MIN_TAIL),
            ("hi", st["n"] < _MIN_TAIL),
        ):
            shifted = pooled[k][None, :, :] + (0.0 if k == "rsd" else base[:, :, None])
            st[k] = np.where(small, shifted, st[k])
        # counted on the (well, other-channel state) histograms, both sides together, at
        # bin precision: cum[j] = droplets in bins < j
        hist = st_hist.reshape(nw * 2, 2, grid.nbins).sum(axis=1)
        cum = np.concatenate([np.zeros((nw * 2, 1)), np.cumsum(hist, axis=1)], axis=1)

        def below(edge: np.ndarray, grid: _Grid = grid, cum: np.ndarray = cum) -> np.ndarray:
            return _below(edge, grid, cum)

        # rain: the clearance band between the clusters' bands (median +- BAND_SD robust SD)
        neg_hi = st["med"][:, :, 0] + BAND_SD * st["rsd"][:, :, 0]
        pos_lo = st["med"][:, :, 1] - BAND_SD * st["rsd"][:, :, 1]
        band = np.nan_to_num(np.maximum(below(pos_lo) - below(neg_hi), 0))
        rain[:, c] = band.reshape(nw, 2).sum(axis=1)
        # outliers: as far beyond the cluster's outer 0.5 % as that lies from its median
        # (below the negative cluster, above the positive one)
        med_n, med_p = st["med"][:, :, 0], st["med"][:, :, 1]
        lf = med_n - OUTLIER_TAIL * (med_n - st["lo"][:, :, 0])
        hf = med_p + OUTLIER_TAIL * (st["hi"][:, :, 1] - med_p)
        n_g = cum[:, -1]
        low[:, c] = np.nan_to_num(below(lf)).reshape(nw, 2).sum(axis=1).astype(np.int64)
        above = np.nan_to_num(n_g - below(hf + grid.width))
        high[:, c] = above.reshape(nw, 2).sum(axis=1).astype(np.int64)
    return rain, low, high


def _below(edge: np.ndarray, grid: _Grid, cum: np.ndarray) -> np.ndarray:
    """Droplets below ``edge`` (one amplitude per group) from the groups' cumulative
    histograms ``cum`` (``cum[:, j]`` = droplets in bins < j); NaN where the edge is."""
    e = edge.ravel()
    j = np.clip(np.floor((e - grid.lo) / grid.width), 0, grid.nbins)
    j = np.where(np.isfinite(j), j, 0).astype(np.int64)
    return np.where(np.isfinite(e), cum[np.arange(cum.shape[0]), j], np.nan)


def _auto(
    plate: Plate, c1: _Channel, c2: _Channel | None
) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
    nw = len(plate.wells)
    w = plate.well_index
    x1 = plate.ch1
    rng = np.random.default_rng(_SEED)
    a1 = _learn(c1, w, nw, None, rng=rng)
    if not np.isfinite(a1.thr).all():
        files = ", ".join(plate.sources[:3]) + (" ..." if len(plate.sources) > 3 else "")
        msg = (
            f"cannot gate: no well of the plate holds droplets ({files}); the exports have a "
            "header only - export 'Amplitude and Cluster data' again from QuantaSoft / QX Manager"
        )
        raise InputError(msg, path=plate.sources[0] if plate.sources else None)
    if c2 is None:
        nan = np.full(nw, np.nan)
        thr = {"t1": a1.thr, "t1p": a1.thr.copy(), "t2n": nan, "t2p": nan.copy()}
        rng_ = {"t1": (a1.lo, a1.hi), "t1p": (a1.lo, a1.hi), "t2n": (nan, nan), "t2p": (nan, nan)}
        return thr, rng_
    x2 = c2.x
    pos1 = x1 > a1.thr[w]
    # baseline shifts are measured on the large negative population and reused for the
    # conditional (spill-over) groups, whose own negatives may be a handful of droplets
    b2n = _learn(c2, w, nw, ~pos1, rng=rng)
    b2p = _learn(c2, w, nw, pos1, rng=rng, shift=b2n.shift, edge_rule=EDGE_SPILL)
    if not np.isfinite(b2p.thr).all() or not np.isfinite(b2p.model.pos_peak) or pos1.sum() < 200:
        b2p = b2n
    pos2 = np.where(pos1, x2 > b2p.thr[w], x2 > b2n.thr[w])
    b1n = _learn(c1, w, nw, ~pos2, rng=rng)
    b1p = _learn(c1, w, nw, pos2, rng=rng, shift=b1n.shift)
    if not np.isfinite(b1n.thr).all():
        b1n = a1
    if not np.isfinite(b1p.thr).all() or not np.isfinite(b1p.model.pos_peak) or pos2.sum() < 200:
        b1p = b1n
    thr = {"t1": b1n.thr, "t1p": b1p.thr, "t2n": b2n.thr, "t2p": b2p.thr}
    ranges = {
        "t1": (b1n.lo, b1n.hi),
        "t1p": (b1p.lo, b1p.hi),
        "t2n": (b2n.lo, b2n.hi),
        "t2p": (b2p.lo, b2p.hi),
    }
    return thr, ranges
