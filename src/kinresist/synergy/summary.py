"""Block summaries of per-cell synergy scores (vectorised over blocks).

* **mean**: arithmetic mean over the combination cells (all doses > 0), NaN cells
  (Loewe: effect not attainable) excluded and counted.
* **most synergistic 3×3 area**: the largest mean over any 3×3 window of adjacent
  combination cells (the whole combination grid along a dimension with fewer than
  3 doses).
* **p-value** (SynergyFinder, no replicates): ``z = |mean(s)| / sd(s)`` (sd with
  n − 1) over the combination cells, ``p = exp(−0.717·z − 0.416·z²)``, an
  approximation of the two-sided normal tail used by SynergyFinder.
"""

from __future__ import annotations

import numpy as np

__all__ = ["block_mean", "block_p_value", "max_area_mean", "p_from_z"]


def _combo(scores: np.ndarray) -> np.ndarray:
    return scores[:, 1:, 1:].reshape(scores.shape[0], -1)


def _nanmean(s: np.ndarray) -> np.ndarray:
    """Row means ignoring NaN (NaN for an all-NaN row, without a warning)."""
    n = np.sum(~np.isnan(s), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(s, axis=1) / np.maximum(n, 1), np.nan)


def block_mean(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over combination cells of ``(B, n1, n2)`` scores; also the NaN counts."""
    s = _combo(scores)
    n_nan = np.isnan(s).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = s.shape[1] - n_nan
        mean = np.where(n > 0, np.nansum(s, axis=1) / np.maximum(n, 1), np.nan)
    return mean, n_nan


def p_from_z(z: np.ndarray) -> np.ndarray:
    """SynergyFinder's tail approximation ``exp(−0.717 z − 0.416 z²)``."""
    z = np.asarray(z, dtype=float)
    return np.exp(-0.717 * z - 0.416 * z * z)


def block_p_value(scores: np.ndarray) -> np.ndarray:
    """SynergyFinder block p-value from per-cell scores (no replicates)."""
    s = _combo(scores)
    mean = _nanmean(s)
    n = np.sum(~np.isnan(s), axis=1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # huge scores: sd = inf
        ss = np.nansum((s - mean[:, None]) ** 2, axis=1)
        sd = np.where(n > 1, np.sqrt(ss / np.maximum(n - 1, 1)), np.nan)
        z = np.abs(mean) / sd
    return p_from_z(z)


def max_area_mean(scores: np.ndarray, size: int = 3) -> np.ndarray:
    """Largest mean over ``size``×``size`` windows of combination cells, per block."""
    s = scores[:, 1:, 1:]
    nb, m1, m2 = s.shape
    w1, w2 = min(size, m1), min(size, m2)
    best = np.full(nb, -np.inf)
    for i in range(m1 - w1 + 1):
        for j in range(m2 - w2 + 1):
            win = _nanmean(s[:, i : i + w1, j : j + w2].reshape(nb, -1))
            best = np.fmax(best, win)
    return np.where(np.isfinite(best), best, np.nan)
