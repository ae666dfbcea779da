"""Per-arm summaries of an in vivo analysis: animals measured on day D, the arm block of the JSON
body (every TGI variant with its interval, NCI flag, regression, mRECIST counts), the tumr-style
slope ANOVA, the store measurements per animal, and the figures of a result."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kinresist.invivo._json import num
from kinresist.invivo.data import GrowthData
from kinresist.invivo.metrics import MRECIST_CLASSES, Aligned
from kinresist.invivo.tgi import TGI_VARIANTS, ArmSample, nci_activity

__all__ = ["ASSAY", "arm_samples", "arms_block", "figures", "measurements", "slope_anova"]

ASSAY = "tumour growth (in vivo)"


def arm_samples(animals: pd.DataFrame, arms: Sequence[str]) -> dict[str, ArmSample]:
    out = {}
    for arm in arms:
        a = animals[(animals["arm"] == arm) & animals["measured_on_day"]]
        a = a[np.isfinite(a["v0"].to_numpy(float))]
        out[arm] = ArmSample(
            arm,
            a["value_day"].to_numpy(float),
            a["v0"].to_numpy(float),
            a["rtv_day"].to_numpy(float),
            a["auc_delta_day"].to_numpy(float),
        )
    return out


def slope_anova(animals: pd.DataFrame, arms: Sequence[str]) -> dict[str, Any] | None:
    """tumr-style robust alternative: per-animal log-linear slopes, one-way ANOVA, Tukey HSD."""
    from scipy import stats

    groups = {}
    for arm in arms:
        v = animals.loc[animals["arm"] == arm, "slope"].to_numpy(float)
        v = v[np.isfinite(v)]
        if v.size >= 2:
            groups[arm] = v
    if len(groups) < 2:
        return None
    names = list(groups)
    if all(np.ptp(v) == 0 for v in groups.values()):
        return None  # no within-arm variation: F and Tukey are undefined
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant arm: reported as NaN
        f, p = stats.f_oneway(*groups.values())
        tk = stats.tukey_hsd(*groups.values())
        ci = tk.confidence_interval()
    rows = []
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            rows.append(
                {
                    "arm": names[j],
                    "reference": a,
                    "difference": float(groups[names[j]].mean() - groups[a].mean()),
                    "ci_low": float(-ci.high[i, j]),
                    "ci_high": float(-ci.low[i, j]),
                    "p_tukey": float(tk.pvalue[i, j]),
                }
            )
    return {
        "method": "per-animal OLS slope of ln V on days (whole series), one-way ANOVA, Tukey HSD "
        "(tumr rfeat style; robust alternative to the mixed model)",
        "f": num(f),
        "p": num(p),
        "n": {a: int(v.size) for a, v in groups.items()},
        "mean_slope": {a: float(v.mean()) for a, v in groups.items()},
        "tukey": rows,
    }


def _mrecist_counts(animals: pd.DataFrame, arm: str) -> dict[str, int]:
    calls = animals.loc[animals["arm"] == arm, "mrecist"]
    out = {c: int((calls == c).sum()) for c in MRECIST_CLASSES}
    out["NE"] = int(calls.isna().sum())
    return out


def arms_block(
    arms: Sequence[str],
    control: str,
    animals: pd.DataFrame,
    samples: Mapping[str, ArmSample],
    estimates: Mapping[str, Mapping[str, Any]] | None,
    *,
    at_day: bool = True,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Per-arm block; ``at_day=False`` (PDX sets without a common day D): no means of volumes
    measured on different days, only counts, medians of the Gao metrics and mRECIST."""
    block: dict[str, Any] = {}
    rows = []
    for arm in arms:
        s = samples[arm]
        n0 = int((animals["arm"] == arm).sum())
        if not at_day:
            empty = np.array([])
            s = ArmSample(arm, empty, empty, empty, empty)
        sem = float(s.v_d.std(ddof=1) / math.sqrt(s.n)) if s.n > 1 else None
        rtv = s.rtv[np.isfinite(s.rtv)]
        entry: dict[str, Any] = {
            "n": s.n if at_day else n0,
            "n_start": n0,
            "mean": num(s.v_d.mean()) if s.n else None,
            "sem": num(sem),
            "mean_v0": num(s.v_0.mean()) if s.n else None,
            "mean_rtv": num(rtv.mean()) if rtv.size else None,
            "sem_rtv": num(rtv.std(ddof=1) / math.sqrt(rtv.size)) if rtv.size > 1 else None,
        }
        row: dict[str, Any] = {"arm": arm, **entry}
        if estimates is not None:
            est = estimates[arm]
            for name in TGI_VARIANTS:
                if name == "regression_pct":
                    continue
                if arm == control:
                    entry[name] = None
                else:
                    entry[name] = est[name].as_dict()
                    row[name] = est[name].estimate
                    row[f"{name}_ci_low"] = est[name].ci_low
                    row[f"{name}_ci_high"] = est[name].ci_high
            reg = est["regression_pct"]
            shrinking = s.n > 0 and s.v_d.mean() < s.v_0.mean()
            entry["regression_pct"] = reg.as_dict() if shrinking else None
            row["regression_pct"] = reg.estimate if shrinking else None
            act = None if arm == control else nci_activity(est["t_over_c"].estimate)
            entry["nci_activity"] = act
            row["nci_activity"] = act
        mine = animals[animals["arm"] == arm]
        for col in ("best_response", "best_avg_response"):
            vals = mine[col].to_numpy(float)
            vals = vals[np.isfinite(vals)]
            entry[f"median_{col}"] = float(np.median(vals)) if vals.size else None
            row[f"median_{col}"] = entry[f"median_{col}"]
        mr = _mrecist_counts(animals, arm)
        entry["mrecist"] = mr
        row.update({f"m{k}" if k != "NE" else "mRECIST_NE": v for k, v in mr.items()})
        block[arm] = entry
        rows.append(row)
    frame = pd.DataFrame(rows)
    first = ["arm", "n", "n_start", "mean", "sem", "mean_v0", "mean_rtv", "sem_rtv"]
    stats_cols = [
        c
        for name in TGI_VARIANTS
        if name != "regression_pct"
        for c in (name, f"{name}_ci_low", f"{name}_ci_high")
        if c in frame.columns
    ]
    rest = [c for c in frame.columns if c not in first and c not in stats_cols]
    return block, frame[[*first, *stats_cols, *rest]]


