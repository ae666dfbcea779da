"""Per-animal quantities: baseline alignment, RTV, AUC, log-linear slope, doubling time, best
response, best average response and mRECIST.

mRECIST follows Gao et al. 2015 (*Nat Med* 21:1318) exactly as Bioconductor Xeva's ``mRECIST()``
implements it (``R/mRECIST.R``), the reference the PDXE recomputation was made with:

* ΔV%_t = 100·(V_t − V_0)/V_0 with V_0 the first measurement (a zero V_0 adds 1 to every volume);
* AvgResponse_t = the running mean of ΔV% over the measurements up to t (by count, V_0's 0 %
  included);
* BestResponse = min ΔV%_t and BestAvgResponse = min AvgResponse_t over t ≥ ``min_time``
  (10 days after the baseline); fewer than two measurements at t ≥ ``min_time`` -> not
  evaluable (Xeva warns "insufficient data" and returns NA);
* classes assigned PD -> SD -> PR -> CR: SD if BR < 35 and BAR < 30; PR if BR < −50 and BAR < −20;
  CR if BR < −95 and BAR < −40; else PD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.invivo.data import GrowthData, ZeroRule, log_values

__all__ = [
    "MRECIST_CLASSES",
    "Aligned",
    "BaselineRule",
    "MrecistResult",
    "align",
    "invivosyn_auc",
    "log_linear_slope",
    "mrecist",
    "per_animal",
    "trapezoid",
]

MRECIST_CLASSES = ("CR", "PR", "SD", "PD")
BaselineRule = Literal["auto", "study", "first", "xeva"]


@dataclass(frozen=True)
class MrecistResult:
    """Gao 2015 / Xeva response metrics of one animal (percent; days since baseline)."""

    best_response: float | None
    best_response_time: float | None
    best_avg_response: float | None
    best_avg_response_time: float | None
    call: str | None
    reason: str | None = None


def mrecist(time: np.ndarray, volume: np.ndarray, *, min_time: float = 10.0) -> MrecistResult:
    """mRECIST of one animal (``time`` in days since baseline, sorted; volumes measured)."""
    t = np.asarray(time, dtype=float)
    v = np.asarray(volume, dtype=float)
    if v.size == 0:
        return MrecistResult(None, None, None, None, None, "no measurements")
    if v[0] == 0:
        v = v + 1.0
    change = 100.0 * (v - v[0]) / v[0]
    avg = np.cumsum(change) / np.arange(1, change.size + 1)
    window = t >= min_time
    if int(window.sum()) < 2:
        reason = (
            f"fewer than two measurements at or after day {min_time:g} (Xeva: insufficient data)"
        )
        return MrecistResult(None, None, None, None, None, reason)
    idx = np.flatnonzero(window)
    i_br = idx[int(np.argmin(change[idx]))]
    i_bar = idx[int(np.argmin(avg[idx]))]
    br, bar = float(change[i_br]), float(avg[i_bar])
    call = "PD"
    if br < 35 and bar < 30:
        call = "SD"
    if br < -50 and bar < -20:
        call = "PR"
    if br < -95 and bar < -40:
        call = "CR"
    return MrecistResult(br, float(t[i_br]), bar, float(t[i_bar]), call)


def trapezoid(t: np.ndarray, y: np.ndarray) -> float:
    """Trapezoid-rule area (NaN when fewer than two points)."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.size < 2:
        return float("nan")
    return float(np.sum(np.diff(t) * (y[1:] + y[:-1]) / 2.0))


def invivosyn_auc(t: np.ndarray, v: np.ndarray) -> float:
    """invivoSyn's normalised AUC: 2·[∫log(V+1)dt − log(V_0+1)·span]/span² (≈ exponential rate)."""
    t = np.asarray(t, dtype=float)
    v = np.asarray(v, dtype=float)
    if t.size < 2:
        return float("nan")
    span = t[-1] - t[0]
    y = np.log1p(v)
    return 2.0 * (trapezoid(t, y) - y[0] * span) / span**2


