"""Per well x channel quantification table from droplet counts (the QuantaSoft results rows).

Input is a *counts* frame with one row per (well, channel): ``well``, ``channel`` (1/2),
``positives``, ``accepted`` and, when known, the four cluster counts ``pp, pn, np, nn`` and
``reference_copies``. Output adds concentrations, CIs (95 % and 68 %), copies/20 µL and, on
both rows of duplex wells (as QuantaSoft prints them), ratio, fractional abundance, CNV and linkage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kinresist.ddpcr.poisson import CiMethod, ci_method_names, concentration, poisson_ci
from kinresist.ddpcr.ratios import linkage, ratio_fa

__all__ = ["merge_wells", "quantify_counts"]


def quantify_counts(
    counts: pd.DataFrame,
    *,
    volume_ul: float,
    method: CiMethod = "exact",
    table_path: str | Path | None = None,
) -> pd.DataFrame:
    """Concentrations and two-channel quantities for every row of ``counts``."""
    out = counts.copy()
    p = out["positives"].to_numpy(float)
    n = out["accepted"].to_numpy(float)
    out["copies_per_ul"] = concentration(p, n, volume_ul)
    out["copies_per_20ul"] = 20 * out["copies_per_ul"]
    for level, tag in ((0.95, "95"), (0.68, "68")):
        lo, hi = poisson_ci(p, n, volume_ul, level=level, method=method, table_path=table_path)
        out[f"ci{tag}_low"], out[f"ci{tag}_high"] = lo, hi
    out["ci_method"] = ci_method_names(p, n, method)
    p1, p2 = _channel_positives(out)
    ref = (
        out["reference_copies"].to_numpy(float)
        if "reference_copies" in out
        else np.full(len(out), np.nan)
    )
    ref = np.where(np.isfinite(ref), ref, 2.0)
    for level, tag in ((0.95, ""), (0.68, "68")):
        r = ratio_fa(p1, p2, n, volume_ul=volume_ul, level=level, reference_copies=ref)
        if not tag:
            out["ratio"], out["fractional_abundance"], out["cnv"] = r["ratio"], r["fa"], r["cnv"]
            out["ratio_method"] = r["method"]
        for q in ("ratio", "fa", "cnv"):
            out[f"{q}_ci{tag or '95'}_low"], out[f"{q}_ci{tag or '95'}_high"] = (
                r[f"{q}_low"],
                r[f"{q}_high"],
            )
    duplex = np.isfinite(p1) & np.isfinite(p2)
    for c in [c for c in out.columns if c.startswith(("ratio", "fa_", "cnv", "fractional"))]:
        if c != "ratio_method":
            out.loc[~duplex, c] = np.nan
    out.loc[~duplex, "ratio_method"] = None
    if {"pp", "pn", "np", "nn"} <= set(out.columns):
        out["linkage"] = linkage(out["pp"], out["pn"], out["np"], out["nn"], volume_ul=volume_ul)
    else:
        out["linkage"] = np.nan
    return out


def _channel_positives(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Ch1 and Ch2 positives of each row's well (from cluster counts, else from sibling rows)."""
    n = len(frame)
    if {"pp", "pn", "np"} <= set(frame.columns):
        p1 = np.array(frame["pp"] + frame["pn"], dtype=float)
        p2 = np.array(frame["pp"] + frame["np"], dtype=float)
    else:
        p1 = np.full(n, np.nan)
        p2 = np.full(n, np.nan)
    key = (
        frame["well"].astype(str)
        + "|"
        + frame.get("group", pd.Series("", index=frame.index)).astype(str)
    )
    by = {
        (k, int(c)): float(pos)
        for k, c, pos in zip(key, frame["channel"], frame["positives"], strict=True)
    }
    for i, (k, c) in enumerate(zip(key, frame["channel"], strict=True)):
        if not np.isfinite(p1[i]) and (k, 1) in by:
            p1[i] = by[(k, 1)]
        if not np.isfinite(p2[i]) and (k, 2) in by:
            p2[i] = by[(k, 2)]
        del c
    return p1, p2


def merge_wells(
    member_positives: np.ndarray,
    member_accepted: np.ndarray,
    *,
    volume_ul: float,
    method: CiMethod = "exact",
    table_path: str | Path | None = None,
) -> dict[str, float]:
    """QuantaSoft merged-well quantities for one group of wells (spec §1.5).

    Concentration and Poisson CI from pooled droplets; Total CI per side =
    min/max(Poisson bound, m ∓ z SEM) with m the mean of the per-well concentrations,
    SEM = SD(n-1)/sqrt(k) and z = 1.96 / 1.00 (never a t quantile).
    """
    p = np.asarray(member_positives, float)
    n = np.asarray(member_accepted, float)
    sp, sn = p.sum(), n.sum()
    res: dict[str, float] = {"positives": sp, "accepted": sn, "k": float(p.size)}
    res["copies_per_ul"] = float(concentration(sp, sn, volume_ul))
    ci = concentration(p, n, volume_ul)
    m = float(ci.mean())
    sem = float(ci.std(ddof=1) / np.sqrt(p.size)) if p.size > 1 else float("nan")
    res["mean_of_wells"], res["sem"] = m, sem
    for level, tag, z in ((0.95, "95", 1.96), (0.68, "68", 1.0)):
        lo, hi = poisson_ci(sp, sn, volume_ul, level=level, method=method, table_path=table_path)
        res[f"ci{tag}_low"], res[f"ci{tag}_high"] = float(lo), float(hi)
        if np.isfinite(sem):
            res[f"total{tag}_low"] = min(float(lo), m - z * sem)
            res[f"total{tag}_high"] = max(float(hi), m + z * sem)
        else:
            res[f"total{tag}_low"] = res[f"total{tag}_high"] = float("nan")
    return res
