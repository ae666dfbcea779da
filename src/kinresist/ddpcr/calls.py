"""Detected / not detected / indeterminate calls with the lab's own limits (spec §4, §6).

Rules (per row of a quantified table, i.e. per well x channel or per merged sample x channel):

1. ``indeterminate`` when the well failed (accepted droplets < ``min_droplets``, default 5,000),
   when a duplex well has no positive droplet in the other (reference) channel (no amplifiable
   template: absence cannot be claimed), or when the LoD fraction exceeds ``max_lod_fa``.
2. ``detected`` when positives >= k, the droplet cutoff from the LoB rule; downgraded to
   ``indeterminate`` when an NTC of the same target reaches k (contamination).
3. otherwise ``not_detected``, always reported with its LoD (copies/µL and, for duplex wells, as
   a fractional abundance) - never as 0 %.

Blank-derived LoB rules apply to the mutant (channel 1) rows; channel 2 (reference) rows get a
presence call with the static cutoff. LoB rules: ``static`` (k droplets, default 3 as ALPACA's comparator), ``adaptive`` (binomial with
the false-positive rate per WT molecule from WT-only blank wells), ``ep17_nonparametric`` and
``ep17_parametric`` (from the positive-droplet counts of all blank wells).

FPR for the adaptive rule (``fpr_estimate``): by default the EP17 non-parametric 95th percentile
of the per-blank-sample rates (when >= 3 blank samples; never below the pooled rate), because
background differs between samples and a pooled mean under-states it for the noisier ones;
``pooled`` = total false positives / total WT molecules (rule-of-three bound when none seen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from kinresist.ddpcr.limits import (
    adaptive_lob,
    cutoff_from_lob,
    fpr_per_molecule,
    lob_nonparametric,
    lob_parametric,
    lod_copies,
)

__all__ = [
    "CallSettings",
    "call_rows",
    "call_texts",
    "describe_call",
    "gating_uncertainty",
    "is_ntc",
]

LobRule = Literal["static", "adaptive", "ep17_nonparametric", "ep17_parametric"]
_NTC_RE = re.compile(
    r"(^|[^a-z])(ntc|no[ _-]?template|h2o|water|blank|neg(ative)?[ _-]?ctrl)([^a-z]|$)", re.I
)


@dataclass(frozen=True)
class CallSettings:
    """Options of the calling step (all keyword-only in the API)."""

    lob_rule: LobRule | None = None
    static_lob_droplets: int = 3
    blank_samples: tuple[str, ...] = ()
    min_droplets: int = 5000
    low_droplets: int = 10000
    max_lod_fa: float | None = None
    fpr: float | None = None
    fpr_estimate: Literal["p95_of_samples", "pooled"] = "p95_of_samples"


def is_ntc(sample: str, target_type: str = "") -> bool:
    """No-template control by TargetType (``Ch1NTC``) or sample name (NTC, water, blank, ...)."""
    return "ntc" in target_type.lower() or bool(_NTC_RE.search(sample or ""))


def _other_channel_lambda_n(frame: pd.DataFrame) -> np.ndarray:
    """WT (other-channel) molecules analysed per row: lambda_other * N, from the cluster counts."""
    n = frame["accepted"].to_numpy(float)
    if {"pp", "pn", "np"} <= set(frame.columns):
        p1 = (frame["pp"] + frame["pn"]).to_numpy(float)
        p2 = (frame["pp"] + frame["np"]).to_numpy(float)
        other = np.where(frame["channel"].to_numpy() == 1, p2, p1)
    else:
        other = np.full(len(frame), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.log1p(-other / n) * n


def call_rows(
    frame: pd.DataFrame, *, volume_ul: float, settings: CallSettings | None = None
) -> pd.DataFrame:
    """Add ``call``, ``lob_droplets``, ``lob_rule``, ``lod_copies_per_ul``, ``lod_fa``,
    ``lob_copies_per_ul``, ``lob_fa`` (the LoB as k - 1 droplets, in concentration / FA units)
    and ``flags``.

    ``frame`` needs well, channel, positives, accepted (and sample, target, target_type, the cluster
    counts pp/pn/np/nn when known).
    """
    s = settings or CallSettings()
    out = frame.copy()
    n = out["accepted"].to_numpy(float)
    p = out["positives"].to_numpy(float)
    sample = out.get("sample", pd.Series("", index=out.index)).fillna("").astype(str)
    ttype = out.get("target_type", pd.Series("", index=out.index)).fillna("").astype(str)
    target = out.get("target", pd.Series("", index=out.index)).fillna("").astype(str)
    key = target + "|" + out["channel"].astype(str)
    ntc = np.array([is_ntc(a, b) for a, b in zip(sample, ttype, strict=True)])
    wt_blank = sample.isin(s.blank_samples).to_numpy() & ~ntc
    wt_n = _other_channel_lambda_n(out)
    with np.errstate(divide="ignore", invalid="ignore"):
        mol = -np.log1p(-p / np.where(n > 0, n, np.nan)) * n + np.nan_to_num(wt_n, posinf=0.0)
    rule = s.lob_rule or ("adaptive" if wt_blank.any() else "static")
    k = np.full(len(out), float(s.static_lob_droplets))
    background = np.zeros(len(out))
    fpr_used = np.full(len(out), np.nan)
    applied = np.zeros(len(out), dtype=bool)
    channel = out["channel"].to_numpy()
    for kk in key.unique():
        sel = (key == kk).to_numpy()
        if not (channel[sel] == 1).all():
            continue  # reference (wild-type) channel: presence call with the static cutoff
        blanks = sel & (ntc | wt_blank)
        if rule == "adaptive":
            fsel = sel & wt_blank
            if s.fpr is not None:
                fpr = s.fpr
            elif fsel.any():
                fpr = _blank_fpr(p[fsel], wt_n[fsel], sample[fsel].to_numpy(), s.fpr_estimate)
            else:
                continue  # no blanks for this target: static cutoff kept
            fpr_used[sel] = fpr
            applied[sel] = True
            k[sel] = adaptive_lob(mol[sel], fpr)
            background[sel] = fpr * np.nan_to_num(wt_n[sel])
        elif rule in ("ep17_nonparametric", "ep17_parametric") and blanks.sum() >= 2:
            vals = p[blanks]
            lob = (
                lob_nonparametric(vals)
                if rule == "ep17_nonparametric"
                else lob_parametric(vals, n_samples=max(1, sample[blanks].nunique()))
            )
            k[sel] = cutoff_from_lob(lob)
            applied[sel] = True
    k = np.maximum(k, 1)
    lod_m = lod_copies(k, background)
    with np.errstate(divide="ignore", invalid="ignore"):
        lod_conc = lod_m / (n * volume_ul)
        lod_fa = 100 * lod_m / (lod_m + wt_n)
        # LoB = the largest droplet count still called blank (k - 1), as molecules
        lob_m = -np.log1p(-np.minimum(k - 1, n) / np.where(n > 0, n, np.nan)) * n
        lob_conc = lob_m / (n * volume_ul)
        lob_fa = 100 * lob_m / (lob_m + wt_n)
    duplex = np.isfinite(wt_n)
    calls = np.where(p >= k, "detected", "not_detected").astype(object)
    flags: list[list[str]] = [[] for _ in range(len(out))]
    ntc_max = {kk: p[((key == kk).to_numpy()) & ntc].max(initial=-1) for kk in key.unique()}
    for i in range(len(out)):
        f = flags[i]
        if n[i] < s.low_droplets:
            f.append("low_droplets")
        if ntc[i]:
            f.append("ntc")
            if p[i] > 0:
                f.append("ntc_positive")
        if ntc_max[key.iloc[i]] >= k[i] and not ntc[i]:
            f.append("ntc_contamination")
            if calls[i] == "detected":
                calls[i] = "indeterminate"
        if n[i] < s.min_droplets:
            f.append("failed_well")
            calls[i] = "indeterminate"
        elif calls[i] == "not_detected" and duplex[i] and wt_n[i] == 0:
            f.append("no_reference_template")
            calls[i] = "indeterminate"
        elif (
            calls[i] == "not_detected"
            and s.max_lod_fa is not None
            and duplex[i]
            and lod_fa[i] > s.max_lod_fa
        ):
            f.append("insufficient_sensitivity")
            calls[i] = "indeterminate"
        if p[i] < 100 or n[i] - p[i] < 100:
            f.append("low_count_ci")
        if n[i] > 0 and p[i] >= n[i]:
            f.append("saturated")  # every droplet positive: concentration not estimable
    out["call"] = calls
    out["lob_droplets"] = k
    out["lob_rule"] = np.where(applied, rule, "static")
    out["fpr_per_molecule"] = fpr_used
    out["lod_copies_per_ul"] = lod_conc
    out["lod_fa"] = np.where(duplex, lod_fa, np.nan)
    out["lob_copies_per_ul"] = lob_conc
    out["lob_fa"] = np.where(duplex, lob_fa, np.nan)
    out["is_ntc"] = ntc
    out["flags"] = flags
    return out


def gating_uncertainty(frame: pd.DataFrame) -> pd.DataFrame:
    """Flags and calls from the gating range of each row's positive count.

    ``positives_low`` / ``positives_high`` are the positives with the thresholds at the ends of
    their bootstrap ranges (:mod:`kinresist.ddpcr.gating`, step 5; the low end also leaves out
    droplets above the positive cluster). A row is flagged ``unstable_threshold`` when that
    range is wider than the Poisson uncertainty of the count; a call that the range straddles
    (``positives_low < k <= positives_high``, k = the row's droplet cutoff) is
    ``indeterminate``, flagged ``call_depends_on_gating``: moving the threshold within its own
    uncertainty would change it. Rows of failed wells keep their call.
    """
    if not {"positives_low", "positives_high"} <= set(frame.columns):
        return frame
    from kinresist.ddpcr.gating import unstable

    out = frame.copy()
    p = out["positives"].to_numpy(float)
    lo = out["positives_low"].to_numpy(float)
    hi = out["positives_high"].to_numpy(float)
    k = out["lob_droplets"].to_numpy(float)
    shaky = unstable(lo, hi, p)
    straddle = (lo < k) & (hi >= k)
    calls = out["call"].to_numpy(object).copy()
    flags = []
    for i, f in enumerate(out["flags"]):
        f = [x for x in f if x not in ("unstable_threshold", "call_depends_on_gating")]
        if shaky[i]:
            f.append("unstable_threshold")
        if straddle[i] and "failed_well" not in f and calls[i] != "indeterminate":
            f.append("call_depends_on_gating")
            calls[i] = "indeterminate"
        flags.append(f)
    out["flags"] = flags
    out["call"] = calls
    return out


def _blank_fpr(x: np.ndarray, w: np.ndarray, samples: np.ndarray, estimate: str) -> float:
    """FPR per WT molecule from blank wells: pooled, or the EP17 non-parametric 95th percentile
    of the per-sample rates (>= 3 blank samples; robust to sample-to-sample background)."""
    pooled, _ = fpr_per_molecule(x, w)
    names = np.unique(samples)
    if estimate == "pooled" or names.size < 3:
        return pooled
    rates = []
    for name in names:
        m = samples == name
        xs, ws = float(np.nansum(x[m])), float(np.nansum(w[m]))
        if ws > 0:
            rates.append(xs / ws if xs > 0 else 0.0)
    if len(rates) < 3:
        return pooled
    return max(lob_nonparametric(rates), pooled)


def describe_call(
    call: str,
    fa: float,
    lod_fa: float,
    lod_conc: float,
    *,
    conc: float = float("nan"),
    reference: bool = False,
) -> str:
    """Human text: 'detected (FA 1.2 %)', 'not detected (LoD 0.12 %)', never '0 %'.

    ``reference`` rows (the wild-type / reference channel) are described by concentration,
    never by a fractional abundance: 'detected (812 copies/µL)'.
    """
    if call == "detected":
        if reference:
            return f"detected ({conc:.3g} copies/µL)" if np.isfinite(conc) else "detected"
        return f"detected (FA {fa:.3g} %)" if np.isfinite(fa) else "detected"
    if call == "not_detected":
        if np.isfinite(lod_fa) and not reference:
            return f"not detected (LoD {lod_fa:.2g} %)"
        return f"not detected (LoD {lod_conc:.2g} copies/µL)"
    return "indeterminate"


def call_texts(frame: pd.DataFrame, reference: np.ndarray | None = None) -> list[str]:
    """:func:`describe_call` of every row; ``reference`` marks wild-type / reference rows
    (default: every channel other than 1)."""
    ref = (frame["channel"].to_numpy() != 1) if reference is None else np.asarray(reference, bool)

    def col(name: str) -> np.ndarray:
        return frame[name].to_numpy(float) if name in frame else np.full(len(frame), np.nan)

    fa, lod_fa, lod_c, conc = (
        col("fractional_abundance"),
        col("lod_fa"),
        col("lod_copies_per_ul"),
        col("copies_per_ul"),
    )
    return [
        describe_call(str(c), fa[i], lod_fa[i], lod_c[i], conc=conc[i], reference=bool(ref[i]))
        for i, c in enumerate(frame["call"])
    ]
