"""Limits of blank and detection for droplet counts (spec §4).

* CLSI EP17-A2 as summarised by Armbruster & Pry 2008 (Clin Biochem Rev 29:S49):
  non-parametric LoB = value at rank 0.5 + 0.95 B of the sorted blank results (linear
  interpolation); parametric LoB = mean_B + c_p SD_B with c_p = 1.645/(1 - 1/(4 (B - K)));
  LoD = LoB + c_p SD_L with c_p = 1.645/(1 - 1/(4 (L - J))).
* Adaptive binomial LoB (ALPACA, Vessies et al. 2021): the smallest k with
  sum_{x<k} Binom(x; n_molecules, FPR) >= 0.999; a well is positive when its mutant droplets >= k.
* Poisson LoD for a droplet cutoff k and background m_bg: the smallest m with
  P(Poisson(m + m_bg) >= k) >= 0.95, i.e. m = Gamma^-1(0.95; k) - m_bg (k = 1: 2.996 copies).

All LoBs here are in droplets; an EP17 LoB L (a real number) becomes the integer cutoff
k = floor(L) + 1, so that "positive when count > LoB" and "positive when count >= k" agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from kinresist.errors import InputError

__all__ = [
    "adaptive_lob",
    "cutoff_from_lob",
    "fpr_per_molecule",
    "lob_nonparametric",
    "lob_parametric",
    "lod_copies",
    "lod_parametric",
]


def _values(values: Sequence[float] | np.ndarray, what: str, minimum: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < minimum:
        msg = (
            f"{what} needs at least {minimum} blank results, got {v.size}; CLSI EP17 recommends 60 "
            "to establish (20 to verify) - add NTC / wild-type-only wells"
        )
        raise InputError(msg)
    return v


def lob_nonparametric(values: Sequence[float] | np.ndarray) -> float:
    """EP17 non-parametric LoB: rank 0.5 + 0.95 B of the sorted blanks, interpolated."""
    v = np.sort(_values(values, "the non-parametric LoB", 2))
    rank = 0.5 + 0.95 * v.size  # 1-based
    lo = int(np.floor(rank))
    frac = rank - lo
    if lo >= v.size:
        return float(v[-1])
    return float(v[lo - 1] + frac * (v[lo] - v[lo - 1]))


def lob_parametric(values: Sequence[float] | np.ndarray, *, n_samples: int = 1) -> float:
    """EP17 parametric LoB = mean + c_p SD, c_p = 1.645/(1 - 1/(4 (B - K)))."""
    v = _values(values, "the parametric LoB", 2)
    if v.size - n_samples < 1:
        msg = (
            f"{v.size} blank results from {n_samples} samples: EP17 needs more results than samples"
        )
        raise InputError(msg)
    cp = 1.645 / (1 - 1 / (4 * (v.size - n_samples)))
    return float(v.mean() + cp * v.std(ddof=1))


def lod_parametric(
    lob: float, low_values: Sequence[float] | np.ndarray, *, n_samples: int = 1
) -> float:
    """EP17 LoD = LoB + c_p SD_L (pooled SD of low-level samples)."""
    v = _values(low_values, "the parametric LoD", 2)
    if v.size - n_samples < 1:
        msg = f"{v.size} low-level results from {n_samples} samples: EP17 needs more results than samples"
        raise InputError(msg)
    cp = 1.645 / (1 - 1 / (4 * (v.size - n_samples)))
    return float(lob + cp * v.std(ddof=1))


def cutoff_from_lob(lob: float | np.ndarray) -> np.ndarray:
    """Integer droplet cutoff k = floor(LoB) + 1 (positive when count > LoB)."""
    return np.floor(np.asarray(lob, dtype=float)) + 1


def fpr_per_molecule(false_positives: np.ndarray, wt_molecules: np.ndarray) -> tuple[float, str]:
    """Pooled false-positive rate per wild-type molecule from WT-only wells.

    Returns (FPR, basis): the point estimate sum(x)/sum(w), or the rule-of-three upper bound
    3/sum(w) when no false positive was seen ("unknown stays unknown": never 0).
    """
    x = float(np.nansum(false_positives))
    w = float(np.nansum(wt_molecules))
    if w <= 0:
        msg = "wild-type-only wells contain no wild-type molecules; cannot estimate a false-positive rate"
        raise InputError(msg)
    if x == 0:
        return 3.0 / w, "rule_of_three_upper_bound"
    return x / w, "pooled_point_estimate"


def adaptive_lob(
    n_molecules: np.ndarray | float, fpr: float, *, level: float = 0.999
) -> np.ndarray:
    """Smallest k with P(Binom(n, FPR) <= k - 1) >= level (vectorised over n)."""
    n = np.maximum(np.round(np.asarray(n_molecules, dtype=float)), 0)
    return stats.binom.ppf(level, n, fpr) + 1


def lod_copies(
    cutoff: np.ndarray | float, background: np.ndarray | float = 0.0, *, power: float = 0.95
) -> np.ndarray:
    """Copies per analysed volume needed to reach the cutoff with probability ``power``."""
    k = np.asarray(cutoff, dtype=float)
    mu = np.where(k > 0, stats.gamma.ppf(power, np.maximum(k, 1e-12)), 0.0)
    return np.maximum(mu - np.asarray(background, dtype=float), 0.0)
