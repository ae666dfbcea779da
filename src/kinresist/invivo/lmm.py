"""Longitudinal mixed model of log relative tumour volume and in vivo synergy (spec §1.3).

The model is SynergyLMM's exponential model (Romero-Becerra et al. 2025, ``R/lmmModel.R``)::

    nlme::lme(logRTV ~ 0 + Time:Treatment, random = ~ 0 + Time | SampleID)   # REML

fitted with ``statsmodels.MixedLM`` on a design built by hand (one Time × arm column per arm, no
intercept; a random slope on Time per animal), REML, statsmodels' default optimiser BFGS (forcing
``lbfgs`` fails on these data; spec §1.3) with a tight gradient tolerance (1e-9). Time enters
the design divided by its maximum, which leaves the REML optimum unchanged (the slopes and
variances are scaled back) but keeps the random-slope/residual variance ratio near 1: on the
raw day scale statsmodels' optimiser fails with a singular matrix on some subsets of the
SynergyLMM example (data up to day 18). Should it still fail, Nelder-Mead then Powell are tried
and the result says so. Data preparation follows ``lmmModel()``: time since the
study baseline, measurements before it dropped, animals with a zero baseline dropped, zero
volumes treated by the zero rule (SynergyLMM's ``tum_vol_0 = "ignore"`` is our ``drop``;
``"transform"`` is ``plus1``), and the baseline rows themselves left out of the fit (their
logRTV is 0 by construction; ``include_baseline_rows=True`` keeps them, which leaves the slopes
and their SEs unchanged to 6 decimals but shrinks the residual variance by the fraction of rows
added: that is how the spec's §8 variance components were produced).

Contrasts between arms are Wald z tests on the fixed-effect covariance (as
``marginaleffects::hypotheses`` in SynergyLMM), adjusted by Holm, Bonferroni or
Benjamini-Hochberg. Synergy on growth rates (``lmmSynergy``):

* ``bliss``: b_AB − (b_A + b_B − b_C) (k drugs: b_comb − Σb_i + (k − 1)·b_C);
* ``hsa``: b_AB − min(b_A, b_B) (the strongest single agent, chosen on the estimates);
* ``response_additivity``: ∫exp(b_AB·t)dt − max(0, ∫[exp(b_A·t) + exp(b_B·t) − exp(b_C·t)]dt)
  over [0, last day]; SynergyLMM estimates it by simulating 1,000 draws of the coefficients
  (median and SD); we use the delta method on the same quantity (documented difference: the
  point estimate is the plug-in value, not a simulation median).

Every contrast < 0 means synergy; ``score`` = −contrast/SE is SynergyLMM's synergy score.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from kinresist.errors import InputError
from kinresist.invivo.data import ZeroRule, log_values
from kinresist.invivo.metrics import Aligned

__all__ = [
    "Adjust",
    "Combination",
    "LmmFit",
    "SynergyEstimate",
    "adjust_pvalues",
    "contrasts",
    "fit_lmm",
    "lmm_synergy",
    "parse_combination",
    "synergy_by_day",
]

Adjust = Literal["holm", "bonferroni", "BH", "none"]


@dataclass(frozen=True)
class Combination:
    """A combination arm and the single-agent arms it combines."""

    arm: str
    agents: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.arm}={','.join(self.agents)}"


def parse_combination(text: str, arms: Sequence[str]) -> Combination:
    """``"A+B=A,B"`` -> Combination("A+B", ("A", "B")); every name must be an arm."""
    if "=" not in text:
        msg = (
            f"combination {text!r} must read COMBO=AGENT1,AGENT2 (e.g. 'A+B=A,B'), naming the "
            "combination arm and its single-agent arms"
        )
        raise InputError(msg, column="combination")
    combo, _, rest = text.rpartition("=")
    agents = tuple(a.strip() for a in rest.split(",") if a.strip())
    combo = combo.strip()
    missing = [n for n in (combo, *agents) if n not in arms]
    if missing:
        msg = f"combination names arm(s) {missing} that are not in the data; arms: {list(arms)}"
        raise InputError(msg, column="arm")
    if len(agents) < 2 or combo in agents or len(set(agents)) != len(agents):
        msg = f"combination {text!r} needs two or more distinct single-agent arms besides {combo!r}"
        raise InputError(msg, column="combination")
    return Combination(combo, agents)


@dataclass(frozen=True)
class LmmFit:
    """A fitted growth-rate mixed model."""

    arms: tuple[str, ...]
    slopes: np.ndarray
    cov: np.ndarray
    random_slope_variance: float
    residual_variance: float
    converged: bool
    n_subjects: int
    n_obs: int
    time_max: float
    llf: float
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def index(self, arm: str) -> int:
        return self.arms.index(arm)


def _lmm_frame(
    aligned: Aligned,
    *,
    zero_rule: ZeroRule,
    include_baseline_rows: bool,
    time_end: float | None,
) -> tuple[pd.DataFrame, list[str]]:
    t = aligned.table
    notes: list[str] = []
    zero0 = sorted(t.loc[t["v0"] == 0, "subject"].unique())
    if zero0:
        notes.append(
            f"{len(zero0)} animal(s) with a zero baseline left out of the mixed model "
            f"({', '.join(zero0[:5])}), as SynergyLMM does"
        )
        t = t[t["v0"] > 0]
    if time_end is not None:
        t = t[t["t"] <= time_end]
    v = t["value"].to_numpy(float)
    v0 = t["v0"].to_numpy(float)
    pos = t.loc[t["value"] > 0, "value"]
    mp = float(pos.min()) if len(pos) else None
    y = log_values(v, zero_rule, min_positive=mp) - log_values(v0, zero_rule, min_positive=mp)
    f = t.assign(logrtv=y)
    n_zero = int(np.sum(v == 0))
    if n_zero and zero_rule == "drop":
        notes.append(f"{n_zero} zero volume(s) left out of the mixed model (zero rule 'drop')")
    f = f[np.isfinite(f["logrtv"])]
    if not include_baseline_rows:
        f = f[f["t"] != 0]
    return f.reset_index(drop=True), notes


def fit_lmm(
    aligned: Aligned,
    arms: Sequence[str],
    *,
    zero_rule: ZeroRule = "drop",
    include_baseline_rows: bool = False,
    time_end: float | None = None,
) -> LmmFit:
    """Fit logRTV ~ 0 + Time:arm with a random slope per animal (REML)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    f, notes = _lmm_frame(
        aligned, zero_rule=zero_rule, include_baseline_rows=include_baseline_rows, time_end=time_end
    )
    arms = [a for a in arms if (f["arm"] == a).any()]
    if len(arms) == 0 or f["subject"].nunique() < 2:
        msg = "the mixed model needs at least two animals with measurements after baseline"
        raise InputError(msg)
    time = f["t"].to_numpy(float)
    scale = float(time.max()) if time.max() > 0 else 1.0
    ts = time / scale  # well-conditioned variance ratio; slopes and variances scaled back below
    x = np.column_stack([ts * (f["arm"].to_numpy() == a) for a in arms])
    groups = f["subject"].to_numpy()
    model = sm.MixedLM(f["logrtv"].to_numpy(float), x, groups=groups, exog_re=ts[:, None])
    caught: list[str] = []
    res = None
    boundary = False
    failure = ""
    for method in ("bfgs", "nm", "powell"):
        kw: dict[str, Any] = (
            {"method": "bfgs", "gtol": 1e-9, "maxiter": 1000}
            if method == "bfgs"
            else {"method": method, "maxiter": 5000}
        )
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            try:
                trial = model.fit(reml=True, **kw)
            except (np.linalg.LinAlgError, ValueError) as exc:
                failure = str(exc)
                continue
        messages = [(w.category, str(w.message)) for w in rec]
        if not bool(getattr(trial, "converged", True)) and method != "powell":
            failure = "did not converge"
            continue
        res = trial
        if method != "bfgs":
            notes.append(f"BFGS failed ({failure}); the mixed model was fitted with {method!r}")
        for cat, text in messages:
            if issubclass(cat, ConvergenceWarning) and "boundary" in text:
                boundary = True  # statsmodels' absolute 0.01 threshold; judged below
            elif not issubclass(cat, ConvergenceWarning):
                caught.append(f"statsmodels: {text}")
        break
    if res is None:
        from kinresist.errors import FitError

        msg = f"the mixed model could not be fitted ({failure}) with any optimiser"
        raise FitError(msg, model="lmm")
    k = len(arms)
    cov = np.asarray(res.cov_params())[:k, :k] / scale**2
    tau2 = float(np.asarray(res.cov_re)[0, 0]) / scale**2
    sigma2 = float(res.scale)
    tmax = float(time.max())
    if boundary and tau2 * tmax**2 < 1e-4 * sigma2:
        caught.append(
            "the random-slope variance is at the boundary (≈ 0): animals do not differ in growth "
            "rate beyond residual noise; slopes are then ordinary least squares"
        )
    converged = bool(getattr(res, "converged", True))
    if not converged:
        caught.append("the mixed model did not converge: slopes and SEs are not reliable")
    return LmmFit(
        arms=tuple(arms),
        slopes=np.asarray(res.fe_params, dtype=float)[:k] / scale,
        cov=cov,
        random_slope_variance=tau2,
        residual_variance=sigma2,
        converged=converged,
        n_subjects=int(f["subject"].nunique()),
        n_obs=len(f),
        time_max=tmax,
        llf=float(res.llf),
        notes=tuple(notes),
        warnings=tuple(caught),
    )


