"""Reference (null) models of drug combination: Bliss, HSA and Loewe, vectorised.

All functions work on stacks of blocks: inhibition ``(B, n1, n2)`` in %, doses
``conc1 (B, n1)`` and ``conc2 (B, n2)`` with dose 0 first. They return the expected
response under the null model for every cell; the synergy score is observed −
expected (positive = synergy) and is 0 in monotherapy cells by definition.

Equations (spec ``synergy.md`` §2; effects I in %):

* Bliss: ``I_B = I1 + I2 − I1·I2/100`` with the *observed* monotherapy effects.
* HSA: ``I_H = max(I1, I2)``, observed monotherapy effects.
* Loewe: ``x1/X1(y) + x2/X2(y) = 1`` where ``Xi(y) = e·((d − y)/(y − c))^(1/b)`` is the
  inverse of drug i's fitted LL.4 curve. :func:`loewe_root` solves it by bracketed
  root finding on the common attainable interval (unreachable effects → NaN plus a
  flag); :func:`loewe_synergyfinder_grid` reproduces SynergyFinder 3's 100-point grid
  search, artefacts included.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["Curve", "bliss", "hsa", "loewe_root", "loewe_synergyfinder_grid"]

_BISECT_ITER = 64
#: iteration cap of the compiled Illinois root (it stops at machine precision in ~10-20)
_ROOT_ITER = 200


def _mono(inhibition: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i1 = inhibition[:, :, :1]  # drug 1 alone: column of conc2 = 0
    i2 = inhibition[:, :1, :]  # drug 2 alone: row of conc1 = 0
    return i1, i2


def _keep_mono(expected: np.ndarray, inhibition: np.ndarray) -> np.ndarray:
    out = expected.copy()
    out[:, 0, :] = inhibition[:, 0, :]
    out[:, :, 0] = inhibition[:, :, 0]
    return out


def bliss(inhibition: np.ndarray) -> np.ndarray:
    """Bliss independence expectation ``(B, n1, n2)`` (monotherapy cells = observed)."""
    i1, i2 = _mono(inhibition)
    return _keep_mono(i1 + i2 - i1 * i2 / 100.0, inhibition)


def hsa(inhibition: np.ndarray) -> np.ndarray:
    """Highest-single-agent expectation ``(B, n1, n2)`` (monotherapy cells = observed)."""
    i1, i2 = _mono(inhibition)
    return _keep_mono(np.maximum(i1, i2), inhibition)


class Curve:
    """LL.4 curves in drc's parameterisation, one per block: arrays ``b, c, d, e`` of shape (B,).

    ``f(x) = c + (d − c)/(1 + (x/e)^b)``; for a curve rising with dose b < 0 (d > c).
    """

    def __init__(self, b: np.ndarray, c: np.ndarray, d: np.ndarray, e: np.ndarray):
        self.b, self.c, self.d, self.e = (np.asarray(v, dtype=float) for v in (b, c, d, e))

    @property
    def lower(self) -> np.ndarray:
        return np.minimum(self.c, self.d)

    @property
    def upper(self) -> np.ndarray:
        return np.maximum(self.c, self.d)

    @property
    def increasing(self) -> np.ndarray:
        return (self.d - self.c) * (-self.b) > 0

    def _col(self, v: np.ndarray, ndim: int) -> np.ndarray:
        return v.reshape(v.shape + (1,) * (ndim - 1))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``f(x)`` with x of shape (B, ...)."""
        b, c, d, e = (self._col(v, x.ndim) for v in (self.b, self.c, self.d, self.e))
        with np.errstate(all="ignore"):
            return c + (d - c) / (1.0 + np.exp(b * (np.log(x) - np.log(e))))

    def log_inverse(self, y: np.ndarray) -> np.ndarray:
        """``log Xi(y)`` for y strictly inside the curve's range (B, ...)."""
        b, c, d, e = (self._col(v, y.ndim) for v in (self.b, self.c, self.d, self.e))
        with np.errstate(all="ignore"):
            return np.log(e) + (np.log(np.abs(d - y)) - np.log(np.abs(y - c))) / b


