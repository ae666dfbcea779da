"""Survival analysis: the one implementation used by every kinresist workflow.

Public functions (typed arrays in, frozen results out; the in vivo and TME workflows import them):

* :func:`kaplan_meier` - KM per group with the pointwise CI transform named (``log``, R's default;
  ``log-log``; ``plain``), medians with the Brookmeyer-Crowley CI or "NR", landmark survival,
  numbers at risk (:class:`KaplanMeier`, :class:`KMCurve`, :class:`MedianSurvival`);
* :func:`reverse_kaplan_meier` - median follow-up by the reverse KM;
* :func:`logrank_test` - R ``survdiff`` (stratified when asked);
* :func:`cox_ph` - Cox HR, Wald CI and p (Efron ties by default, Breslow option); Firth-penalised
  and flagged when a group has no events; :func:`firth_cox` - Firth's model directly;
* :func:`analyze_survival` - all of the above for one patient table, as a
  :class:`SurvivalAnalysis` whose ``body()`` is the ``clinical survival`` JSON.

Numbers are R's: see the docstrings of ``_km``, ``_logrank`` and ``_cox`` for what is replicated
and tests/clinical for the references.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kinresist.clinical._cox import CoxResult, CoxTerm, FirthMode, Ties, cox_ph, firth_cox
from kinresist.clinical._format import json_num
from kinresist.clinical._km import (
    CONF_TYPES,
    ConfType,
    KaplanMeier,
    KMCurve,
    MedianSurvival,
    kaplan_meier,
    pointwise_ci,
    reverse_kaplan_meier,
)
from kinresist.clinical._logrank import LogRankResult, logrank_test
from kinresist.clinical._validate import Where, as_events, as_groups, as_times
from kinresist.errors import FitError, InputError, KinresistWarning

__all__ = [
    "CONF_TYPES",
    "ConfType",
    "CoxResult",
    "CoxTerm",
    "FirthMode",
    "KMCurve",
    "KaplanMeier",
    "LogRankResult",
    "MedianSurvival",
    "SurvivalAnalysis",
    "Ties",
    "analyze_survival",
    "cox_ph",
    "firth_cox",
    "kaplan_meier",
    "logrank_test",
    "nice_times",
    "pointwise_ci",
    "reverse_kaplan_meier",
]


def nice_times(max_time: float, *, target: int = 6) -> list[float]:
    """Round break times 0, step, 2·step ... covering ``max_time`` (risk-table columns)."""
    if not math.isfinite(max_time) or max_time <= 0:
        return [0.0]
    raw = max_time / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    n = math.floor(max_time / step + 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


@dataclass(frozen=True, eq=False)
class SurvivalAnalysis:
    """KM, median follow-up, log-rank and Cox of one cohort; ``body()`` is the JSON."""

    km: KaplanMeier
    follow_up: KaplanMeier
    follow_up_all: MedianSurvival
    logrank: LogRankResult | None
    cox: CoxResult | None
    landmark_times: tuple[float, ...]
    risk_times: tuple[float, ...]
    time_unit: str = ""
    group_name: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def landmarks(self) -> pd.DataFrame:
        if not self.landmark_times:
            return pd.DataFrame(
                columns=["group", "time", "surv", "std_err", "lower", "upper", "n_risk"]
            )
        return self.km.landmarks(list(self.landmark_times))

    def groups_table(self) -> pd.DataFrame:
        """One row per group: n, events, median (CI), median follow-up (CI)."""
        table = self.km.summary_table()
        fu = self.follow_up.medians()
        table["follow_up_median"] = [fu[g].estimate for g in table["group"]]
        table["follow_up_lower"] = [fu[g].lower for g in table["group"]]
        table["follow_up_upper"] = [fu[g].upper for g in table["group"]]
        table["time_unit"] = self.time_unit
        return table

    def body(self) -> dict[str, Any]:
        lm = self.landmarks()
        groups = []
        fu = self.follow_up.medians()
        for c in self.km.curves:
            med = c.median()
            rows = lm[lm["group"] == c.label] if len(lm) else lm
            groups.append(
                {
                    "group": c.label,
                    "n": c.n,
                    "events": c.events,
                    **med.to_dict(),
                    "follow_up_median": json_num(fu[c.label].estimate),
                    "follow_up_ci": [json_num(fu[c.label].lower), json_num(fu[c.label].upper)],
                    "landmarks": [
                        {
                            "time": float(r["time"]),
                            "surv": _num(r["surv"]),
                            "ci": [_num(r["lower"]), _num(r["upper"])],
                            "n_risk": int(r["n_risk"]),
                            "estimable": bool(r["estimable"]),
                        }
                        for _, r in rows.iterrows()
                    ],
                }
            )
        risk = self.km.risk_table(list(self.risk_times))
        return {
            "time_unit": self.time_unit,
            "group_column": self.group_name,
            "conf_type": self.km.conf_type,
            "conf_level": self.km.conf_level,
            "median_method": "Brookmeyer-Crowley from the pointwise band (as R print.survfit)",
            "groups": groups,
            "follow_up": {"method": "reverse Kaplan-Meier", **self.follow_up_all.to_dict()},
            "logrank": None if self.logrank is None else self.logrank.to_dict(),
            "cox": None if self.cox is None else self.cox.to_dict(),
            "risk_table": {
                "times": [float(t) for t in self.risk_times],
                "n_risk": {
                    str(r["group"]): [int(v) for v in r.iloc[1:]] for _, r in risk.iterrows()
                },
            },
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        out: dict[str, pd.DataFrame] = {"groups": self.groups_table()}
        if self.landmark_times:
            out["landmarks"] = self.landmarks()
        out["risk_table"] = self.km.risk_table(list(self.risk_times))
        if self.logrank is not None:
            out["logrank"] = self.logrank.table()
        if self.cox is not None:
            out["cox"] = self.cox.table()
        out["curves"] = self.km.curve_table()
        return out


def _num(v: Any) -> float | None:
    f = float(v)
    return f if math.isfinite(f) else None


def analyze_survival(
    time: Any,
    event: Any,
    *,
    group: Any = None,
    strata: Any = None,
    levels: Sequence[str] | None = None,
    reference: str | None = None,
    conf_type: ConfType = "log",
    ties: Ties = "efron",
    alpha: float = 0.05,
    landmarks: Sequence[float] = (),
    risk_times: Sequence[float] | None = None,
    time_unit: str = "",
    firth: FirthMode = "auto",
    group_where: Where | None = None,
    strata_where: Where | None = None,
) -> SurvivalAnalysis:
    """KM per group, median follow-up, log-rank and Cox for one cohort.

    ``group_where``/``strata_where`` carry file/column context for error messages (readers).
    Warnings of the Cox fit (Firth used) are returned in ``warnings`` rather than raised.
    """
    t = as_times(time)
    e = as_events(event)
    g = None
    gname = None
    if group is not None:
        gw = group_where or Where("group")
        g = as_groups(group, gw, min_size=2)
        gname = gw.column
    s = None
    sname = None
    if strata is not None:
        sw = strata_where or Where("strata")
        s = as_groups(strata, sw, min_size=1)
        sname = sw.column
    for lm in landmarks:
        if not math.isfinite(lm) or lm < 0:
            msg = f"landmark time {lm!r} must be a finite time >= 0"
            raise InputError(msg)
    km = kaplan_meier(t, e, group=g, levels=levels, conf_type=conf_type, alpha=alpha)
    fu = reverse_kaplan_meier(t, e, group=g, levels=levels, conf_type=conf_type, alpha=alpha)
    fu_all = reverse_kaplan_meier(t, e, conf_type=conf_type, alpha=alpha).curves[0].median()
    notes: list[str] = []
    lr = None
    cox = None
    if g is not None and len(km.curves) >= 2:
        lr = logrank_test(t, e, g, strata=s, levels=levels, strata_name=sname or "strata")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", KinresistWarning)
            try:
                cox = cox_ph(
                    t,
                    e,
                    g,
                    reference=reference,
                    levels=levels,
                    strata=s,
                    ties=ties,
                    alpha=alpha,
                    firth=firth,
                    group_name=gname or "group",
                    strata_name=sname or "strata",
                )
            except FitError as exc:
                notes.append(f"Cox model not reported: {exc}")
        notes += [str(w.message) for w in caught if issubclass(w.category, KinresistWarning)]
    elif s is not None:
        notes.append("strata ignored: there is no group comparison to stratify")
    if risk_times is None:
        risk = nice_times(float(np.max(t)) if t.size else 0.0)
    else:
        risk = [float(v) for v in risk_times]
    for c in km.curves:
        if c.events == 0:
            notes.append(f"group {c.label!r} has no events: its median is not reached")
    return SurvivalAnalysis(
        km=km,
        follow_up=fu,
        follow_up_all=fu_all,
        logrank=lr,
        cox=cox,
        landmark_times=tuple(float(v) for v in landmarks),
        risk_times=tuple(risk),
        time_unit=time_unit,
        group_name=gname,
        warnings=tuple(notes),
    )