def adjust_pvalues(p: Sequence[float], method: Adjust) -> np.ndarray:
    """Holm, Bonferroni or Benjamini-Hochberg adjusted p-values (as R ``p.adjust``)."""
    pv = np.asarray(p, dtype=float)
    n = pv.size
    if method == "none" or n == 0:
        return pv.copy()
    if method == "bonferroni":
        return np.minimum(1.0, pv * n)
    order = np.argsort(pv)
    if method == "holm":
        adj = np.maximum.accumulate((n - np.arange(n)) * pv[order])
    elif method == "BH":
        ranked = pv[order] * n / np.arange(1, n + 1)
        adj = np.minimum.accumulate(ranked[::-1])[::-1]
    else:
        msg = f"unknown adjustment {method!r}; expected holm, bonferroni, BH or none"
        raise InputError(msg)
    out = np.empty(n)
    out[order] = np.minimum(1.0, adj)
    return out


def _z(est: float, se: float) -> tuple[float, float]:
    if not (se > 0 and math.isfinite(se)):
        return float("nan"), float("nan")
    z = est / se
    return z, float(2 * stats.norm.sf(abs(z)))


def contrasts(fit: LmmFit, *, adjust: Adjust = "holm", level: float = 0.95) -> pd.DataFrame:
    """Every pairwise slope difference (arm − reference) with Wald z test and adjusted p."""
    rows = []
    q = float(stats.norm.ppf(0.5 + level / 2))
    for i, a in enumerate(fit.arms):
        for j in range(i + 1, len(fit.arms)):
            b = fit.arms[j]
            c = np.zeros(len(fit.arms))
            c[j], c[i] = 1.0, -1.0
            est = float(c @ fit.slopes)
            se = math.sqrt(float(c @ fit.cov @ c))
            z, p = _z(est, se)
            rows.append(
                {
                    "arm": b,
                    "reference": a,
                    "difference": est,
                    "se": se,
                    "ci_low": est - q * se,
                    "ci_high": est + q * se,
                    "z": z,
                    "p": p,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["p_adjusted"] = adjust_pvalues(out["p"].to_numpy(), adjust)
        out["adjust"] = adjust
    return out


@dataclass(frozen=True)
class SynergyEstimate:
    model: str
    contrast: float
    se: float
    p: float
    ci_low: float
    ci_high: float
    expected: float
    observed: float
    note: str = ""
    time: float | None = None

    @property
    def score(self) -> float:
        return -self.contrast / self.se if self.se > 0 else float("nan")

    def _combination_index(self) -> dict[str, Any]:
        """SynergyLMM's combination index exp(contrast·T) (Bliss, HSA; < 1 = synergy)."""
        if self.time is None:
            return {}
        t = self.time
        return {
            "combination_index": math.exp(self.contrast * t),
            "combination_index_ci": [math.exp(self.ci_low * t), math.exp(self.ci_high * t)],
            "combination_index_day": t,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "contrast": self.contrast,
            "se": self.se,
            "p": self.p,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "score": self.score,
            "expected": self.expected,
            "observed": self.observed,
            **self._combination_index(),
            "call": "synergy"
            if self.p < 0.05 and self.contrast < 0
            else (
                "antagonism"
                if self.p < 0.05 and self.contrast > 0
                else "additive (not significant)"
            ),
            **({"note": self.note} if self.note else {}),
        }


def _int_exp(b: float, t1: float, t2: float) -> tuple[float, float]:
    """∫_{t1}^{t2} exp(b t) dt and its derivative in b."""
    if abs(b) < 1e-12:
        return t2 - t1, (t2**2 - t1**2) / 2
    e2, e1 = math.exp(b * t2), math.exp(b * t1)
    val = (e2 - e1) / b
    der = (t2 * e2 - t1 * e1) / b - (e2 - e1) / b**2
    return val, der


def lmm_synergy(
    fit: LmmFit, combo: Combination, control: str, *, level: float = 0.95
) -> dict[str, SynergyEstimate]:
    """Bliss, HSA and response-additivity contrasts on the growth rates of ``fit``."""
    k = len(fit.arms)
    names = (control, *combo.agents, combo.arm)
    missing = [n for n in names if n not in fit.arms]
    if missing:
        msg = f"synergy needs slopes for {missing}, which have no measurements after baseline"
        raise InputError(msg, column="arm")
    ic = fit.index(control)
    ia = [fit.index(a) for a in combo.agents]
    iab = fit.index(combo.arm)
    b = fit.slopes
    q = float(stats.norm.ppf(0.5 + level / 2))
    out: dict[str, SynergyEstimate] = {}

    def linear(name: str, c: np.ndarray, note: str = "") -> None:
        est = float(c @ b)
        se = math.sqrt(float(c @ fit.cov @ c))
        _, p = _z(est, se)
        out[name] = SynergyEstimate(
            name,
            est,
            se,
            p,
            est - q * se,
            est + q * se,
            float(b[iab]) - est,
            float(b[iab]),
            note,
            time=fit.time_max,
        )

    c = np.zeros(k)
    c[iab] += 1
    for i in ia:
        c[i] -= 1
    c[ic] += len(ia) - 1
    linear("bliss", c)
    best = min(ia, key=lambda i: b[i])
    c = np.zeros(k)
    c[iab], c[best] = 1.0, -1.0
    linear("hsa", c, note=f"strongest single agent: {fit.arms[best]}")
    # response additivity on the AUC of exp(b t) over [0, T]
    t1, t2 = 0.0, fit.time_max
    obs, d_obs = _int_exp(float(b[iab]), t1, t2)
    grad = np.zeros(k)
    grad[iab] = d_obs
    expected = 0.0
    for i in ia:
        v, d = _int_exp(float(b[i]), t1, t2)
        expected += v
        grad[i] -= d
    vc, dc = _int_exp(float(b[ic]), t1, t2)
    expected -= (len(ia) - 1) * vc
    grad[ic] += (len(ia) - 1) * dc
    note = f"AUC of exp(slope·t) over days 0–{t2:g} after baseline; delta-method SE"
    if expected < 0:
        expected = 0.0
        grad[[*ia, ic]] = 0.0
        note += "; expected AUC < 0 set to 0 (as SynergyLMM)"
    est = obs - expected
    se = math.sqrt(float(grad @ fit.cov @ grad))
    _, p = _z(est, se)
    out["response_additivity"] = SynergyEstimate(
        "response_additivity", est, se, p, est - q * se, est + q * se, expected, obs, note
    )
    return out


def synergy_by_day(
    aligned: Aligned,
    arms: Sequence[str],
    combo: Combination,
    control: str,
    *,
    zero_rule: ZeroRule = "drop",
    include_baseline_rows: bool = False,
    adjust: Adjust = "none",
) -> pd.DataFrame:
    """SynergyLMM's synergy-over-time: refit on the data up to each day, contrasts per day."""
    times = sorted(float(x) for x in aligned.table["t"].unique() if x > 0)
    rows = []
    for tt in times:
        try:
            fit = fit_lmm(
                aligned,
                arms,
                zero_rule=zero_rule,
                include_baseline_rows=include_baseline_rows,
                time_end=tt,
            )
            syn = lmm_synergy(fit, combo, control)
        except (InputError, ValueError, np.linalg.LinAlgError):
            continue
        for name, s in syn.items():
            rows.append(
                {
                    "t": tt,
                    "model": name,
                    "contrast": s.contrast,
                    "se": s.se,
                    "p": s.p,
                    "score": s.score,
                    "converged": fit.converged,
                }
            )
    out = pd.DataFrame(rows, columns=["t", "model", "contrast", "se", "p", "score", "converged"])
    if len(out):
        out["p_adjusted"] = np.nan
        for name in out["model"].unique():
            m = out["model"] == name
            out.loc[m, "p_adjusted"] = adjust_pvalues(out.loc[m, "p"].to_numpy(), adjust)
    return out