def loewe_root(
    conc1: np.ndarray,
    conc2: np.ndarray,
    curve1: Curve,
    curve2: Curve,
    *,
    compiled: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Loewe additive expectation by bracketed root finding.

    Solves ``g(y) = x1/X1(y) + x2/X2(y) − 1 = 0`` on the common attainable interval
    ``(max_i min(c_i, d_i), min_i max(c_i, d_i))``, where g is monotone (both curves
    move the same way with dose). Vectorised bisection to machine precision
    (64 halvings of the bracket) — the same root Brent's method finds, in a form
    that runs over millions of cells at once.

    ``compiled`` (default) solves each cell in the numba kernel
    :func:`kinresist.synergy._loewe.solve` (Illinois regula falsi on the same bracket, to the
    same root within rounding in ~10 instead of ~50 evaluations); False runs the NumPy
    bisection.

    Returns
    -------
    expected, unreachable
        ``(B, n1, n2)`` expected % inhibition (NaN where no root: effect not attainable
        by one drug, curves of opposite direction or flat) and the boolean flag
        ``loewe_unreachable`` (False in monotherapy cells, where expected = NaN here).
    """
    nb, n1 = conc1.shape
    n2 = conc2.shape[1]
    x1 = np.broadcast_to(conc1[:, :, None], (nb, n1, n2))
    x2 = np.broadcast_to(conc2[:, None, :], (nb, n1, n2))
    lo = np.maximum(curve1.lower, curve2.lower)
    hi = np.minimum(curve1.upper, curve2.upper)
    inc1, inc2 = curve1.increasing, curve2.increasing
    ok_block = (
        (lo < hi)
        & (inc1 == inc2)
        & np.isfinite(lo)
        & np.isfinite(hi)
        & (curve1.b != 0)
        & (curve2.b != 0)
    )
    sign = np.where(inc1, 1.0, -1.0)[:, None, None]  # g decreasing in y for rising curves

    def g(y: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            t1 = np.where(x1 > 0, x1 * np.exp(-curve1.log_inverse(y)), 0.0)
            t2 = np.where(x2 > 0, x2 * np.exp(-curve2.log_inverse(y)), 0.0)
        return t1 + t2 - 1.0

    # Analytic limits of g at the ends of the common interval: a drug whose own range
    # ends there contributes x/X -> +inf (X -> 0) or 0 (X -> inf); the others are finite.
    # Using limits instead of evaluating next to the end keeps roots that lie within
    # rounding of an asymptote (steep curves) instead of calling them unreachable.
    def end_value(y_end: np.ndarray, at_upper: bool) -> np.ndarray:
        total = np.zeros((nb, n1, n2))
        for cur, x in ((curve1, x1), (curve2, x2)):
            own = cur.upper if at_upper else cur.lower
            inside = (own > y_end)[:, None, None] if at_upper else (own < y_end)[:, None, None]
            with np.errstate(all="ignore"):
                term = np.where(
                    x > 0, x * np.exp(-cur.log_inverse(y_end[:, None, None] + 0 * x)), 0.0
                )
            total = total + np.where(inside, term, 0.0)
        return total - 1.0

    inc = inc1[:, None, None]
    g_hi = np.where(inc, end_value(hi, True), -np.inf)  # sign·g at the upper end
    g_lo = np.where(inc, np.inf, -end_value(lo, False))  # sign·g at the lower end
    has_root = ok_block[:, None, None] & (g_lo > 0) & (g_hi < 0)
    combo = (x1 > 0) & (x2 > 0)
    if compiled:
        from kinresist.synergy._loewe import solve

        params = [np.ascontiguousarray(np.stack([c.b, c.c, c.d, c.e], axis=1), dtype=float)
                  for c in (curve1, curve2)]  # fmt: skip
        y = solve(
            np.ascontiguousarray(conc1, dtype=float), np.ascontiguousarray(conc2, dtype=float),
            params[0], params[1], np.ascontiguousarray(lo, dtype=float),
            np.ascontiguousarray(hi, dtype=float), np.ascontiguousarray(sign[:, 0, 0]),
            np.ascontiguousarray(has_root & combo), _ROOT_ITER,
        )  # fmt: skip
        return y, combo & ~has_root
    a = np.broadcast_to(lo[:, None, None], (nb, n1, n2)).copy()
    z = np.broadcast_to(hi[:, None, None], (nb, n1, n2)).copy()
    for _ in range(_BISECT_ITER):
        m = 0.5 * (a + z)
        gm = sign * g(m)
        pos = gm > 0
        a = np.where(pos, m, a)
        z = np.where(pos, z, m)
    y = np.where(has_root, 0.5 * (a + z), np.nan)
    y = np.where(combo, y, np.nan)
    return y, combo & ~has_root


def loewe_synergyfinder_grid(
    x1: np.ndarray,
    x2: np.ndarray,
    y_obs: np.ndarray,
    predict: tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]],
    inverse: tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]],
    ranges: tuple[tuple[float, float], tuple[float, float]],
) -> np.ndarray:
    """SynergyFinder 3's Loewe expectation for combination cells of one block.

    For each cell, ``xcap_i = Xi(y_obs)`` (NaN → +Inf if ``y_obs > max(c_i, d_i)`` else
    0). If no xcap is finite, the expectation is ``max_i f_i(x1 + x2)``; otherwise
    the first of 100 equally spaced y from ``min_i min(c_i, d_i)`` to
    ``max_i max(c_i, d_i)`` minimising ``|x1/X1(y) + x2/X2(y) − 1|`` (same NaN mapping;
    the two terms summed in long double as R's ``sum``).

    Parameters
    ----------
    x1, x2, y_obs
        ``(n,)`` doses and observed % inhibition of the combination cells.
    predict, inverse
        Each drug's fitted curve and its inverse.
    ranges
        (lower, upper) asymptote of each drug's curve.
    """

    def xcap(i: int, y: np.ndarray) -> np.ndarray:
        v = inverse[i](y)
        hi = ranges[i][1]
        return np.where(np.isnan(v), np.where(y > hi, np.inf, 0.0), v)

    with np.errstate(all="ignore"):
        cap1, cap2 = xcap(0, y_obs), xcap(1, y_obs)
        all_inf = ~np.isfinite(cap1) & ~np.isfinite(cap2)
        s = x1 + x2
        fallback = np.maximum(predict[0](s), predict[1](s))
        grid = np.linspace(min(ranges[0][0], ranges[1][0]), max(ranges[0][1], ranges[1][1]), 100)
        g1 = xcap(0, grid)[None, :]
        g2 = xcap(1, grid)[None, :]
        # dist = abs(sum(x / x_test) - 1): R sums the two terms in long double
        t1 = (x1[:, None] / g1).astype(np.longdouble)
        t2 = (x2[:, None] / g2).astype(np.longdouble)
        obj = np.abs((t1 + t2).astype(float) - 1.0)
        none = np.all(np.isnan(obj), axis=1)  # min(dist, na.rm = TRUE) has nothing: NA
        obj = np.where(np.isnan(obj), np.inf, obj)  # which() skips NaN
        pick = np.where(none, np.nan, grid[np.argmin(obj, axis=1)])
    return np.where(all_inf, fallback, pick)
