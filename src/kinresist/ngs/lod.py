"""Detection statistics on molecule counts: Wilson CI, critical alt count, per-site LoD.

* ``critical_count``: smallest ``k`` with ``P(X >= k) <= alpha`` under a beta-binomial (or
  binomial) null at depth ``D``;
* ``site_lod``: smallest VAF ``f`` with ``P(Binom(D, f + eps) >= k_crit) >= power``, solved exactly
  with ``P(Binom(D, p) >= k) = I_p(k, D - k + 1)``, i.e. ``f + eps = Beta.ppf(power, k, D - k + 1)``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["betabinom_upper_tail", "critical_count", "site_lod", "wilson"]


def betabinom_upper_tail(
    k: np.ndarray, depth: np.ndarray, a: np.ndarray, b: np.ndarray, *, terms: int = 400
) -> np.ndarray:
    """``P(X >= k)``, ``X ~ BetaBinomial(depth, a, b)``, accurate far into the upper tail.

    SciPy's ``betabinom.sf`` is ``1 - cdf`` and loses all precision below ~1e-15 (giving 0);
    there the tail is summed directly, ``sum_{x=k}^{k+terms} pmf(x)`` (terms fall off
    geometrically or faster beyond the mean, so the truncation is negligible).
    """
    k = np.atleast_1d(np.asarray(k, dtype=np.int64))
    depth = np.broadcast_to(np.asarray(depth, dtype=np.int64), k.shape)
    a = np.broadcast_to(np.asarray(a, dtype=float), k.shape)
    b = np.broadcast_to(np.asarray(b, dtype=float), k.shape)
    p = np.asarray(stats.betabinom.sf(k - 1, depth, a, b), dtype=float).copy()
    tiny = np.flatnonzero((p < 1e-10) & (k <= depth) & (k > 0))
    if tiny.size:
        x = k[tiny, None] + np.arange(terms)[None, :]
        dd = depth[tiny, None]
        pm = stats.betabinom.pmf(np.minimum(x, dd), dd, a[tiny, None], b[tiny, None])
        p[tiny] = np.where(x <= dd, pm, 0.0).sum(axis=1)
    return np.where(k <= 0, 1.0, p)


def wilson(
    k: np.ndarray, n: np.ndarray, z: float = 1.959963984540054
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k of n (NaN where n = 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return np.clip(mid - half, 0, 1), np.clip(mid + half, 0, 1)


def critical_count(
    depth: np.ndarray, alpha_level: np.ndarray | float, *, a: np.ndarray | None = None, b: np.ndarray | None = None,
    eps: np.ndarray | float | None = None, min_alt: np.ndarray | int = 1, max_k: int | None = None,
) -> np.ndarray:  # fmt: skip
    """Smallest ``k >= min_alt`` with ``P(X >= k) <= alpha_level`` under the null.

    Null: beta-binomial ``(depth, a, b)``, or binomial ``(depth, eps)`` when ``eps`` is given.
    """
    depth = np.atleast_1d(np.asarray(depth, dtype=np.int64))
    alpha_level = np.broadcast_to(np.asarray(alpha_level, dtype=float), depth.shape)
    out = np.maximum(np.broadcast_to(np.asarray(min_alt), depth.shape), 1).astype(np.int64).copy()
    top = int(depth.max()) + 1 if max_k is None else max_k
    todo = np.ones(depth.shape, dtype=bool)
    while todo.any():
        k = out[todo]
        if eps is not None:
            e = np.broadcast_to(np.asarray(eps, dtype=float), depth.shape)[todo]
            sf = stats.binom.sf(k - 1, depth[todo], e)
        else:
            if a is None or b is None:
                msg = "critical_count needs either eps or both beta parameters a and b"
                raise ValueError(msg)
            sf = stats.betabinom.sf(
                k - 1,
                depth[todo],
                np.broadcast_to(a, depth.shape)[todo],
                np.broadcast_to(b, depth.shape)[todo],
            )
        passed = sf <= alpha_level[todo]
        idx = np.flatnonzero(todo)
        done = passed | (k > depth[todo]) | (k >= top)
        out[idx[~done]] += 1
        todo[idx[done]] = False
    return out


def site_lod(
    depth: np.ndarray, k_crit: np.ndarray, eps: np.ndarray | float, power: float = 0.95
) -> np.ndarray:
    """Smallest VAF ``f`` with ``P(Binom(depth, f + eps) >= k_crit) >= power`` (NaN if unreachable)."""
    depth = np.asarray(depth, dtype=float)
    k = np.asarray(k_crit, dtype=float)
    with np.errstate(invalid="ignore"):
        p = stats.beta.ppf(power, k, depth - k + 1)  # P(Binom(D, p) >= k) = I_p(k, D - k + 1)
    lod = np.clip(p - np.asarray(eps, dtype=float), 0, 1)
    return np.where((depth > 0) & (k <= depth), lod, np.nan)
