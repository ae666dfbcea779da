"""The rising-fraction test of the timeline: a log-linear trend over three or more draws.

ctDNA fractions grow (and fall) roughly exponentially, so the test is an ordinary least-squares
regression of ``ln(fraction)`` on days since the first draw, with a one-sided t test of the slope
(H1: slope > 0, ``n - 2`` degrees of freedom). It is R's
``summary(lm(log(y) ~ days))$coefficients["days", ]`` with the two-sided p-value halved when the
slope is positive. Only detected values enter (a below-LoD draw has no value to log; treating it
as the LoD would invent one), and only values of one assay (ddPCR fractional abundance and NGS VAF
are not on one scale).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TEST_NAME", "TrendTest", "log_trend"]

TEST_NAME = "OLS slope of ln(fraction) on days, one-sided t test (H1: slope > 0)"


@dataclass(frozen=True, slots=True)
class TrendTest:
    """Result of :func:`log_trend`."""

    n: int
    slope_per_day: float
    se: float
    t: float
    df: int
    p_value: float
    fold_per_30_days: float
    doubling_days: float | None
    test: str = TEST_NAME

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "n": self.n,
            "slope_per_day": self.slope_per_day,
            "se": self.se,
            "t": self.t,
            "df": self.df,
            "p_value": self.p_value,
            "fold_per_30_days": self.fold_per_30_days,
            "doubling_days": self.doubling_days,
        }


def log_trend(days: Sequence[float], values: Sequence[float]) -> TrendTest:
    """Fit ``ln(values) = a + b * days`` and test ``b > 0`` (see the module docstring).

    Raises
    ------
    ValueError
        Fewer than 3 points, a value that is not > 0, or all points on one day.
    """
    import numpy as np
    from scipy import stats

    x = np.asarray(days, dtype=float)
    y = np.asarray(values, dtype=float)
    if x.shape != y.shape or x.size < 3:
        msg = f"a trend needs at least 3 (day, value) pairs, got {x.size}"
        raise ValueError(msg)
    if not (np.all(np.isfinite(y)) and np.all(y > 0)):
        msg = "trend values must be finite fractions > 0 (detected values only)"
        raise ValueError(msg)
    sxx = float(np.sum((x - x.mean()) ** 2))
    if sxx == 0:
        msg = "all draws fall on one day: no trend over time can be estimated"
        raise ValueError(msg)
    ly = np.log(y)
    slope = float(np.sum((x - x.mean()) * (ly - ly.mean())) / sxx)
    intercept = float(ly.mean() - slope * x.mean())
    resid = ly - (intercept + slope * x)
    df = int(x.size - 2)
    se = math.sqrt(float(np.sum(resid**2)) / df / sxx)
    if se > 0:
        t = slope / se
        p = float(stats.t.sf(t, df))
    else:  # an exact fit: the sign of the slope decides
        t = math.copysign(math.inf, slope) if slope != 0 else 0.0
        p = 0.0 if slope > 0 else 1.0
    return TrendTest(
        n=int(x.size),
        slope_per_day=slope,
        se=se,
        t=t,
        df=df,
        p_value=p,
        fold_per_30_days=math.exp(30.0 * slope),
        doubling_days=math.log(2.0) / slope if slope > 0 else None,
    )
