"""QuantaSoft-exact Poisson arithmetic for droplet counts (vectorised).

Math (spec ``ddpcr.md`` §1; N accepted droplets, P positives, p = P/N, V droplet volume in µL)::

    lambda = -ln(1 - p)                       copies per droplet
    conc   = lambda / V                       copies per µL
    CI (P >= 100 and N - P >= 100):  p± = p ± z sqrt(p(1-p)/N),  conc± = -ln(1 - p±)/V,
                                      z = 1.96 (95 %) or 1.00 (68 %) exactly as QuantaSoft.

Below 100 positive or 100 negative droplets QuantaSoft applies an unpublished "Bayesian
adjustment". kinresist's documented default there (``method="exact"``) is:

* P = 0: [0, -ln(alpha)/(N V)] - the one-sided exact Poisson/binomial bound (all of alpha on the
  upper side because the lower bound is 0). At 95 % this equals QuantaSoft (2.996/(N V)); at 68 %
  it gives 1.139/(N V) where QuantaSoft prints 1.369/(N V).
* otherwise Clopper-Pearson on p (alpha/2 each side), transformed by -ln(1 - p)/V.

``method="quantasoft_compat"`` instead looks the P < 100 bounds up in the empirical table derived
from ~9.4k QuantaSoft v1.7.4 wells (``quantasoft_lowcount_ci_empirical.csv``; a path must be given).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from kinresist.errors import InputError, LowCountWarning, warn

__all__ = [
    "DROPLET_VOLUME_UL",
    "CiMethod",
    "Z",
    "ci_method_names",
    "concentration",
    "load_lowcount_table",
    "poisson_ci",
]

#: Droplet volume presets (µL): old QuantaSoft 0.91 nL, QuantaSoft 1.7 / QX Manager 0.85 nL.
DROPLET_VOLUME_UL: Mapping[str, float] = {"qs_legacy": 0.00091, "qs17": 0.00085}
#: QuantaSoft's z values (exactly 1.96, not 1.959964).
Z: Mapping[float, float] = {0.95: 1.96, 0.68: 1.00}
LOW_COUNT = 100

CiMethod = Literal["exact", "quantasoft_compat"]


def _arr(x: object) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def concentration(positives: object, accepted: object, volume_ul: float) -> np.ndarray:
    """copies/µL = -ln(1 - P/N)/V (NaN when N = 0; inf when every droplet is positive)."""
    p, n = _arr(positives), _arr(accepted)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.log1p(-p / n) / volume_ul


def _wald(p: np.ndarray, n: np.ndarray, v: float, z: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        q = p / n
        half = z * np.sqrt(q * (1 - q) / n)
        lo = -np.log1p(-np.clip(q - half, 0, 1)) / v
        hi = -np.log1p(-np.clip(q + half, 0, 1)) / v
    return lo, hi


def _exact(p: np.ndarray, n: np.ndarray, v: float, level: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        plo = np.where(p > 0, stats.beta.ppf(alpha / 2, p, n - p + 1), 0.0)
        phi = np.where(p < n, stats.beta.ppf(1 - alpha / 2, p + 1, n - p), 1.0)
        # P = 0: the whole alpha on the upper side (lower bound is 0)
        phi = np.where(p == 0, -np.expm1(np.log(alpha) / n), phi)
        lo = -np.log1p(-plo) / v
        hi = -np.log1p(-phi) / v
    return lo, hi


@lru_cache(maxsize=4)
def load_lowcount_table(path: str) -> dict[tuple[int, str], float]:
    """The empirical QuantaSoft low-count table: (P, 'lo95'|'hi95'|'lo68'|'hi68') -> lambda*N."""
    try:
        t = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        msg = f"cannot read the QuantaSoft low-count table ({exc})"
        raise InputError(msg, path=path) from exc
    need = {"positives", "bound", "lambdaN_low", "lambdaN_high"}
    if not need <= set(t.columns):
        msg = (
            f"columns {sorted(need - set(t.columns))} missing; expected the derived "
            "quantasoft_lowcount_ci_empirical.csv"
        )
        raise InputError(
            msg,
            path=path,
        )
    lo, hi = t["lambdaN_low"].to_numpy(float), t["lambdaN_high"].to_numpy(float)
    mid = (lo + hi) / 2
    # entries whose bounds cross by more than rounding (1 %) mix wells printed inconsistently:
    # take the outer value (the larger for upper bounds, the smaller for lower bounds)
    crossed = lo > hi * 1.01
    upper = t["bound"].astype(str).str.startswith("hi").to_numpy()
    mid = np.where(crossed, np.where(upper, np.maximum(lo, hi), np.minimum(lo, hi)), mid)
    return {
        (int(k), str(b)): float(m) for k, b, m in zip(t["positives"], t["bound"], mid, strict=True)
    }


def _compat(
    p: np.ndarray, n: np.ndarray, v: float, level: float, table: dict[tuple[int, str], float]
) -> tuple[np.ndarray, np.ndarray]:
    tag = "95" if level == 0.95 else "68"
    pi = np.clip(p, 0, LOW_COUNT - 1).astype(int)
    lo_ln = np.array([0.0 if k == 0 else table.get((k, "lo" + tag), np.nan) for k in pi])
    hi_ln = np.array([table.get((k, "hi" + tag), np.nan) for k in pi])
    with np.errstate(divide="ignore", invalid="ignore"):
        return lo_ln / (n * v), hi_ln / (n * v)


def ci_method_names(positives: object, accepted: object, method: CiMethod = "exact") -> np.ndarray:
    """Name of the interval used per row: wald, one_sided_exact, clopper_pearson, quantasoft_table."""
    p, n = _arr(positives), _arr(accepted)
    wald = (p >= LOW_COUNT) & (n - p >= LOW_COUNT)
    low = np.where(p == 0, "one_sided_exact", "clopper_pearson")
    if method == "quantasoft_compat":
        low = np.where(p < LOW_COUNT, "quantasoft_table", low)
    return np.where(wald, "wald", low)


def poisson_ci(
    positives: object,
    accepted: object,
    volume_ul: float,
    *,
    level: float = 0.95,
    method: CiMethod = "exact",
    table_path: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of the concentration (copies/µL), QuantaSoft's Wald rule for >= 100.

    Parameters
    ----------
    level
        0.95 or 0.68 (QuantaSoft's two levels; z = 1.96 or 1.00).
    method
        ``"exact"`` (default; documented above) or ``"quantasoft_compat"`` (empirical table lookup
        for P < 100; requires ``table_path``; saturated wells with N - P < 100 fall back to exact).
    """
    if level not in Z:
        msg = f"confidence level {level}; expected 0.95 or 0.68 (QuantaSoft's levels)"
        raise InputError(msg)
    p, n = np.broadcast_arrays(_arr(positives), _arr(accepted))
    lo, hi = _wald(p, n, volume_ul, Z[level])
    low = ~((p >= LOW_COUNT) & (n - p >= LOW_COUNT)) & (n > 0)
    if low.any():
        elo, ehi = _exact(p[low], n[low], volume_ul, level)
        if method == "quantasoft_compat":
            if table_path is None:
                msg = "quantasoft_compat needs the low-count table path (--quantasoft-table)"
                raise InputError(msg)
            sub = p[low] < LOW_COUNT
            clo, chi = _compat(
                p[low], n[low], volume_ul, level, load_lowcount_table(str(table_path))
            )
            elo = np.where(sub, clo, elo)
            ehi = np.where(sub, chi, ehi)
            if (~sub).any():
                warn(
                    "quantasoft_compat: wells with fewer than 100 negative droplets use the exact "
                    "(Clopper-Pearson) interval; the empirical table covers low positives only",
                    LowCountWarning,
                )
        lo = np.where(low, 0.0, lo)
        hi = np.where(low, 0.0, hi)
        lo[low] = elo
        hi[low] = ehi
    return lo, hi
