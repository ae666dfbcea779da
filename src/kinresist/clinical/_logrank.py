"""Log-rank test as R ``survival::survdiff`` (rho = 0), optionally stratified.

At each distinct event time of a stratum, with n patients at risk (n_j in group j) and d deaths:
E_j += d·n_j/n and V_jk += d(n - d)/(n - 1)·(n_j/n)(δ_jk - n_k/n). Stratified: O, E and V are
summed over strata. chi2 = (O - E)ᵀ V⁻¹ (O - E) over the groups with E > 0 less the first,
df = (groups with E > 0) - 1 (``R/survdiff.R``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from kinresist.clinical._validate import Where, as_events, as_groups, as_times, level_order
from kinresist.errors import InputError

__all__ = ["LogRankResult", "logrank_test"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class LogRankResult:
    """Observed and expected events per group, the variance matrix, chi2, df and p."""

    groups: tuple[str, ...]
    n: tuple[int, ...]
    observed: FloatArray
    expected: FloatArray
    variance: FloatArray
    chi2: float
    df: int
    p: float
    strata: str | None = None
    n_strata: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "chi2": self.chi2,
            "df": self.df,
            "p": self.p,
            "stratified_by": self.strata,
            "n_strata": self.n_strata,
            "groups": [
                {"group": g, "n": n, "observed": float(o), "expected": float(e)}
                for g, n, o, e in zip(
                    self.groups, self.n, self.observed, self.expected, strict=True
                )
            ],
        }

    def table(self) -> pd.DataFrame:
        """R's survdiff printout: N, Observed, Expected, (O-E)^2/E, (O-E)^2/V."""
        o, e = self.observed, self.expected
        v = np.diag(self.variance)
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.DataFrame(
                {
                    "group": list(self.groups),
                    "n": list(self.n),
                    "observed": o,
                    "expected": e,
                    "(O-E)^2/E": (o - e) ** 2 / e,
                    "(O-E)^2/V": (o - e) ** 2 / v,
                }
            )


def _stratum(
    t: FloatArray, e: npt.NDArray[np.int64], g: npt.NDArray[np.int64], k: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    obs = np.bincount(g, weights=e, minlength=k).astype(float)
    exp = np.zeros(k)
    var = np.zeros((k, k))
    for tt in np.unique(t[e == 1]):
        at_risk = t >= tt
        nj = np.bincount(g[at_risk], minlength=k).astype(float)
        n = nj.sum()
        d = float(e[(t == tt)].sum())
        exp += d * nj / n
        if n > 1:
            frac = nj / n
            var += d * (n - d) / (n - 1) * (np.diag(frac) - np.outer(frac, frac))
    return obs, exp, var


def logrank_test(
    time: Any,
    event: Any,
    group: Any,
    *,
    strata: Any = None,
    levels: Sequence[str] | None = None,
    strata_name: str = "strata",
    min_group_size: int = 2,
) -> LogRankResult:
    """Log-rank test of equal survival across groups (R ``survdiff``), stratified when asked."""
    t = as_times(time)
    e = as_events(event)
    lab = as_groups(group, Where("group"), min_size=min_group_size)
    if not (t.size == e.size == lab.size):
        msg = f"time, event and group differ in length ({t.size}, {e.size}, {lab.size})"
        raise InputError(msg)
    names = level_order(list(lab), levels)
    if len(names) < 2:
        msg = f"the log-rank test needs at least 2 groups; got only {names}"
        raise InputError(msg)
    code = np.array([names.index(v) for v in lab], dtype=np.int64)
    k = len(names)
    if strata is None:
        s = np.zeros(t.size, dtype=np.int64)
        n_strata = 1
    else:
        slab = as_groups(strata, Where(strata_name), min_size=1)
        if slab.size != t.size:
            msg = f"strata has {slab.size} values but time has {t.size}"
            raise InputError(msg)
        _, s = np.unique(slab, return_inverse=True)
        n_strata = int(s.max()) + 1
    obs = np.zeros(k)
    exp = np.zeros(k)
    var = np.zeros((k, k))
    for st in range(n_strata):
        m = s == st
        o1, e1, v1 = _stratum(t[m], e[m], code[m], k)
        obs += o1
        exp += e1
        var += v1
    keep = exp > 0
    if keep.sum() < 2:
        chi2 = 0.0
    else:
        diff = (obs - exp)[keep][1:]
        vv = var[np.ix_(keep, keep)][1:, 1:]
        chi2 = float(diff @ np.linalg.solve(vv, diff))
    df = int(keep.sum()) - 1
    p = float(stats.chi2.sf(chi2, df)) if df > 0 else float("nan")
    return LogRankResult(
        groups=tuple(names),
        n=tuple(int((code == i).sum()) for i in range(k)),
        observed=obs,
        expected=exp,
        variance=var,
        chi2=chi2,
        df=df,
        p=p,
        strata=None if strata is None else strata_name,
        n_strata=n_strata,
    )
