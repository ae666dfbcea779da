"""Growth-rate inhibition (GR) metrics, Hafner et al. 2016 (Nat Methods 13:521), with
the conventions of the GRmetrics packages (spec §6).

* GR values per well: with time-zero counts ("case A")
  GR(c) = 2^(log2(x(c)/x0) / log2(x_ctrl/x0)) − 1; without them, from the assay
  duration T and the untreated doubling time Td:
  GR(c) = 2^(1 + log2(x(c)/x_ctrl)/(T/Td)) − 1.
* Fit GR(c) = GRinf + (1 − GRinf)/(1 + (c/GEC50)^h) (LL.4 with top fixed at 1) by
  the batch engine; fits leaving the GRmetrics bounds (h ∈ [0.1, 5], GRinf ∈ [−1, 1],
  GEC50 ∈ [min c·1e-2, max c·1e2]) are refitted with bounded trust-region least
  squares from the GRmetrics start (h, GRinf, GEC50) = (2, 0.1, median c).
* Sigmoid vs flat: F test with df1 = 2 and df2 = n − 3 + 1 (GRmetrics' quirk); p ≥
  0.05 ⇒ flat: GEC50 = 0, h = 0.01, GRinf = mean GR (uncapped, as R), GR50 = ±Inf.
* GR50 = GEC50·((1 − GRinf)/(0.5 − GRinf) − 1)^(1/h), +Inf if GRinf ≥ 0.5;
  GRmax = min of the replicate-mean GR at the two highest concentrations;
  GR_AOC = Σ (1 − mean GR of adjacent pair)·Δlog10 c / (log10 c_max − log10 c_min).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from kinresist.dose.engine import fit_batch
from kinresist.errors import InputError

__all__ = ["GR_KEYS", "gr_metrics", "gr_values"]

GR_KEYS = ("cell_line", "agent", "perturbation", "replicate", "time")


def gr_values(
    frame: pd.DataFrame,
    *,
    count: str = "cell_count",
    control: str = "cell_count__ctrl",
    time0: str | None = "cell_count__time0",
    duration: float | None = None,
    doubling_time: float | None = None,
) -> pd.Series:
    """Per-well GR values (case A with time-zero counts, else from the doubling time)."""
    for col in (count, control):
        if col not in frame.columns:
            msg = f"GR values need a {col!r} column; found {', '.join(map(str, frame.columns))}"
            raise InputError(msg, column=col)
    x = frame[count].to_numpy(dtype=float)
    xc = frame[control].to_numpy(dtype=float)
    has_t0 = time0 is not None and time0 in frame.columns
    x0 = frame[time0].to_numpy(dtype=float) if has_t0 else None
    with np.errstate(divide="ignore", invalid="ignore"):
        if x0 is not None:
            gr = 2.0 ** (np.log2(x / x0) / np.log2(xc / x0)) - 1.0
        elif duration is not None and doubling_time is not None:
            gr = 2.0 ** (1.0 + np.log2(x / xc) / (duration / doubling_time)) - 1.0
        else:
            msg = (
                "GR values need time-zero counts (column "
                f"{time0!r}) or both the assay duration and the doubling time"
            )
            raise InputError(msg)
    known = np.isfinite(x) & np.isfinite(xc)  # NA counts stay NA (dropped by the fit)
    if x0 is not None:
        known &= np.isfinite(x0)
    bad = np.flatnonzero(known & ~np.isfinite(gr))
    if bad.size:
        i = int(bad[0])
        counts = f"{count} {x[i]:g}, {control} {xc[i]:g}"
        if x0 is not None:
            counts += f", {time0} {x0[i]:g}"
            why = (
                "2^(log2(x/x0)/log2(x_ctrl/x0)) - 1 is undefined when the control did not grow "
                "past the time-zero count"
            )
        else:
            why = "2^(1 + log2(x/x_ctrl)/(T/Td)) - 1 overflows"
        msg = (
            f"the GR value of this well is not finite ({counts}): {why}; check the counts "
            "(or give GR values in a GRvalue column)"
        )
        raise InputError(msg, line=i + 2, column=count)
    return pd.Series(gr, index=frame.index, name="GRvalue")


def _bounded_refit(c: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, float]:
    lo = np.array([0.1, -1.0, np.log(np.min(c) * 1e-2)])
    hi = np.array([5.0, 1.0, np.log(np.max(c) * 1e2)])
    lc = np.log(c)

    def resid(th: np.ndarray) -> np.ndarray:
        h, ginf, le = th
        return ginf + (1 - ginf) / (1 + np.exp(h * (lc - le))) - g

    x0 = np.clip(np.array([2.0, 0.1, np.log(np.median(c))]), lo, hi)
    sol = optimize.least_squares(
        resid, x0, bounds=(lo, hi), method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=2000
    )
    return sol.x, float(np.sum(sol.fun**2))


def gr_metrics(
    frame: pd.DataFrame,
    *,
    keys: Sequence[str] = GR_KEYS,
    concentration: str = "concentration",
    gr: str = "GRvalue",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """GR50, GRmax, GR_AOC, GEC50, GRinf, h, r2, p and the sigmoid/flat call per experiment.

    ``frame`` holds one row per well with the experiment ``keys``, the
    ``concentration`` (> 0) and a GR column (see :func:`gr_values`).
    """
    keys = [k for k in keys if k in frame.columns]
    if concentration not in frame.columns or gr not in frame.columns:
        msg = f"GR metrics need columns {concentration!r} and {gr!r}"
        raise InputError(msg)
    data = frame[[*keys, concentration, gr]].dropna()
    data = data[data[concentration] > 0]
    if data.empty:
        msg = (
            f"no well has both a {concentration!r} above 0 and a {gr!r}: GR metrics need "
            "drug-treated wells whose GR value could be computed (a missing control or "
            "time-zero count leaves it empty); check the concentrations and the count columns"
        )
        raise InputError(msg, column=concentration)
    if not np.isfinite(data[gr].to_numpy(float)).all():
        msg = f"GR values must be finite numbers; column {gr!r} holds infinite values"
        raise InputError(msg, column=gr)
    groups = list(data.groupby(keys, sort=False)) if keys else [((), data)]
    width = max(len(g) for _, g in groups)
    n = len(groups)
    cx = np.full((n, width), np.nan)
    gy = np.full((n, width), np.nan)
    for i, (_, g) in enumerate(groups):
        cx[i, : len(g)] = g[concentration].to_numpy(float)
        gy[i, : len(g)] = g[gr].to_numpy(float)
    fit = fit_batch(cx, gy, model="LL.3u")
    h = fit.param("hill").copy()
    ginf = fit.param("bottom").copy()
    gec = fit.param("ec50").copy()
    rss = fit.rss.copy()
    rows = []
    for i, (key, g) in enumerate(groups):
        c = g[concentration].to_numpy(float)
        y = g[gr].to_numpy(float)
        inside = (
            fit.converged[i]
            and 0.1 <= h[i] <= 5
            and -1 <= ginf[i] <= 1
            and np.min(c) * 1e-2 <= gec[i] <= np.max(c) * 1e2
        )
        if not inside:  # robust fallback: the bounded problem GRmetrics solves
            th, rss[i] = _bounded_refit(c, y)
            h[i], ginf[i], gec[i] = th[0], th[1], float(np.exp(th[2]))
        nobs = len(y)
        tss = float(np.sum((y - y.mean()) ** 2))
        df2 = nobs - 3 + 1
        with np.errstate(divide="ignore", invalid="ignore"):
            fstat = ((tss - rss[i]) / 2) / (rss[i] / df2)
        pval = float(stats.f.sf(fstat, 2, df2)) if np.isfinite(fstat) else float("nan")
        if not np.isfinite(pval):
            pval = 1.0
        means = g.groupby(concentration)[gr].mean().sort_index()
        mc = means.index.to_numpy(float)
        mg = means.to_numpy(float)
        grmax = float(np.min(mg[-2:]))
        lc = np.log10(mc)
        span = lc[-1] - lc[0]
        aoc = (
            float(np.sum((1 - 0.5 * (mg[1:] + mg[:-1])) * np.diff(lc)) / span)
            if span > 0
            else np.nan
        )
        sigmoid = pval < alpha
        if sigmoid:
            gi, hh, ge = float(ginf[i]), float(h[i]), float(gec[i])
            if gi >= 0.5:
                gr50 = np.inf
            else:
                gr50 = ge * ((1 - gi) / (0.5 - gi) - 1) ** (1 / hh)
            r2 = 1 - rss[i] / tss
        else:
            gi = float(np.mean(y))
            hh, ge = 0.01, 0.0
            gr50 = np.inf if gi >= 0.5 else -np.inf
            r2 = 1 - rss[i] / tss
        record = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        record.update(
            GR50=gr50,
            GRmax=grmax,
            GR_AOC=aoc,
            GEC50=ge,
            GRinf=gi,
            h_GR=hh,
            r2_GR=r2,
            pval_GR=pval,
            fit_GR="sigmoid" if sigmoid else "flat",
            n=nobs,
        )
        rows.append(record)
    return pd.DataFrame(rows)
