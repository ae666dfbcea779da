"""Survival engine against R ``survival`` on ``survival::lung`` (bundled with lifelines).

Reference: spec invivo-clinical-tme.md §2 and ../shared/clinical-data (README, CSV rows
R_lung_*). R code of the reference printouts::

    library(survival)                      # survival 3.x
    fit <- coxph(Surv(time, status) ~ sex, data = lung)        # ties = "efron"
    summary(fit)   # coef -0.5310, exp(coef) 0.5880, se 0.1672, p 0.00149, 0.4237-0.8160
    survdiff(Surv(time, status) ~ sex, data = lung)            # Chisq 10.3, p 0.001
    survfit(Surv(time, status) ~ sex, data = lung)             # medians 270 / 426
    #        n events median 0.95LCL 0.95UCL
    # sex=1 138    112    270     212     310
    # sex=2  90     53    426     348     550
    survdiff(Surv(time, status) ~ ph.ecog, data = lung)        # Chisq 22 on 3 df, p 7e-05
    coxph(Surv(time, status) ~ age + sex, data = lung)         # age 0.017045 p 0.0646,
                                                               # sex -0.513219 p 0.00218

Printed values of the spec: Cox coef -0.531022, HR 0.588004 (0.4237-0.8160), p 0.001491;
log-rank chi2 10.3267, p 0.00131116; KM medians 270 (male) / 426 (female) days.

Note on the 6th decimal of the Cox coefficient: the spec's -0.531022 / 0.588004 are lifelines'
numbers (CoxPHFitter stops on its step tolerance at -0.53102198). The maximum of the Efron
partial likelihood is -0.53102354 (independent Newton-Raphson below, score < 1e-12), which is
what R's coxph converges to (``coef(fit)`` -0.5310235) and what we report. Tolerances: coef and
HR within 2e-6 of the spec (absolute), and 1e-7 of the exact maximum; CI and p to the printed
digits; chi2 1e-4 and p 1e-8 (absolute); medians exact.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kinresist.clinical.survival import analyze_survival, cox_ph, kaplan_meier, logrank_test


def _efron_newton(
    t, e, x, *, ties: str = "efron", strata=None, iters: int = 30
) -> tuple[float, float]:
    """Independent one-covariate Cox fit (explicit loops over event times), Efron or Breslow;
    stratified: risk sets within strata, score and information summed over strata."""
    s = np.zeros(len(t)) if strata is None else np.asarray(strata)
    beta = 0.0
    info = 1.0
    for _ in range(iters):
        score = 0.0
        info = 0.0
        r = np.exp(beta * x)
        for st, tt in {(st, tt) for st, tt in zip(s[e == 1], t[e == 1], strict=True)}:
            risk = (t >= tt) & (s == st)
            dead = (t == tt) & (e == 1) & (s == st)
            d = int(dead.sum())
            s0, s1, s2 = (r * risk).sum(), (r * x * risk).sum(), (r * x * x * risk).sum()
            d0, d1, d2 = (r * dead).sum(), (r * x * dead).sum(), (r * x * x * dead).sum()
            score += x[dead].sum()
            for k in range(d):
                f = k / d if ties == "efron" else 0.0
                a0, a1, a2 = s0 - f * d0, s1 - f * d1, s2 - f * d2
                score -= a1 / a0
                info += a2 / a0 - (a1 / a0) ** 2
        step = score / info
        beta += step
        if abs(step) < 1e-14:
            break
    return beta, 1 / math.sqrt(info)


def test_cox_sex_efron_matches_r(lung):
    res = cox_ph(lung["time"], lung["status"], lung["sex"])
    assert res.method == "efron"
    assert res.ties == "efron"
    assert res.flags == ()
    term = res.main
    assert term is not None
    assert term.level == "2"
    assert term.reference == "1"
    beta, se = _efron_newton(
        lung["time"].to_numpy(float), lung["status"].to_numpy(int), lung["sex"].to_numpy(float) - 1
    )
    assert abs(term.coef - beta) < 1e-7
    assert abs(term.se - se) < 1e-7
    assert abs(term.coef - (-0.531022)) < 2e-6  # spec (lifelines) value
    assert round(term.coef, 4) == -0.5310  # R summary() printout
    assert abs(res.hr - 0.588004) < 2e-6
    lo, hi = res.ci
    assert (round(lo, 4), round(hi, 4)) == (0.4237, 0.8160)
    assert round(res.p, 6) == 0.001491
    assert round(term.se, 4) == 0.1672
    assert res.converged


def test_cox_breslow_matches_independent_newton(lung):
    """Breslow ties (R ``coxph(..., ties = "breslow")``) vs the loop implementation, 1e-7."""
    res = cox_ph(lung["time"], lung["status"], lung["sex"], ties="breslow")
    beta, se = _efron_newton(
        lung["time"].to_numpy(float),
        lung["status"].to_numpy(int),
        lung["sex"].to_numpy(float) - 1,
        ties="breslow",
    )
    assert res.method == "breslow"
    assert abs(res.main.coef - beta) < 1e-7
    assert abs(res.main.se - se) < 1e-7
    assert abs(beta - (-0.531024)) > 5e-4  # ties matter: Breslow is a different estimate


def test_stratified_cox_matches_independent_newton(lung):
    """coxph(Surv(time, status) ~ sex + strata(ph.ecog)): stratified Efron, 1e-7."""
    d = lung.dropna(subset=["ph.ecog"])
    strata = d["ph.ecog"].astype(int).to_numpy()
    res = cox_ph(d["time"], d["status"], d["sex"], strata=strata)
    beta, se = _efron_newton(
        d["time"].to_numpy(float),
        d["status"].to_numpy(int),
        d["sex"].to_numpy(float) - 1,
        strata=strata,
    )
    assert res.strata == "strata"
    assert abs(res.main.coef - beta) < 1e-7
    assert abs(res.main.se - se) < 1e-7


def test_cox_adjusted_for_age_matches_r(lung):
    """coxph(Surv(time, status) ~ age + sex): printed coefs to 6 decimals, p to 3 digits."""
    res = cox_ph(lung["time"], lung["status"], lung["sex"], covariates={"age": lung["age"]})
    sex, age = res.terms
    assert round(sex.coef, 6) == -0.513219
    assert round(age.coef, 6) == 0.017045
    assert round(sex.p, 5) == 0.00218
    assert round(age.p, 4) == 0.0646


def test_logrank_sex_matches_r(lung):
    res = logrank_test(lung["time"], lung["status"], lung["sex"])
    assert abs(res.chi2 - 10.3267) < 1e-4
    assert abs(res.p - 0.00131116) < 1e-8
    assert res.df == 1
    np.testing.assert_allclose(res.observed, [112, 53])
    np.testing.assert_allclose(res.expected, [91.6, 73.4], atol=0.05)


def test_logrank_ecog_four_groups_matches_r(lung):
    d = lung.dropna(subset=["ph.ecog"])
    res = logrank_test(d["time"], d["status"], d["ph.ecog"].astype(int), min_group_size=1)
    assert res.df == 3
    assert round(res.chi2) == 22
    assert f"{res.p:.0e}" == "7e-05"


def test_stratified_logrank_is_sum_over_strata(lung):
    """Stratified: O, E, V summed over strata; check against per-stratum pieces."""
    d = lung.dropna(subset=["ph.ecog"])
    strat = d["ph.ecog"].astype(int).to_numpy()
    res = logrank_test(d["time"], d["status"], d["sex"], strata=strat)
    o = e = v = 0.0
    for s in np.unique(strat):
        m = strat == s
        if len(np.unique(d["sex"][m])) < 2:
            continue
        part = logrank_test(d["time"][m], d["status"][m], d["sex"][m], min_group_size=1)
        o += part.observed[0]
        e += part.expected[0]
        v += part.variance[0, 0]
    assert res.n_strata == 4
    assert abs(res.chi2 - (o - e) ** 2 / v) < 1e-10
    assert res.chi2 != pytest.approx(10.3267, abs=0.1)


def test_km_medians_and_log_ci_match_r(lung):
    km = kaplan_meier(lung["time"], lung["status"], group=lung["sex"])
    med = km.medians()
    assert (med["1"].estimate, med["1"].lower, med["1"].upper) == (270.0, 212.0, 310.0)
    assert (med["2"].estimate, med["2"].lower, med["2"].upper) == (426.0, 348.0, 550.0)
    assert [c.events for c in km.curves] == [112, 53]


def test_km_log_log_ci_is_lifelines_default(lung):
    """lifelines' KaplanMeierFitter uses log-log ("exponential Greenwood"): same band, 1e-10."""
    from lifelines import KaplanMeierFitter

    km = kaplan_meier(lung["time"], lung["status"], group=lung["sex"], conf_type="log-log")
    for sex in (1, 2):
        m = lung["sex"] == sex
        kmf = KaplanMeierFitter().fit(lung["time"][m], lung["status"][m])
        ci = kmf.confidence_interval_.iloc[1:]  # lifelines starts with t = 0
        curve = km[str(sex)]
        ours_lo = np.nan_to_num(curve.lower, nan=0.0)
        ours_hi = np.nan_to_num(curve.upper, nan=0.0)
        np.testing.assert_allclose(ci.index.to_numpy(), curve.time)
        np.testing.assert_allclose(ci.iloc[:, 0].to_numpy(), ours_lo, atol=1e-10)
        np.testing.assert_allclose(ci.iloc[:, 1].to_numpy(), ours_hi, atol=1e-10)


def test_analysis_body_keys(lung):
    a = analyze_survival(lung["time"], lung["status"], group=lung["sex"], landmarks=[365])
    body = a.body()
    g1 = body["groups"][0]
    assert g1["median"] == 270.0
    assert g1["median_ci"] == [212.0, 310.0]
    assert abs(body["logrank"]["chi2"] - 10.3267) < 1e-4
    assert abs(body["logrank"]["p"] - 0.00131116) < 1e-8
    assert abs(body["cox"]["hr"] - 0.588004) < 2e-6
    assert [round(v, 4) for v in body["cox"]["ci"]] == [0.4237, 0.8160]
    assert round(body["cox"]["p"], 6) == 0.001491
    assert body["cox"]["method"] == "efron"
    assert g1["landmarks"][0]["n_risk"] == 35
