"""Kaplan-Meier curves as R ``survival::survfit`` computes and prints them.

What is replicated (survival 3.x sources: ``src/survfitkm.c``, ``R/survfit.R::survfit_confint``,
``R/print.survfit.R``):

* one row per distinct time (events and censorings), ``n.risk`` = patients with time >= t;
  S(t) = prod(1 - d/n); ``std.err`` = Greenwood standard error of -log S,
  sqrt(sum d / (n (n - d))) (infinite once S reaches 0);
* pointwise CI by ``conf_type``: ``log`` (R's default) S·exp(±z·se), upper capped at 1;
  ``log-log`` exp(-exp(log(-log S) ± z·se/log S)) (lifelines' and SAS's default); ``plain``
  S ± z·se·S clipped to [0, 1]; undefined (NaN) where S = 0, and S itself where se = 0;
* median and its CI as ``print.survfit`` prints them: the first time the curve (the lower band,
  the upper band) is <= 0.5; when the curve sits exactly at 0.5 the midpoint to the next drop.
  A band that never reaches 0.5 gives "not reached" (None), as R prints NA. This is the
  Brookmeyer-Crowley interval obtained from the transformed pointwise band.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from kinresist.clinical._format import fmt_ci, json_num
from kinresist.clinical._validate import Where, as_events, as_groups, as_times, level_order
from kinresist.errors import InputError

__all__ = [
    "CONF_TYPES",
    "ConfType",
    "KMCurve",
    "KaplanMeier",
    "MedianSurvival",
    "kaplan_meier",
    "pointwise_ci",
    "reverse_kaplan_meier",
]

ConfType = Literal["log", "log-log", "plain"]
CONF_TYPES: tuple[str, ...] = ("log", "log-log", "plain")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_TOL = math.sqrt(np.finfo(float).eps)  # R: .Machine$double.eps^.5 (as all.equal)


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        msg = f"alpha must be in (0, 1), got {alpha!r} (0.05 gives 95% intervals)"
        raise InputError(msg)
    return float(stats.norm.ppf(1 - alpha / 2))


def check_conf_type(conf_type: str) -> ConfType:
    if conf_type not in CONF_TYPES:
        msg = f"unknown conf_type {conf_type!r}; expected one of {list(CONF_TYPES)}"
        raise InputError(msg)
    return conf_type  # type: ignore[return-value]


def pointwise_ci(
    surv: FloatArray, std_err: FloatArray, conf_type: ConfType, z: float
) -> tuple[FloatArray, FloatArray]:
    """Pointwise CI of S(t) from the Greenwood se of -log S (R ``survfit_confint``, logse)."""
    surv = np.asarray(surv, dtype=float)
    se = np.asarray(std_err, dtype=float)
    flat = se == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = se * surv * z
            lower = np.maximum(surv - half, 0.0)
            upper = np.minimum(surv + half, 1.0)
        elif conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lower = np.where(flat, surv, np.exp(np.log(xx) - z * se))
            upper = np.minimum(np.where(flat, surv, np.exp(np.log(xx) + z * se)), 1.0)
        elif conf_type == "log-log":
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            half = z * se / np.log(xx)
            lower = np.where(flat, surv, np.exp(-np.exp(np.log(-np.log(xx)) - half)))
            upper = np.where(flat, surv, np.exp(-np.exp(np.log(-np.log(xx)) + half)))
        else:  # pragma: no cover - checked by check_conf_type
            msg = f"unknown conf_type {conf_type!r}"
            raise InputError(msg)
    # NaN propagates through maximum/minimum as R's pmax/pmin propagate NA
    return lower, upper


def _first_below_half(y: FloatArray, x: FloatArray) -> float | None:
    """R ``print.survfit``'s ``minmin``: first x with y <= 0.5 (midpoint rule on a flat at 0.5)."""
    keep = ~np.isnan(y) & (y < 0.5 + _TOL)
    if not keep.any():
        return None
    xs, ys = x[keep], y[keep]
    if abs(ys[0] - 0.5) < _TOL and (ys < ys[0]).any():
        nxt = int(np.argmax(ys < ys[0]))
        return float((xs[0] + xs[nxt]) / 2)
    return float(xs[0])


@dataclass(frozen=True)
class MedianSurvival:
    """Median survival with its CI; ``None`` means not reached (printed "NR")."""

    estimate: float | None
    lower: float | None
    upper: float | None
    conf_level: float
    conf_type: str

    @property
    def reached(self) -> bool:
        return self.estimate is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "median": json_num(self.estimate),
            "median_ci": [json_num(self.lower), json_num(self.upper)],
        }

    def text(self, digits: int = 1) -> str:
        return fmt_ci(self.estimate, self.lower, self.upper, digits)


