"""Time to endpoint: the day each tumour first reaches a volume threshold, then survival
statistics by arm with the clinical module's one implementation (:mod:`kinresist.clinical.survival`:
Kaplan-Meier with a named CI transform, log-rank, Cox with Efron ties and Firth's penalised
model when an arm has no events).

Event time (days since the animal's baseline): the first measurement with V ≥ threshold; with
``interpolate=True``, log-linear interpolation between that measurement and the previous one,
t* = t₁ + (ln thr − ln V₁)·(t₂ − t₁)/(ln V₂ − ln V₁) (no interpolation when V₁ = 0). Animals that
never reach it are censored at their last measurement (removals, deaths from other causes, end of
study). Tumour growth delay TGD = median_T − median_C (days) and %TGD = 100·TGD/median_C; not
estimable when a median is not reached.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.invivo._json import records
from kinresist.invivo.metrics import Aligned

__all__ = ["EndpointAnalysis", "endpoint_analysis", "event_times"]


def event_times(aligned: Aligned, threshold: float, *, interpolate: bool = True) -> pd.DataFrame:
    """One row per animal: ``time`` (days since baseline), ``event`` (1 = reached), notes."""
    if not (threshold > 0 and math.isfinite(threshold)):
        msg = f"endpoint threshold {threshold!r} must be a positive volume"
        raise InputError(msg, column="endpoint")
    rows = []
    for subject, g in aligned.table.groupby("subject", sort=False):
        t = g["t"].to_numpy(float)
        v = g["value"].to_numpy(float)
        hit = np.flatnonzero(v >= threshold)
        note = ""
        if hit.size == 0:
            time, event = float(t[-1]), 0
        else:
            i = int(hit[0])
            time, event = float(t[i]), 1
            if i == 0:
                note = "at or above the threshold at baseline"
            elif interpolate and v[i - 1] > 0 and v[i] > v[i - 1]:
                lo, hi = math.log(v[i - 1]), math.log(v[i])
                time = float(t[i - 1] + (math.log(threshold) - lo) * (t[i] - t[i - 1]) / (hi - lo))
        rows.append(
            {
                "subject": subject,
                "arm": g["arm"].iloc[0],
                "time": time,
                "event": event,
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=["subject", "arm", "time", "event", "note"])


@dataclass(frozen=True, eq=False)
class EndpointAnalysis:
    threshold: float
    interpolate: bool
    times: pd.DataFrame
    survival: Any  # kinresist.clinical.survival.SurvivalAnalysis
    pairwise: pd.DataFrame
    delay: pd.DataFrame
    warnings: tuple[str, ...]

    def body(self) -> dict[str, Any]:
        surv = self.survival.body()
        return {
            "threshold": self.threshold,
            "interpolation": "log-linear" if self.interpolate else "none (first measurement)",
            "event": "first time the volume is at or above the threshold; others censored at "
            "their last measurement",
            "km": {k: surv[k] for k in ("conf_type", "conf_level", "median_method", "groups")},
            "logrank": surv["logrank"],
            "logrank_vs_control": records(self.pairwise),
            "cox": surv["cox"],
            "growth_delay": records(self.delay),
        }


def endpoint_analysis(
    aligned: Aligned,
    arms: Sequence[str],
    control: str,
    threshold: float,
    *,
    interpolate: bool = True,
    conf_type: str = "log",
) -> EndpointAnalysis:
    """Event times, KM per arm, log-rank (overall and each arm vs control), Cox vs control
    (Firth when an arm has no events) and growth delay."""
    from kinresist.clinical.survival import analyze_survival, logrank_test

    times = event_times(aligned, threshold, interpolate=interpolate)
    levels = [a for a in arms if (times["arm"] == a).any()]
    t = times["time"].to_numpy(float)
    e = times["event"].to_numpy(int)
    g = times["arm"].to_numpy(str)
    surv = analyze_survival(
        t,
        e,
        group=g,
        levels=levels,
        reference=control,
        conf_type=conf_type,  # type: ignore[arg-type]
        time_unit="days",
        firth="auto",
    )
    meds = surv.km.medians()
    rows = []
    for a in levels:
        if a == control:
            continue
        m = np.isin(g, [a, control])
        lr = logrank_test(t[m], e[m], g[m], levels=[control, a])
        rows.append({"arm": a, "reference": control, "chi2": lr.chi2, "df": lr.df, "p": lr.p})
    delay = []
    mc = meds[control].estimate if control in meds else None
    for a in levels:
        ma = meds[a].estimate
        if a == control:
            continue
        if ma is None or mc is None:
            d = pd_ = None
            why = "median not reached" if (ma is None or mc is None) else ""
        else:
            d = ma - mc
            pd_ = 100.0 * d / mc if mc > 0 else None
            why = ""
        delay.append(
            {
                "arm": a,
                "median": ma,
                "median_control": mc,
                "tgd_days": d,
                "tgd_pct": pd_,
                "note": why,
            }
        )
    notes = list(surv.warnings)
    early = times[times["note"] != ""]
    if len(early):
        notes.append(
            f"{len(early)} animal(s) already at or above {threshold:g} at baseline: event at day 0"
        )
    return EndpointAnalysis(
        threshold=float(threshold),
        interpolate=interpolate,
        times=times,
        survival=surv,
        pairwise=pd.DataFrame(rows, columns=["arm", "reference", "chi2", "df", "p"]),
        delay=pd.DataFrame(
            delay, columns=["arm", "median", "median_control", "tgd_days", "tgd_pct", "note"]
        ),
        warnings=tuple(notes),
    )
