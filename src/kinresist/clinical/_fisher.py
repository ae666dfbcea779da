"""Fisher's exact test for a 2 x 2 table with the conditional MLE odds ratio and its exact CI,
computed as R ``stats::fisher.test`` computes them.

The conditional distribution of the top-left cell given the margins is Fisher's non-central
hypergeometric with the odds ratio as non-centrality. R finds the conditional MLE (E[X] = x) and
the exact CI limits (tail probability = alpha/2) with ``uniroot``, i.e. Brent's zeroin with the
default tolerance ``.Machine$double.eps^0.25`` (~1.2e-4), searching ``t`` in (0, 1) or ``1/t``
when the root is above 1. That tolerance is coarse: for the tea-tasting table R prints the upper
limit 621.93 where the exact root is 626.24. ``precision="r"`` replays R's search (same bracket,
same algorithm, same tolerance) and reproduces R's printout; ``precision="exact"`` solves to
machine precision (as ``scipy.stats.contingency.odds_ratio(kind="conditional")`` does).

The two-sided p sums the probabilities of tables no more likely than the observed one, with R's
relative fuzz of 1e-7.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from kinresist.errors import InputError

__all__ = ["Alternative", "FisherResult", "fisher_exact", "zeroin"]

Alternative = Literal["two-sided", "less", "greater"]
_EPS = float(np.finfo(float).eps)
_R_TOL = _EPS**0.25


def zeroin(
    f: Callable[[float], float],
    ax: float,
    bx: float,
    *,
    tol: float = _R_TOL,
    maxiter: int = 1000,
) -> float:
    """Brent's root finder (Forsythe, Malcolm & Moler 1977, ``zeroin``), as R's ``uniroot``.

    Bisection combined with linear or inverse quadratic interpolation on the bracket [ax, bx];
    stops when the bracket half-width is below 2·eps·|b| + tol/2.
    """
    a, b = ax, bx
    fa, fb = f(a), f(b)
    if fa * fb > 0:
        msg = "zeroin: f(ax) and f(bx) must have opposite signs"
        raise ValueError(msg)
    if fa == 0:
        return a
    if fb == 0:
        return b
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


class _NonCentral:
    """Fisher's non-central hypergeometric of the top-left cell given the margins."""

    def __init__(self, table: npt.NDArray[np.int64]) -> None:
        self.m = int(table[:, 0].sum())
        self.n = int(table[:, 1].sum())
        self.k = int(table[0, :].sum())
        self.x = int(table[0, 0])
        self.lo = max(0, self.k - self.n)
        self.hi = min(self.k, self.m)
        self.support = np.arange(self.lo, self.hi + 1)
        self.logdc = stats.hypergeom.logpmf(self.support, self.m + self.n, self.m, self.k)

    def density(self, ncp: float) -> npt.NDArray[np.float64]:
        d = self.logdc + math.log(ncp) * self.support
        d = np.exp(d - d.max())
        return d / d.sum()  # type: ignore[no-any-return]

    def mean(self, ncp: float) -> float:
        if ncp == 0:
            return float(self.lo)
        if math.isinf(ncp):
            return float(self.hi)
        return float((self.support * self.density(ncp)).sum())

    def cdf(self, q: int, ncp: float, *, upper: bool = False) -> float:
        if ncp == 1:
            dist = stats.hypergeom(self.m + self.n, self.m, self.k)
            return float(dist.sf(self.x - 1) if upper else dist.cdf(self.x))
        if ncp == 0:
            return float(q <= self.lo if upper else q >= self.lo)
        if math.isinf(ncp):
            return float(q <= self.hi if upper else q >= self.hi)
        d = self.density(ncp)
        return float(d[self.support >= q].sum() if upper else d[self.support <= q].sum())


def _root(f: Callable[[float], float], *, below_one: bool, at_one: float, tol: float) -> float:
    """R's pattern: a root of f in (0, 1), or 1 / a root of f(1/t) in (eps, 1); 1 if f(1) = 0."""
    if at_one == 0:
        return 1.0
    if below_one:
        return zeroin(f, 0.0, 1.0, tol=tol)
    return 1.0 / zeroin(lambda t: f(1.0 / t), _EPS, 1.0, tol=tol)