@dataclass(frozen=True, eq=False)
class KMCurve:
    """One Kaplan-Meier curve, one row per distinct time (as R ``survfit``)."""

    label: str
    n: int
    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    surv: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    conf_type: ConfType
    conf_level: float

    @property
    def events(self) -> int:
        return int(self.n_event.sum())

    @property
    def max_time(self) -> float:
        return float(self.time[-1]) if self.time.size else 0.0

    def median(self) -> MedianSurvival:
        """Median with the CI where the pointwise band crosses 0.5 (as ``print.survfit``)."""
        return MedianSurvival(
            estimate=_first_below_half(self.surv, self.time),
            lower=_first_below_half(self.lower, self.time),
            upper=_first_below_half(self.upper, self.time),
            conf_level=self.conf_level,
            conf_type=self.conf_type,
        )

    def n_risk_at(self, times: Sequence[float] | FloatArray) -> IntArray:
        """Patients still at risk at each time (follow-up time >= t), as survminer's risk table."""
        t = np.asarray(times, dtype=float)
        # n.risk at the first row is n; rows are distinct times, so count by their n_risk
        idx = np.searchsorted(self.time, t, side="left")
        out = np.zeros(t.shape, dtype=np.int64)
        inside = idx < self.time.size
        out[inside] = self.n_risk[idx[inside]]
        return out

    def at(self, times: Sequence[float] | FloatArray) -> pd.DataFrame:
        """Landmark survival (R ``summary(fit, times=)``): S, se(S), CI and numbers at risk.

        Beyond the last follow-up time S is unknown (NaN, ``estimable`` False) unless the curve
        already reached 0.
        """
        t = np.asarray(times, dtype=float)
        idx = np.searchsorted(self.time, t, side="right") - 1
        rows = []
        cum_events = np.cumsum(self.n_event)
        cum_censor = np.cumsum(self.n_censor)
        risk = self.n_risk_at(t)
        for ti, i, nr in zip(t, idx, risk, strict=True):
            if i < 0:
                s, se, lo, hi, ev, ce = 1.0, 0.0, 1.0, 1.0, 0, 0
                ok = True
            else:
                s = float(self.surv[i])
                ok = ti <= self.max_time or s == 0.0
                se = float(self.std_err[i] * s) if s > 0 else math.nan
                lo, hi = float(self.lower[i]), float(self.upper[i])
                ev, ce = int(cum_events[i]), int(cum_censor[i])
            if not ok:
                s = se = lo = hi = math.nan
            rows.append(
                {
                    "group": self.label,
                    "time": float(ti),
                    "surv": s,
                    "std_err": se,
                    "lower": lo,
                    "upper": hi,
                    "n_risk": int(nr),
                    "cum_events": ev,
                    "cum_censored": ce,
                    "estimable": ok,
                }
            )
        return pd.DataFrame(rows)

    def frame(self) -> pd.DataFrame:
        """The curve as R's ``summary(fit, censored=TRUE)`` rows."""
        return pd.DataFrame(
            {
                "group": self.label,
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "surv": self.surv,
                "std_err_log": self.std_err,
                "lower": self.lower,
                "upper": self.upper,
            }
        )