def log_linear_slope(t: np.ndarray, logv: np.ndarray) -> tuple[float, float]:
    """OLS slope of log volume on time and its standard error (NaN when undefined)."""
    ok = np.isfinite(logv)
    t = np.asarray(t, dtype=float)[ok]
    y = np.asarray(logv, dtype=float)[ok]
    if t.size < 2 or np.ptp(t) == 0:
        return float("nan"), float("nan")
    tc = t - t.mean()
    sxx = float(tc @ tc)
    b = float(tc @ (y - y.mean())) / sxx
    if t.size < 3:
        return b, float("nan")
    resid = y - y.mean() - b * tc
    s2 = float(resid @ resid) / (t.size - 2)
    return b, math.sqrt(s2 / sxx)


@dataclass(frozen=True)
class Aligned:
    """Measured rows with time since baseline: columns of :attr:`GrowthData.table` plus
    ``t`` (days since the animal's baseline), ``v0``, ``rtv`` (NaN when V_0 = 0), ``delta``."""

    table: pd.DataFrame
    rule: Literal["study", "first", "xeva"]
    study_day: float | None
    notes: tuple[str, ...]


def align(
    data: GrowthData,
    *,
    baseline: BaselineRule = "auto",
    baseline_day: float | None = None,
) -> Aligned:
    """Attach each animal's baseline.

    ``study``: every animal's baseline is its value on the study baseline day (``baseline_day``,
    else the day the file declares, else the first day of the study); an animal without it is
    an input error (SynergyLMM would give it RTV = NA; we refuse to guess). ``first``: each
    animal's own first measurement, times re-zeroed per animal (invivoSyn's intent). ``xeva``:
    each animal's first measurement, times kept on the study clock (days since the study's day
    0: ``baseline_day``, else the file's, else the first day of the study), as Xeva's
    ``mRECIST()`` and Gao 2015 use them (a model first measured on day 16 keeps day 16). ``auto``
    is ``xeva`` for PDX sets and ``study`` otherwise.
    """
    rule: Literal["study", "first", "xeva"]
    if baseline == "auto":
        rule = "xeva" if (data.has_lines or data.reader == "xeva") else "study"
    elif baseline in ("study", "first", "xeva"):
        rule = baseline
    else:
        msg = f"unknown baseline rule {baseline!r}; expected 'auto', 'study', 'first' or 'xeva'"
        raise InputError(msg)
    t = data.measured()
    notes: list[str] = []
    if rule == "study":
        day0 = baseline_day if baseline_day is not None else data.baseline_day
        if day0 is None:
            day0 = float(data.table["day"].min())
        base = t[t["day"] == day0].set_index("subject")["value"]
        for s in data.subjects:
            if s not in base.index:
                rows = data.table[data.table["subject"] == s]
                at = rows[rows["day"] == day0]
                line = int((at if len(at) else rows)["source_line"].iloc[0])
                col = _baseline_column(data, day0)
                msg = (
                    f"animal {s!r} has no baseline volume on day {day0:g}; expected a value on "
                    "the baseline day for every animal (fill it in, remove the animal, or use "
                    "baseline 'first' to re-zero each animal at its first measurement)"
                )
                raise InputError(msg, path=data.source, line=line, column=col)
        t = t[t["day"] >= day0].copy()
        t["v0"] = t["subject"].map(base).astype(float)
        t["t"] = t["day"] - day0
        study_day: float | None = float(day0)
    else:
        first = t.groupby("subject")["day"].transform("min")
        t = t.copy()
        v0 = t[t["day"] == first].set_index("subject")["value"]
        t["v0"] = t["subject"].map(v0).astype(float)
        if rule == "first":
            t["t"] = t["day"] - first
            study_day = None
        else:
            origin = baseline_day if baseline_day is not None else data.baseline_day
            if origin is None:
                origin = float(data.table["day"].min())
            t = t[t["day"] >= origin].copy()
            t["t"] = t["day"] - origin
            study_day = float(origin)
    zero = sorted(t.loc[t["v0"] == 0, "subject"].unique())
    if zero:
        notes.append(
            f"{len(zero)} animal(s) with a zero baseline ({', '.join(zero[:5])}): RTV and "
            "log-scale quantities are undefined for them"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        t["rtv"] = np.where(t["v0"] > 0, t["value"] / t["v0"], np.nan)
    t["delta"] = t["value"] - t["v0"]
    t = t.sort_values(["subject", "t"], kind="stable").reset_index(drop=True)
    return Aligned(table=t, rule=rule, study_day=study_day, notes=tuple(notes))


def _baseline_column(data: GrowthData, day0: float) -> str:
    if "source_column" in data.table.columns:
        at = data.table.loc[data.table["day"] == day0, "source_column"]
        if len(at) and data.reader in ("invivosyn", "tumgrowth"):
            return str(at.iloc[0])
    return "day"


def per_animal(
    aligned: Aligned,
    *,
    day: float | None,
    zero_rule: ZeroRule = "drop",
    min_time: float = 10.0,
) -> pd.DataFrame:
    """One row per animal.

    Window quantities use t ≤ ``day`` (D: a study day, or days since the animal's baseline under
    the ``first`` rule; the whole series when ``day`` is None): ``value_day``/``rtv_day``/``delta_day`` (NaN unless
    measured on D), ``auc_day`` (trapezoid of V), ``auc_delta_day`` (trapezoid of V − V_0, DRAP's
    F), ``auc_log_rate`` (invivoSyn's normalised AUC). Whole-series quantities: ``slope`` (OLS
    of log V on days, zero rule applied) ± ``slope_se``, ``doubling_time`` = ln 2/slope (slope
    > 0), ``auc`` (trapezoid of V, Xeva ``AUC``), best response, best average response, mRECIST.
    """
    t = aligned.table
    pos = t.loc[t["value"] > 0, "value"]
    min_pos = float(pos.min()) if len(pos) else float("nan")
    rows = []
    for subject, g in t.groupby("subject", sort=False):
        g = g.sort_values("t")
        tt = g["t"].to_numpy(float)
        vv = g["value"].to_numpy(float)
        d_t = None  # D in days since baseline
        if day is not None:
            d_t = day if aligned.study_day is None else day - aligned.study_day
        win = tt <= d_t if d_t is not None else np.ones(tt.size, dtype=bool)
        at = np.flatnonzero(np.isclose(tt, d_t)) if d_t is not None else np.array([tt.size - 1])
        measured_at = at.size > 0
        i_d = int(at[0]) if measured_at else -1
        v0 = float(g["v0"].iloc[0])
        logv = log_values(vv, zero_rule, min_positive=min_pos)
        slope, slope_se = log_linear_slope(tt, logv)
        mr = mrecist(tt, vv, min_time=min_time)
        rows.append(
            {
                "subject": subject,
                "arm": g["arm"].iloc[0],
                "line": g["line"].iloc[0],
                "baseline_day": float(g["day"].iloc[0]),
                "v0": v0,
                "n_obs": int(vv.size),
                "last_day": float(g["day"].iloc[-1]),
                "measured_on_day": bool(measured_at),
                "value_day": float(vv[i_d]) if measured_at else float("nan"),
                "rtv_day": float(g["rtv"].iloc[i_d]) if measured_at else float("nan"),
                "delta_day": float(vv[i_d] - v0) if measured_at else float("nan"),
                "auc_day": trapezoid(tt[win], vv[win]) if measured_at else float("nan"),
                "auc_delta_day": trapezoid(tt[win], vv[win] - v0) if measured_at else float("nan"),
                "auc_log_rate": invivosyn_auc(tt[win], vv[win]),
                "auc": trapezoid(tt, vv),
                "slope": slope,
                "slope_se": slope_se,
                "doubling_time": math.log(2) / slope if slope > 0 else float("nan"),
                "best_response": mr.best_response,
                "best_response_time": mr.best_response_time,
                "best_avg_response": mr.best_avg_response,
                "best_avg_response_time": mr.best_avg_response_time,
                "mrecist": mr.call,
                "mrecist_note": mr.reason,
            }
        )
    out = pd.DataFrame(rows)
    for c in ("best_response", "best_response_time", "best_avg_response", "best_avg_response_time"):
        out[c] = out[c].astype(float)
    return out
