"""Firth-penalised Cox for groups with zero events; ordinary Cox never prints HR 0 or inf.

Reference: Heinze & Schemper (2001) Biometrics 57:114, as R ``coxphf`` (Breslow ties, profile
penalised-likelihood CI, penalised likelihood-ratio p). The independent computation below writes
the penalised log partial likelihood of one binary covariate with Breslow ties,

    l*(b) = sum_events [x_i b - log sum_{risk} exp(x_j b)] + 0.5 log I(b),
    I(b)  = sum_events [S2/S0 - (S1/S0)^2],

maximises it with scipy, and finds the 95% profile limits where 2(l*(b_hat) - l*(b)) = 3.8415,
and the p from 2(l*(b_hat) - l*(0)) ~ chi2(1). Tolerances: coefficient 1e-4 (firthmodels stops on
a 1e-6 step / 1e-4 gradient), CI limits on the HR scale rel 1e-3, p rel 1e-3.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import optimize, stats

from kinresist.clinical.survival import cox_ph, firth_cox
from kinresist.errors import FitError, KinresistWarning


def _zero_event_arm():
    """Control: 12 events in 15; treated: 12 patients, all censored (complete responders)."""
    rng = np.random.default_rng(7)
    t_c = np.round(rng.exponential(8, 15), 1) + 0.5
    e_c = np.ones(15, dtype=int)
    e_c[[2, 9, 13]] = 0
    t_t = np.round(rng.uniform(6, 30, 12), 1)
    e_t = np.zeros(12, dtype=int)
    arm = ["control"] * 15 + ["treated"] * 12
    return np.r_[t_c, t_t], np.r_[e_c, e_t], arm


def _penalised_loglik(b, t, e, x):
    ll = 0.0
    info = 0.0
    r = np.exp(b * x)
    for i in np.flatnonzero(e == 1):
        risk = t >= t[i]
        s0, s1, s2 = (r * risk).sum(), (r * x * risk).sum(), (r * x * x * risk).sum()
        ll += x[i] * b - math.log(s0)
        info += s2 / s0 - (s1 / s0) ** 2
    return ll + 0.5 * math.log(info)


def test_zero_event_arm_gives_finite_firth_hr_and_flag():
    t, e, arm = _zero_event_arm()
    with pytest.warns(KinresistWarning, match="no events"):
        res = cox_ph(t, e, arm, reference="control")
    assert res.method == "firth"
    assert res.ties == "breslow"
    assert "zero_events:treated" in res.flags
    assert "firth_penalised" in res.flags
    assert res.ci_method == "profile"
    assert res.p_method == "penalised-lrt"
    hr, (lo, hi) = res.hr, res.ci
    for v in (hr, lo, hi):
        assert v is not None
        assert math.isfinite(v)
        assert v > 0
    assert lo < hr < hi < 1
    body = res.to_dict()
    assert body["method"] == "firth"
    assert body["hr"] == hr
    assert body["ci"] == [lo, hi]


def test_firth_matches_independent_penalised_likelihood():
    t, e, arm = _zero_event_arm()
    x = (np.asarray(arm) == "treated").astype(float)
    res = firth_cox(t, e, arm, reference="control")
    fit = optimize.minimize_scalar(
        lambda b: -_penalised_loglik(b, t, e, x),
        bounds=(-15, 5),
        method="bounded",
        options={"xatol": 1e-10},
    )
    b_hat, l_hat = fit.x, -fit.fun
    crit = stats.chi2.ppf(0.95, 1)

    def gap(b):
        return 2 * (l_hat - _penalised_loglik(b, t, e, x)) - crit

    lo = optimize.brentq(gap, b_hat - 20, b_hat)
    hi = optimize.brentq(gap, b_hat, b_hat + 20)
    p = stats.chi2.sf(2 * (l_hat - _penalised_loglik(0.0, t, e, x)), 1)
    term = res.main
    assert abs(term.coef - b_hat) < 1e-4
    assert term.ci_low == pytest.approx(math.exp(lo), rel=1e-3)
    assert term.ci_high == pytest.approx(math.exp(hi), rel=1e-3)
    assert term.p == pytest.approx(p, rel=1e-3)


def test_never_mode_refuses_instead_of_infinite_hr():
    t, e, arm = _zero_event_arm()
    with pytest.raises(FitError, match="no events"):
        cox_ph(t, e, arm, reference="control", firth="never")


def test_monotone_likelihood_without_empty_arm_is_caught():
    """Every event of arm B happens while only B patients... : A fails first, B later.

    At each early event the failing patient has the largest covariate in the risk set, so the
    partial likelihood increases without bound: ordinary Cox must not report its HR.
    """
    t = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], dtype=float)
    e = np.array([1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1])
    arm = ["B"] * 6 + ["A"] * 6
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cox_ph(t, e, arm, reference="A")
    assert res.method == "firth"
    assert "monotone_likelihood" in res.flags
    assert any(issubclass(w.category, KinresistWarning) for w in caught)
    assert math.isfinite(res.hr)
    assert math.isfinite(res.ci[1])
    with pytest.raises(FitError):
        cox_ph(t, e, arm, reference="A", firth="never")


def test_firth_with_strata_is_refused_not_faked():
    t, e, arm = _zero_event_arm()
    strata = ["s1", "s2"] * 13 + ["s1"]
    with pytest.raises(FitError, match="not available with strata"):
        cox_ph(t, e, arm, reference="control", strata=strata)


def test_no_events_at_all():
    with pytest.raises(FitError, match="no events"):
        cox_ph([1, 2, 3, 4], [0, 0, 0, 0], ["a", "a", "b", "b"])


def test_group_never_at_risk_at_an_event_is_refused_naming_it():
    """Fuzz-found (seed 20261210): every patient of arm B is censored before the first event,
    so the partial likelihood does not depend on B's coefficient (R coxph: "X matrix deemed to
    be singular", coef NA). It was exit 1 from inside firthmodels; now a FitError naming the
    term and the first event time, from both entry points."""
    t = [5, 6, 7, 8, 9, 1, 2, 3]
    e = [1, 1, 0, 1, 1, 0, 0, 0]
    arm = ["A"] * 5 + ["B"] * 3
    for fit in (cox_ph, firth_cox):
        with pytest.raises(FitError, match=r"no information on \['group: B vs A'\]") as info:
            fit(t, e, arm)
        assert "before the first event, at time 5" in str(info.value)


def test_collinear_covariate_is_refused_not_an_overflow():
    """A covariate that is a copy of the arm (here 1 + 2·[arm B]) made statsmodels return a
    huge SE and the CI's exp() overflow (exit 1); collinear terms are refused by name."""
    t = np.array([5, 6, 7, 8, 9, 1, 2, 3, 4, 10.0])
    e = np.array([1, 1, 0, 1, 1, 1, 0, 1, 0, 1])
    arm = np.array(["A"] * 5 + ["B"] * 5)
    copy = 1.0 + 2.0 * (arm == "B")
    with pytest.raises(FitError, match="collinear") as info:
        cox_ph(t, e, arm, covariates={"dose_level": copy})
    assert "'dose_level'" in str(info.value)
    # an informative covariate on the same patients fits
    res = cox_ph(t, e, arm, covariates={"age": np.arange(10.0)})
    assert all(math.isfinite(term.coef) for term in res.terms)


def test_identifiability_check_keeps_a_barely_informative_term():
    """Arm B is two patients among 402: one event at the earliest time, one censored just
    after. B informs its coefficient through one risk set only (a monotone likelihood: B's
    only event comes first). The check must not refuse it (it refuses only what is exactly
    uninformative), and statsmodels' Newton hitting a singular step there (it was exit 1)
    goes to Firth's model like any monotone likelihood."""
    rng = np.random.default_rng(3)
    t_a = np.round(rng.exponential(10, 400), 2) + 1.0
    e_a = (rng.uniform(size=400) < 0.7).astype(int)
    t = np.r_[t_a, 0.5, 0.8]
    e = np.r_[e_a, 1, 0]
    arm = ["A"] * 400 + ["B", "B"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cox_ph(t, e, arm, reference="A")
    assert "firth_penalised" in res.flags
    assert any(issubclass(w.category, KinresistWarning) for w in caught)
    assert res.main is not None
    assert math.isfinite(res.main.coef)
    assert res.main.coef > 0  # B's one event came first: higher hazard
