"""Named tumour-growth-inhibition variants at day D with stratified bootstrap CIs (spec §1.2).

Every arm is compared with the control arm on the animals measured on day D (n_D), each with its
own baseline V_0::

    tgi_delta     (1 − (mean T_D − mean T_0)/(mean C_D − mean C_0))·100   invivoSyn default, DRAP deltaV
    tgi_rtv       (1 − mean RTV_T/mean RTV_C)·100                          CombPDX, DRAP RCV
    tgi_auc       (1 − mean AUC_T/mean AUC_C)·100, AUC = trapezoid of V − V_0 from baseline to D
                  per animal (DRAP's F = AUC of the volume above baseline; equal to DRAP's
                  mean-curve AUC when every animal is measured on every day)
    tgi_endpoint  (1 − mean T_D/mean C_D)·100
    tgi_xeva      (mean C_D − mean T_D)/(mean C_0 − mean T_0)   what Xeva's TGI() computes: a ratio,
                  not a percentage, undefined when the start volumes are equal; for comparison
                  only, without a CI (its denominator crosses zero in resamples)
    t_over_c      100·mean T_D/mean C_D; NCI activity: ≤ 42 % active, ≤ 10 % highly active
    t_over_c_rtv  100·mean RTV_T/mean RTV_C
    regression_pct (1 − mean T_D/mean T_0)·100, reported when mean T_D < mean T_0

Bootstrap (invivoSyn ``getTGI`` style, ``boot(strata = Group)``): animals are resampled with
replacement within each arm, every statistic is recomputed from the resampled arm means;
``percentile`` or ``bca`` intervals (BCa acceleration from the leave-one-animal-out jackknife of
the two arms involved). The generator is seeded; the same seed gives the same intervals.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "TGI_VARIANTS",
    "ArmSample",
    "CIType",
    "Estimate",
    "arm_tgi",
    "nci_activity",
    "summary_by_day",
]

CIType = Literal["percentile", "bca"]

TGI_VARIANTS: Mapping[str, str] = {
    "tgi_delta": "(1 − (mean T_D − mean T_0)/(mean C_D − mean C_0))·100 on animals measured on D "
    "(invivoSyn default; DRAP deltaV)",
    "tgi_rtv": "(1 − mean RTV_T/mean RTV_C)·100, RTV = V_D/V_0 per animal (CombPDX; DRAP RCV)",
    "tgi_auc": "(1 − mean AUC_T/mean AUC_C)·100, AUC = trapezoid of V − V_0 from baseline to D per "
    "animal (DRAP AUC)",
    "tgi_endpoint": "(1 − mean T_D/mean C_D)·100",
    "tgi_xeva": "(mean C_D − mean T_D)/(mean C_0 − mean T_0): Xeva TGI(), a ratio (not %), "
    "non-standard, for comparison only",
    "t_over_c": "100·mean T_D/mean C_D (NCI: ≤ 42 % active, ≤ 10 % highly active)",
    "t_over_c_rtv": "100·mean RTV_T/mean RTV_C",
    "regression_pct": "(1 − mean T_D/mean T_0)·100 when mean T_D < mean T_0",
}


@dataclass(frozen=True)
class ArmSample:
    """Per-animal values of one arm at day D (animals measured on D)."""

    arm: str
    v_d: np.ndarray
    v_0: np.ndarray
    rtv: np.ndarray
    auc: np.ndarray

    @property
    def n(self) -> int:
        return int(self.v_d.size)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap interval (None = undefined)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    undefined_fraction: float = 0.0

    def as_dict(self) -> dict[str, float | None]:
        return {"estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high}


_Means = dict[str, np.ndarray]  # keys v_d, v_0, rtv, auc -> arrays (broadcastable)


def _means(s: ArmSample, idx: np.ndarray | None = None) -> _Means:
    if idx is None:
        return {
            "v_d": np.array(s.v_d.mean()),
            "v_0": np.array(s.v_0.mean()),
            "rtv": np.array(np.nanmean(s.rtv) if np.isfinite(s.rtv).any() else np.nan),
            "auc": np.array(s.auc.mean()),
        }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN RTV resample -> NaN
        return {
            "v_d": s.v_d[idx].mean(axis=1),
            "v_0": s.v_0[idx].mean(axis=1),
            "rtv": np.nanmean(s.rtv[idx], axis=1),
            "auc": s.auc[idx].mean(axis=1),
        }


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(a, dtype=float) / np.asarray(b, dtype=float)
    return np.where(np.isfinite(out), out, np.nan)


_STATS: dict[str, Callable[[_Means, _Means], np.ndarray]] = {
    "tgi_delta": lambda t, c: (1 - _div(t["v_d"] - t["v_0"], c["v_d"] - c["v_0"])) * 100,
    "tgi_rtv": lambda t, c: (1 - _div(t["rtv"], c["rtv"])) * 100,
    "tgi_auc": lambda t, c: (1 - _div(t["auc"], c["auc"])) * 100,
    "tgi_endpoint": lambda t, c: (1 - _div(t["v_d"], c["v_d"])) * 100,
    "tgi_xeva": lambda t, c: _div(c["v_d"] - t["v_d"], c["v_0"] - t["v_0"]),
    "t_over_c": lambda t, c: 100 * _div(t["v_d"], c["v_d"]),
    "t_over_c_rtv": lambda t, c: 100 * _div(t["rtv"], c["rtv"]),
    "regression_pct": lambda t, c: (1 - _div(t["v_d"], t["v_0"])) * 100,
}


#: No bootstrap interval: Xeva's ratio divides by C_0 − T_0, a difference of baseline means that
#: crosses zero in resamples, so percentile intervals of it are meaningless.
_NO_CI = frozenset({"tgi_xeva"})


def nci_activity(t_over_c: float | None) -> str | None:
    """NCI activity criterion on T/C %: highly active ≤ 10, active ≤ 42, else inactive."""
    if t_over_c is None or not math.isfinite(t_over_c):
        return None
    if t_over_c <= 10:
        return "highly active"
    if t_over_c <= 42:
        return "active"
    return "inactive"


def _interval(
    reps: np.ndarray,
    est: float,
    jack: np.ndarray | None,
    *,
    level: float,
    ci_type: CIType,
) -> tuple[float | None, float | None]:
    ok = reps[np.isfinite(reps)]
    if ok.size < 10 or not math.isfinite(est):
        return None, None
    alpha = (1 - level) / 2
    if ci_type == "percentile":
        lo, hi = np.quantile(ok, [alpha, 1 - alpha])
        return float(lo), float(hi)
    # BCa
    prop = (np.sum(ok < est) + 0.5 * np.sum(ok == est)) / ok.size
    if prop <= 0 or prop >= 1:
        return None, None
    z0 = stats.norm.ppf(prop)
    a = 0.0
    if jack is not None:
        j = jack[np.isfinite(jack)]
        if j.size >= 3:
            d = j.mean() - j
            den = 6.0 * float(np.sum(d**2)) ** 1.5
            a = float(np.sum(d**3)) / den if den > 0 else 0.0
    zs = stats.norm.ppf([alpha, 1 - alpha])
    adj = stats.norm.cdf(z0 + (z0 + zs) / (1 - a * (z0 + zs)))
    lo, hi = np.quantile(ok, adj)
    return float(lo), float(hi)


def _jackknife(name: str, treated: ArmSample, control: ArmSample) -> np.ndarray:
    f = _STATS[name]
    out = []
    base_t, base_c = _means(treated), _means(control)
    for arm, other_means, is_treated in ((treated, base_c, True), (control, base_t, False)):
        if arm.n < 2 or (arm is control and control is treated):
            continue
        for i in range(arm.n):
            keep = np.arange(arm.n) != i
            sub = ArmSample(arm.arm, arm.v_d[keep], arm.v_0[keep], arm.rtv[keep], arm.auc[keep])
            m = _means(sub)
            out.append(float(f(m, other_means) if is_treated else f(other_means, m)))
    return np.array(out)


def arm_tgi(
    samples: Mapping[str, ArmSample],
    control: str,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    ci_type: CIType = "percentile",
    rng: np.random.Generator,
) -> dict[str, dict[str, Estimate]]:
    """Every named statistic of every arm vs ``control`` with stratified bootstrap CIs.

    Returns ``{arm: {statistic: Estimate}}``; the control arm gets only ``regression_pct``.
    Arms with no animal on D get None everywhere.
    """
    boot: dict[str, _Means] = {}
    for arm, s in samples.items():
        if s.n == 0:
            continue
        idx = rng.integers(0, s.n, size=(n_boot, s.n)) if n_boot > 0 else None
        boot[arm] = _means(s, idx) if idx is not None else {}
    c = samples[control]
    out: dict[str, dict[str, Estimate]] = {}
    for arm, s in samples.items():
        res: dict[str, Estimate] = {}
        names = ["regression_pct"] if arm == control else list(_STATS)
        for name in names:
            if s.n == 0 or c.n == 0:
                res[name] = Estimate(None, None, None)
                continue
            f = _STATS[name]
            est = float(f(_means(s), _means(c)))
            if not math.isfinite(est):
                res[name] = Estimate(None, None, None, 1.0)
                continue
            if n_boot > 0 and s.n > 1 and c.n > 1 and name not in _NO_CI:
                reps = f(boot[arm], boot[control])
                jack = _jackknife(name, s, c) if ci_type == "bca" else None
                lo, hi = _interval(reps, est, jack, level=level, ci_type=ci_type)
                undefined = float(np.mean(~np.isfinite(reps)))
            else:
                lo = hi = None
                undefined = 0.0
            res[name] = Estimate(est, lo, hi, undefined)
        out[arm] = res
    return out


def _exp(v: float) -> float:
    """``exp`` that says inf (written as null: not representable) instead of raising."""
    return math.exp(v) if v < 709.0 else math.inf


def summary_by_day(frame: pd.DataFrame, *, log_value: np.ndarray) -> pd.DataFrame:
    """Per arm and day: n, mean ± SD/SEM, median, geometric mean with 95 % t CI, mean RTV ± SEM.

    ``log_value`` is the natural log of ``frame['value']`` under the analysis' zero rule.
    """
    f = frame.assign(_log=log_value)
    rows = []
    for (arm, t), g in f.groupby(["arm", "t"], sort=False):
        days = g["day"].unique()
        v = g["value"].to_numpy(float)
        n = v.size
        lv = g["_log"].to_numpy(float)
        lv = lv[np.isfinite(lv)]
        r = g["rtv"].to_numpy(float)
        r = r[np.isfinite(r)]
        sd = float(v.std(ddof=1)) if n > 1 else float("nan")
        if lv.size > 1:
            m, s = float(lv.mean()), float(lv.std(ddof=1))
            q = float(stats.t.ppf(0.975, lv.size - 1)) * s / math.sqrt(lv.size)
            geo, glo, ghi = _exp(m), _exp(m - q), _exp(m + q)
        elif lv.size == 1:
            geo, glo, ghi = _exp(float(lv[0])), float("nan"), float("nan")
        else:
            geo = glo = ghi = float("nan")
        rows.append(
            {
                "arm": arm,
                "day": float(days[0]) if days.size == 1 else float("nan"),
                "t": float(t),
                "n": n,
                "mean": float(v.mean()),
                "sd": sd,
                "sem": sd / math.sqrt(n) if n > 1 else float("nan"),
                "median": float(np.median(v)),
                "geo_mean": geo,
                "geo_ci_low": glo,
                "geo_ci_high": ghi,
                "mean_rtv": float(r.mean()) if r.size else float("nan"),
                "sem_rtv": float(r.std(ddof=1) / math.sqrt(r.size)) if r.size > 1 else float("nan"),
            }
        )
    return pd.DataFrame(rows).sort_values(["arm", "t"], kind="stable").reset_index(drop=True)