def km_curve(
    label: str,
    time: FloatArray,
    event: IntArray,
    *,
    conf_type: ConfType = "log",
    alpha: float = 0.05,
) -> KMCurve:
    """One curve from validated arrays."""
    z = _z(alpha)
    order = np.argsort(time, kind="stable")
    t, e = time[order], event[order]
    n = int(t.size)
    ut, first, counts = np.unique(t, return_index=True, return_counts=True)
    d = np.add.reduceat(e, first) if n else np.zeros(0, dtype=np.int64)
    n_risk = (n - first).astype(np.int64)
    d = d.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(d > 0, (n_risk - d) / n_risk, 1.0)
        surv = np.cumprod(factor).astype(np.float64)
        terms = np.where(d > 0, d / (n_risk * (n_risk - d).astype(float)), 0.0)
    std_err = np.sqrt(np.cumsum(terms))
    lower, upper = pointwise_ci(surv, std_err, conf_type, z)
    return KMCurve(
        label=label,
        n=n,
        time=ut.astype(float),
        n_risk=n_risk,
        n_event=d,
        n_censor=(counts - d).astype(np.int64),
        surv=surv,
        std_err=std_err,
        lower=lower,
        upper=upper,
        conf_type=conf_type,
        conf_level=1 - alpha,
    )


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """Kaplan-Meier curves of one or more groups (same CI transform and level)."""

    curves: tuple[KMCurve, ...]
    conf_type: ConfType
    conf_level: float
    reverse: bool = False

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.curves]

    def __getitem__(self, label: str) -> KMCurve:
        for c in self.curves:
            if c.label == label:
                return c
        msg = f"no curve {label!r}; curves: {self.labels}"
        raise KeyError(msg)

    def medians(self) -> dict[str, MedianSurvival]:
        return {c.label: c.median() for c in self.curves}

    def summary_table(self) -> pd.DataFrame:
        """One row per group: n, events, median and its CI (R's ``print(fit)`` table)."""
        rows = []
        for c in self.curves:
            m = c.median()
            rows.append(
                {
                    "group": c.label,
                    "n": c.n,
                    "events": c.events,
                    "median": m.estimate,
                    "median_lower": m.lower,
                    "median_upper": m.upper,
                    "median_text": m.text(),
                    "conf_type": self.conf_type,
                    "conf_level": self.conf_level,
                }
            )
        return pd.DataFrame(rows)

    def landmarks(self, times: Sequence[float]) -> pd.DataFrame:
        """Survival at each landmark time per group, with CI (same transform)."""
        frames = [c.at(times) for c in self.curves]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def risk_table(self, times: Sequence[float]) -> pd.DataFrame:
        """Number at risk per group (rows) at each time (columns), as under a KM plot."""
        t = np.asarray(times, dtype=float)
        data = {c.label: c.n_risk_at(t) for c in self.curves}
        frame = pd.DataFrame(data, index=[_time_label(v) for v in t]).T
        frame.index.name = "group"
        return frame.reset_index()

    def curve_table(self) -> pd.DataFrame:
        return pd.concat([c.frame() for c in self.curves], ignore_index=True)


def _time_label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _fit(
    time: Any,
    event: Any,
    *,
    group: Any,
    levels: Sequence[str] | None,
    conf_type: str,
    alpha: float,
    reverse: bool,
    min_group_size: int,
) -> KaplanMeier:
    ct = check_conf_type(conf_type)
    t = as_times(time)
    e = as_events(event)
    if t.size != e.size:
        msg = f"time has {t.size} values but event has {e.size}; they must be the same length"
        raise InputError(msg)
    if t.size == 0:
        msg = "no patients: time and event are empty"
        raise InputError(msg)
    if reverse:
        e = 1 - e
    if group is None:
        curves: tuple[KMCurve, ...] = (km_curve("all", t, e, conf_type=ct, alpha=alpha),)
    else:
        g = as_groups(group, Where("group"), min_size=min_group_size)
        if g.size != t.size:
            msg = f"group has {g.size} values but time has {t.size}; they must be the same length"
            raise InputError(msg)
        curves = tuple(
            km_curve(lab, t[g == lab], e[g == lab], conf_type=ct, alpha=alpha)
            for lab in level_order(list(g), levels)
        )
    return KaplanMeier(curves=curves, conf_type=ct, conf_level=1 - alpha, reverse=reverse)


def kaplan_meier(
    time: Any,
    event: Any,
    *,
    group: Any = None,
    levels: Sequence[str] | None = None,
    conf_type: ConfType = "log",
    alpha: float = 0.05,
    min_group_size: int = 2,
) -> KaplanMeier:
    """Kaplan-Meier curves (per group) as R ``survfit(Surv(time, event) ~ group)``.

    Parameters
    ----------
    time, event
        Follow-up times (>= 0) and event indicators (1/0 or TRUE/FALSE).
    group
        Optional group label per patient; curves are ordered by ``levels`` or sorted labels.
    conf_type
        Pointwise CI transform: ``"log"`` (R's default), ``"log-log"`` (lifelines, SAS) or
        ``"plain"``. The median's CI follows the same band.
    alpha
        1 - confidence level.
    min_group_size
        Groups with fewer patients are refused (usually a misspelt label).
    """
    return _fit(
        time,
        event,
        group=group,
        levels=levels,
        conf_type=conf_type,
        alpha=alpha,
        reverse=False,
        min_group_size=min_group_size,
    )


def reverse_kaplan_meier(
    time: Any,
    event: Any,
    *,
    group: Any = None,
    levels: Sequence[str] | None = None,
    conf_type: ConfType = "log",
    alpha: float = 0.05,
    min_group_size: int = 2,
) -> KaplanMeier:
    """Reverse Kaplan-Meier (censoring as the event): its median is the median follow-up.

    Same as R ``survfit(Surv(time, 1 - status) ~ group)`` (Schemper & Smith 1996); note that
    prodlim's ``reverse=TRUE`` orders tied deaths before censorings and can differ at ties.
    """
    return _fit(
        time,
        event,
        group=group,
        levels=levels,
        conf_type=conf_type,
        alpha=alpha,
        reverse=True,
        min_group_size=min_group_size,
    )
