"""Baseline TME biomarkers vs response: Mann-Whitney, logistic regression, ROC AUC, Youden, KM.

For each numeric biomarker (per tumour) and a binary response (responders = the categories named,
default CR/PR and their mRECIST forms mCR/mPR):

* **Mann-Whitney U** (two-sided, scipy ``mannwhitneyu``; exact for small samples without ties,
  normal approximation with tie and continuity correction otherwise) and group medians.
* **ROC AUC** = P(marker_responder > marker_non-responder) + ½ P(tie) (= U / (n₁n₀)), oriented as
  "higher marker predicts response"; an AUC below 0.5 means the marker is lower in responders.
  CI: DeLong et al. 1988 (variance of the placement values; Wald on the AUC scale, clipped to
  [0, 1], as pROC's default) or a stratified percentile bootstrap (``n_boot``; ``rng`` seeded).
* **Youden cut-off** J = sensitivity + specificity - 1 maximised over observed thresholds. It is
  chosen on the same tumours it is evaluated on and is therefore **optimistic**; the result says
  so and adds a leave-one-out cross-validated sensitivity/specificity (cut-off re-chosen without
  each tumour, then applied to it).
* **Logistic regression** response ~ marker (statsmodels ``Logit``): odds ratio per unit and per
  SD with Wald CI. Complete separation leaves the OR unknown (flagged), never a huge number.
* **Kaplan-Meier** of time to progression by high/low marker (split at the median unless a
  cut-off is given) with the log-rank test: :mod:`kinresist.clinical.survival`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kinresist.errors import InputError

__all__ = [
    "DEFAULT_RESPONDERS",
    "BiomarkerAssociation",
    "associate",
    "delong_auc",
    "responder_mask",
    "roc_curve",
    "youden",
]

DEFAULT_RESPONDERS = ("CR", "PR", "MCR", "MPR")


def responder_mask(values: pd.Series, responders: Sequence[str]) -> pd.Series:
    """1 responder, 0 non-responder, NaN missing; categories compared case-insensitively."""
    wanted = {str(r).strip().upper() for r in responders}
    text = values.astype("string").str.strip().str.upper()
    out = pd.Series(np.where(text.isin(wanted), 1.0, 0.0), index=values.index)
    return out.where(text.notna() & (text != ""), np.nan)


def _placements(pos: np.ndarray, neg: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's placement values V10 (per positive) and V01 (per negative)."""
    diff = pos[:, None] - neg[None, :]
    psi = (diff > 0) + 0.5 * (diff == 0)
    return float(psi.mean()), psi.mean(axis=1), psi.mean(axis=0)


def delong_auc(
    pos: np.ndarray, neg: np.ndarray, *, level: float = 0.95
) -> tuple[float, float, float, float]:
    """(AUC, SE, CI low, CI high) by DeLong's method."""
    pos = np.asarray(pos, float)
    neg = np.asarray(neg, float)
    auc, v10, v01 = _placements(pos, neg)
    m, n = pos.size, neg.size
    var = (np.var(v10, ddof=1) / m if m > 1 else np.nan) + (
        np.var(v01, ddof=1) / n if n > 1 else np.nan
    )
    se = math.sqrt(var) if np.isfinite(var) else float("nan")
    z = float(stats.norm.ppf(0.5 + level / 2))
    lo, hi = auc - z * se, auc + z * se
    return auc, se, max(0.0, lo), min(1.0, hi)


def _boot_auc(
    pos: np.ndarray, neg: np.ndarray, n_boot: int, rng: np.random.Generator, level: float
) -> tuple[float, float]:
    aucs = np.empty(n_boot)
    for b in range(n_boot):
        p = rng.choice(pos, pos.size, replace=True)
        q = rng.choice(neg, neg.size, replace=True)
        aucs[b] = _placements(p, q)[0]
    a = (1 - level) / 2
    return float(np.quantile(aucs, a)), float(np.quantile(aucs, 1 - a))


def roc_curve(marker: np.ndarray, outcome: np.ndarray) -> pd.DataFrame:
    """Sensitivity/specificity at every threshold "marker >= t" (t over the observed values)."""
    x = np.asarray(marker, float)
    y = np.asarray(outcome, float)
    thresholds = np.concatenate([[np.inf], np.unique(x)[::-1]])
    npos, nneg = (y == 1).sum(), (y == 0).sum()
    rows = []
    for t in thresholds:
        call = x >= t
        sens = (call & (y == 1)).sum() / npos if npos else np.nan
        spec = (~call & (y == 0)).sum() / nneg if nneg else np.nan
        rows.append({"threshold": float(t), "sensitivity": sens, "specificity": spec})
    return pd.DataFrame(rows)


def youden(marker: np.ndarray, outcome: np.ndarray) -> tuple[float, float, float]:
    """(cut-off, sensitivity, specificity) maximising J; "positive" means marker >= cut-off.
    Ties in J keep the highest cut-off."""
    roc = roc_curve(marker, outcome)
    roc = roc[np.isfinite(roc["threshold"])]
    j = roc["sensitivity"] + roc["specificity"] - 1
    best = roc.loc[j.idxmax()]
    return float(best["threshold"]), float(best["sensitivity"]), float(best["specificity"])