@dataclass(frozen=True)
class FisherResult:
    """Fisher's exact test of a 2 x 2 table with the conditional MLE odds ratio and exact CI."""

    table: tuple[tuple[int, int], tuple[int, int]]
    p: float
    odds_ratio: float
    ci_low: float
    ci_high: float
    alternative: Alternative
    conf_level: float
    precision: Literal["r", "exact"]

    def to_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | str:
            return ("Inf" if v > 0 else "-Inf") if math.isinf(v) else v

        return {
            "table": [list(r) for r in self.table],
            "p": self.p,
            "odds_ratio": num(self.odds_ratio),
            "odds_ratio_ci": [num(self.ci_low), num(self.ci_high)],
            "odds_ratio_method": "conditional MLE (as R fisher.test)",
            "ci_method": "exact conditional (Cornfield), as R fisher.test",
            "alternative": self.alternative,
            "conf_level": self.conf_level,
            "precision": self.precision,
        }


def fisher_exact(
    table: Sequence[Sequence[int]] | npt.ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    alpha: float = 0.05,
    precision: Literal["r", "exact"] = "r",
) -> FisherResult:
    """Fisher's exact test (R ``fisher.test``) on ``[[a, b], [c, d]]``.

    The odds ratio is (a/b)/(c/d) estimated by conditional maximum likelihood, with the exact
    conditional CI. ``precision="r"`` reproduces R's printed numbers (see module docstring).
    """
    arr = np.asarray(table)
    if arr.shape != (2, 2):
        msg = f"Fisher's exact test needs a 2 x 2 table, got shape {arr.shape}"
        raise InputError(msg)
    if not np.all(np.isfinite(arr.astype(float))) or (arr < 0).any():
        msg = f"table cells must be counts >= 0, got {arr.tolist()}"
        raise InputError(msg)
    if not np.all(arr == np.round(arr)):
        msg = f"table cells must be whole numbers, got {arr.tolist()}"
        raise InputError(msg)
    if alternative not in ("two-sided", "less", "greater"):
        msg = f"unknown alternative {alternative!r}; expected two-sided, less or greater"
        raise InputError(msg)
    if not 0 < alpha < 1:
        msg = f"alpha must be in (0, 1), got {alpha!r}"
        raise InputError(msg)
    if precision not in ("r", "exact"):
        msg = f"unknown precision {precision!r}; expected 'r' or 'exact'"
        raise InputError(msg)
    tab = arr.astype(np.int64)
    if (tab.sum(axis=0) == 0).any() or (tab.sum(axis=1) == 0).any():
        msg = f"table {tab.tolist()} has an empty row or column: no test is possible"
        raise InputError(msg)
    tol = _R_TOL if precision == "r" else 0.0
    h = _NonCentral(tab)
    x = h.x
    if alternative == "less":
        p = h.cdf(x, 1)
    elif alternative == "greater":
        p = h.cdf(x, 1, upper=True)
    else:
        d = h.density(1.0)
        p = float(d[d <= d[x - h.lo] * (1 + 1e-7)].sum())
    p = min(1.0, max(0.0, p))

    if x == h.lo:
        mle = 0.0
    elif x == h.hi:
        mle = math.inf
    else:
        # E[X] increases with the odds ratio: the root is below 1 when E[X | 1] > x
        at1 = h.mean(1.0) - x
        mle = _root(lambda t: h.mean(t) - x, below_one=at1 > 0, at_one=at1, tol=tol)

    def upper_limit(a: float) -> float:
        if x == h.hi:
            return math.inf
        # P(X <= x) decreases with the odds ratio
        at1 = h.cdf(x, 1) - a
        return _root(lambda t: h.cdf(x, t) - a, below_one=at1 < 0, at_one=at1, tol=tol)

    def lower_limit(a: float) -> float:
        if x == h.lo:
            return 0.0
        # P(X >= x) increases with the odds ratio
        at1 = h.cdf(x, 1, upper=True) - a
        return _root(lambda t: h.cdf(x, t, upper=True) - a, below_one=at1 > 0, at_one=at1, tol=tol)

    if alternative == "less":
        lo_ci, hi_ci = 0.0, upper_limit(alpha)
    elif alternative == "greater":
        lo_ci, hi_ci = lower_limit(alpha), math.inf
    else:
        lo_ci, hi_ci = lower_limit(alpha / 2), upper_limit(alpha / 2)
    return FisherResult(
        table=((int(tab[0, 0]), int(tab[0, 1])), (int(tab[1, 0]), int(tab[1, 1]))),
        p=p,
        odds_ratio=float(mle),
        ci_low=float(lo_ci),
        ci_high=float(hi_ci),
        alternative=alternative,
        conf_level=1 - alpha,
        precision=precision,
    )