def measurements(animals: pd.DataFrame, day: float | None, data: GrowthData) -> list[Any]:
    from kinresist.core import Measurement

    unit = data.unit or ""
    out = []
    spec = (
        ("rtv_day", "relative_tumour_volume", "", "V_D/V_0 on day D (PDX sets: last measurement)"),
        (
            "auc_delta_day",
            "auc_above_baseline",
            f"{unit}·day" if unit else "day",
            "trapezoid of V − V_0 from baseline to D",
        ),
        ("slope", "log_growth_rate", "1/day", "OLS slope of ln V on days"),
        ("doubling_time", "doubling_time", "day", "ln 2 / log-linear slope"),
        ("best_response", "best_response", "%", "Gao 2015, t ≥ 10 d"),
        ("best_avg_response", "best_average_response", "%", "Gao 2015, t ≥ 10 d"),
    )
    for rec in animals.to_dict(orient="records"):
        attrs = {"arm": rec["arm"], "line": rec["line"] or None, "mrecist": rec["mrecist"]}
        for extra in ("dose", "schedule"):
            if rec.get(extra):
                attrs[extra] = rec[extra]
        for col, quantity, u, how in spec:
            value = num(rec[col])
            if value is None:
                continue
            out.append(
                Measurement(
                    assay=ASSAY,
                    target="tumour",
                    quantity=quantity,
                    value=value,
                    unit=u,
                    subject=str(rec["subject"]),
                    sample=f"{rec['subject']} tumour",
                    flags=(f"mRECIST:{rec['mrecist']}",) if rec["mrecist"] else (),
                    attributes={
                        **attrs,
                        "definition": how,
                        **({"day": day} if col.endswith("_day") else {}),
                    },
                )
            )
    return out


def figures(
    aligned: Aligned,
    curves: pd.DataFrame,
    animals: pd.DataFrame,
    arms: Sequence[str],
    data: GrowthData,
    day: float | None,
    km: Any,
    pdx: bool,
) -> list[Any]:
    from kinresist.core import Figure
    from kinresist.invivo.plots import mean_sem_figure, spaghetti_figure, waterfall_figure

    x = "t" if aligned.rule == "first" else "day"
    flux = data.quantity == "flux"
    out = []
    if not pdx or len(arms) <= 12:
        out.append(
            Figure.from_matplotlib(
                spaghetti_figure(
                    aligned.table, arms, quantity=data.quantity, unit=data.unit, log_scale=flux, x=x
                ),
                "spaghetti",
                "Growth of every animal, one panel per arm",
            )
        )
    if not pdx:
        out.append(
            Figure.from_matplotlib(
                mean_sem_figure(
                    curves,
                    arms,
                    quantity=data.quantity,
                    unit=data.unit,
                    geometric=flux,
                    day_mark=day,
                    x=x,
                ),
                "mean_sem",
                "Geometric mean (95% CI) per arm"
                if flux
                else "Mean ± SEM per arm (n = animals still measured); dashed line: analysis day",
            )
        )
    if not flux and np.isfinite(animals["best_response"].to_numpy(float)).any():
        out.append(
            Figure.from_matplotlib(
                waterfall_figure(animals),
                "waterfall",
                "Best response per animal (Gao 2015, t ≥ 10 d), coloured by mRECIST",
            )
        )
    if km is not None:
        from kinresist.clinical.plots import km_figure

        out.append(
            Figure.from_matplotlib(
                km_figure(
                    km.km,
                    risk_times=list(km.risk_times),
                    time_unit="days",
                    ylabel="Fraction below the endpoint volume",
                ),
                "km",
                f"Time to endpoint (KM, {km.km.conf_type} CI transform)",
            )
        )
    return out