def _loo_youden(marker: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
    calls = np.empty(marker.size, dtype=bool)
    for i in range(marker.size):
        keep = np.arange(marker.size) != i
        y = outcome[keep]
        if (y == 1).sum() == 0 or (y == 0).sum() == 0:
            return float("nan"), float("nan")
        cut, _, _ = youden(marker[keep], y)
        calls[i] = marker[i] >= cut
    pos, neg = outcome == 1, outcome == 0
    return float(calls[pos].mean()), float((~calls[neg]).mean())


def _logit(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    design = sm.add_constant(x.astype(float))
    out: dict[str, Any] = {"or_per_unit": None, "or_ci": [None, None], "p": None, "flags": []}
    sd = float(np.std(x, ddof=1)) if x.size > 1 else float("nan")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = sm.Logit(y.astype(float), design).fit(disp=0, maxiter=200)
        except (PerfectSeparationError, np.linalg.LinAlgError, ValueError) as exc:
            out["flags"].append(f"not_estimable: {type(exc).__name__}")
            return out
    names = {type(w.message).__name__ for w in caught}
    if {"PerfectSeparationWarning", "PerfectSeparationError"} & names:
        out["flags"].append("separation: odds ratio not estimable")
        return out
    if "ConvergenceWarning" in names or not fit.mle_retvals.get("converged", True):
        out["flags"].append("did_not_converge")
        return out
    beta, se = float(fit.params[1]), float(fit.bse[1])
    z = float(stats.norm.ppf(0.975))
    if not (np.isfinite(beta) and np.isfinite(se)) or abs(beta * sd) > 20:
        out["flags"].append("separation: odds ratio not estimable")
        return out
    out.update(
        {
            "beta": beta,
            "se": se,
            "or_per_unit": math.exp(beta),
            "or_ci": [math.exp(beta - z * se), math.exp(beta + z * se)],
            "or_per_sd": math.exp(beta * sd),
            "or_per_sd_ci": [math.exp((beta - z * se) * sd), math.exp((beta + z * se) * sd)],
            "p": float(fit.pvalues[1]),
        }
    )
    return out


@dataclass(frozen=True)
class BiomarkerAssociation:
    """One biomarker's association with response."""

    biomarker: str
    n_responders: int
    n_non_responders: int
    median_responders: float
    median_non_responders: float
    mw_u: float
    mw_p: float
    auc: float
    auc_se: float
    auc_ci: tuple[float, float]
    auc_ci_method: str
    youden_cutoff: float
    youden_sensitivity: float
    youden_specificity: float
    loo_sensitivity: float
    loo_specificity: float
    logistic: dict[str, Any]
    roc: pd.DataFrame

    def row(self) -> dict[str, Any]:
        lg = self.logistic
        return {
            "biomarker": self.biomarker,
            "n_responders": self.n_responders,
            "n_non_responders": self.n_non_responders,
            "median_responders": self.median_responders,
            "median_non_responders": self.median_non_responders,
            "mann_whitney_u": self.mw_u,
            "mann_whitney_p": self.mw_p,
            "auc": self.auc,
            "auc_ci_low": self.auc_ci[0],
            "auc_ci_high": self.auc_ci[1],
            "auc_ci_method": self.auc_ci_method,
            "youden_cutoff": self.youden_cutoff,
            "youden_sensitivity": self.youden_sensitivity,
            "youden_specificity": self.youden_specificity,
            "youden_note": "optimistic (chosen and evaluated on the same tumours)",
            "loo_cv_sensitivity": self.loo_sensitivity,
            "loo_cv_specificity": self.loo_specificity,
            "logistic_or_per_unit": lg.get("or_per_unit"),
            "logistic_or_ci_low": lg.get("or_ci", [None, None])[0],
            "logistic_or_ci_high": lg.get("or_ci", [None, None])[1],
            "logistic_or_per_sd": lg.get("or_per_sd"),
            "logistic_p": lg.get("p"),
            "logistic_flags": ";".join(lg.get("flags", [])),
        }


def associate(
    marker: pd.Series,
    response: pd.Series,
    /,
    *,
    name: str,
    n_boot: int = 0,
    rng: np.random.Generator | None = None,
    level: float = 0.95,
    min_per_group: int = 3,
) -> BiomarkerAssociation:
    """Associate one marker with a binary response (1 = responder); missing values dropped."""
    ok = marker.notna() & response.notna()
    x = marker[ok].to_numpy(float)
    y = response[ok].to_numpy(float)
    pos, neg = x[y == 1], x[y == 0]
    if pos.size < min_per_group or neg.size < min_per_group:
        msg = (
            f"{name}: {pos.size} responders and {neg.size} non-responders with a value; at least "
            f"{min_per_group} of each are needed"
        )
        raise InputError(msg)
    mw = stats.mannwhitneyu(pos, neg, alternative="two-sided")
    auc, se, lo, hi = delong_auc(pos, neg, level=level)
    method = "DeLong"
    if n_boot > 0:
        lo, hi = _boot_auc(pos, neg, n_boot, rng or np.random.default_rng(0), level)
        method = f"percentile bootstrap ({n_boot} resamples, stratified)"
    cut, sens, spec = youden(x, y)
    loo_sens, loo_spec = _loo_youden(x, y)
    return BiomarkerAssociation(
        biomarker=name,
        n_responders=int(pos.size),
        n_non_responders=int(neg.size),
        median_responders=float(np.median(pos)),
        median_non_responders=float(np.median(neg)),
        mw_u=float(mw.statistic),
        mw_p=float(mw.pvalue),
        auc=auc,
        auc_se=se,
        auc_ci=(lo, hi),
        auc_ci_method=method,
        youden_cutoff=cut,
        youden_sensitivity=sens,
        youden_specificity=spec,
        loo_sensitivity=loo_sens,
        loo_specificity=loo_spec,
        logistic=_logit(x, y),
        roc=roc_curve(x, y).assign(biomarker=name),
    )
