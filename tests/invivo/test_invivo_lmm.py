"""The SynergyLMM mixed model on ``grwth_data`` (CRAN SynergyLMM, GPL-3) against R nlme.

References (no R at test time):

1. SynergyLMM README (``lmmModel`` drops the baseline rows, as its source does)::

       library(SynergyLMM)
       lmm_ex <- lmmModel(data = grwth_data, sample_id = "subject", time = "Time",
                          treatment = "Treatment", tumor_vol = "TumorVolume",
                          trt_control = "Control", drug_a = "DrugA", drug_b = "DrugB",
                          combination = "Combination", show_plot = FALSE)
       lmmModel_estimates(lmm_ex)
       #    Control se_Control   DrugA  se_DrugA   DrugB  se_DrugB Combination se_Combination
       # 0.07855242 0.00322683 0.07491984 0.00322683 0.06306986 0.00322683 0.03487933 0.00322683
       #   sd_ranef  sd_resid
       # 0.03946667 0.2124122

   ``sd_ranef`` is ``sqrt(diag(pdMatrix(reStruct)))``, i.e. relative to the residual SD:
   random-slope variance = (0.03946667 · 0.2124122)² = 7.0278e-05.

2. Spec invivo-clinical-tme.md §8 (R nlme on every row, baseline rows included)::

       lme(logRTV ~ 0 + Time:Treatment, random = ~ 0 + Time | subject, data = grwth_data, REML)
       # slopes 0.0785524 / 0.0749198 / 0.0630699 / 0.0348793, SE 0.0032268 each,
       # random-slope variance 7.158e-05, residual variance 0.040607,
       # Bliss contrast b_AB - b_A - b_B + b_C = -0.024558 (SE 0.006454)

Tolerance: 6 decimals (atol 5e-7) on slopes, SEs, residual variance and the Bliss contrast;
the random-slope variance to the 4 significant digits printed (rtol 1e-4).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kinresist.errors import InputError
from kinresist.invivo import (
    adjust_pvalues,
    align,
    contrasts,
    fit_lmm,
    lmm_synergy,
    parse_combination,
    read_growth,
    synergy_by_day,
)

ARMS = ["Control", "DrugA", "DrugB", "Combination"]
SLOPES = [0.0785524, 0.0749198, 0.0630699, 0.0348793]


@pytest.fixture(scope="module")
def grwth():
    from sharedpaths import shared_path

    return align(read_growth(shared_path("invivo-data", "synergylmm_grwth_data.csv")))


def test_slopes_and_variance_components_as_synergylmm(grwth):
    fit = fit_lmm(grwth, ARMS)
    assert fit.converged
    assert fit.warnings == ()
    np.testing.assert_allclose(fit.slopes, SLOPES, atol=5e-7)
    np.testing.assert_allclose(fit.se, 0.0032268, atol=5e-7)
    sd_resid = math.sqrt(fit.residual_variance)
    sd_ranef_rel = math.sqrt(fit.random_slope_variance / fit.residual_variance)
    assert sd_resid == pytest.approx(0.2124122, abs=5e-7)
    assert sd_ranef_rel == pytest.approx(0.03946667, abs=5e-7)
    assert fit.n_subjects == 32
    assert fit.n_obs == 320


def test_spec_section8_variance_components_with_baseline_rows(grwth):
    fit = fit_lmm(grwth, ARMS, include_baseline_rows=True)
    np.testing.assert_allclose(fit.slopes, SLOPES, atol=5e-7)
    np.testing.assert_allclose(fit.se, 0.0032268, atol=5e-7)
    assert fit.random_slope_variance == pytest.approx(7.158e-05, rel=1e-4)
    assert fit.residual_variance == pytest.approx(0.040607, abs=5e-7)
    syn = lmm_synergy(fit, parse_combination("Combination=DrugA,DrugB", ARMS), "Control")
    assert syn["bliss"].contrast == pytest.approx(-0.024558, abs=5e-7)
    assert syn["bliss"].se == pytest.approx(0.006454, abs=5e-7)


def test_bliss_hsa_ra_contrasts(grwth):
    fit = fit_lmm(grwth, ARMS)
    syn = lmm_synergy(fit, parse_combination("Combination=DrugA,DrugB", ARMS), "Control")
    b = dict(zip(ARMS, fit.slopes, strict=True))
    bliss = syn["bliss"]
    assert bliss.contrast == pytest.approx(-0.024558, abs=5e-7)
    assert bliss.se == pytest.approx(0.006454, abs=5e-7)
    # marginaleffects::hypotheses: two-sided normal p; SynergyLMM's score = -estimate/SE
    assert bliss.p == pytest.approx(2 * stats.norm.sf(abs(bliss.contrast / bliss.se)))
    assert bliss.score == pytest.approx(3.8053, abs=1e-3)
    d = bliss.as_dict()
    assert d["combination_index"] == pytest.approx(math.exp(bliss.contrast * 30))
    assert d["call"] == "synergy"
    hsa = syn["hsa"]  # strongest single agent = smallest slope = DrugB
    assert hsa.contrast == pytest.approx(b["Combination"] - b["DrugB"], abs=1e-12)
    assert hsa.se == pytest.approx(math.sqrt(2) * 0.00322683, abs=1e-7)
    assert "DrugB" in hsa.note
    ra = syn["response_additivity"]

    def auc(k):
        return (math.exp(k * 30) - 1) / k

    expected = auc(b["DrugA"]) + auc(b["DrugB"]) - auc(b["Control"])
    assert ra.expected == pytest.approx(expected, rel=1e-12)
    assert ra.contrast == pytest.approx(auc(b["Combination"]) - expected, rel=1e-12)
    # delta-method SE against a numerical gradient of the same function
    cov = fit.cov

    def f(v):
        return auc(v[3]) - (auc(v[1]) + auc(v[2]) - auc(v[0]))

    eps = 1e-7
    grad = np.array(
        [(f(fit.slopes + eps * e) - f(fit.slopes - eps * e)) / (2 * eps) for e in np.eye(4)]
    )
    assert ra.se == pytest.approx(math.sqrt(grad @ cov @ grad), rel=1e-5)


def test_pairwise_contrasts_and_adjustment(grwth):
    fit = fit_lmm(grwth, ARMS)
    con = contrasts(fit, adjust="holm")
    assert len(con) == 6
    row = con[(con["arm"] == "Combination") & (con["reference"] == "Control")].iloc[0]
    assert row["difference"] == pytest.approx(0.0348793 - 0.0785524, abs=1e-6)
    np.testing.assert_allclose(con["p_adjusted"], adjust_pvalues(con["p"].to_numpy(), "holm"))


def test_p_adjust_matches_r():
    """R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") -> 0.030 0.060 0.060 0.020;
    "BH" -> 0.02000000 0.04000000 0.04000000 0.02000000; "bonferroni" -> 0.04 0.16 0.12 0.02."""
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(adjust_pvalues(p, "BH"), [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_allclose(adjust_pvalues(p, "bonferroni"), [0.04, 0.16, 0.12, 0.02])
    np.testing.assert_allclose(adjust_pvalues(p, "none"), p)


def test_synergy_over_time_ends_at_the_full_fit(grwth):
    combo = parse_combination("Combination=DrugA,DrugB", ARMS)
    table = synergy_by_day(grwth, ARMS, combo, "Control")
    # every SynergyLMM time point 3..30 is fitted (day 18 needs the rescaled design)
    assert sorted(table["t"].unique()) == [3, 6, 9, 12, 15, 18, 21, 24, 27, 30]
    last = table[(table["t"] == 30) & (table["model"] == "bliss")].iloc[0]
    assert last["contrast"] == pytest.approx(-0.024558, abs=5e-7)


def test_combination_parsing_errors():
    with pytest.raises(InputError, match="COMBO=AGENT1,AGENT2"):
        parse_combination("A+B", ["A", "B", "A+B"])
    with pytest.raises(InputError, match="not in the data"):
        parse_combination("A+C=A,C", ["A", "B", "A+B"])
    c = parse_combination(
        "Irinotecan + Rabusertib=Irinotecan, Rabusertib",
        ["Irinotecan", "Rabusertib", "Irinotecan + Rabusertib"],
    )
    assert c.agents == ("Irinotecan", "Rabusertib")
