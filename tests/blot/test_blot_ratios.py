"""Loading control, phospho/total ratios, fold changes and replicate blots.

End to end on the generator's crizotinib dose series (:func:`example_blot_set`): p-ALK and ALK on
separate membranes, each with GAPDH, lane loading varying 0.7-1.3x independently on each
membrane, three replicate blots. The true p-ALK/ALK ratio and fold change per lane are known.

Replicate statistics are checked against independent formulas:

* ``log_t``: ``scipy.stats.ttest_1samp`` on the per-blot log fold changes (p value and the
  t confidence interval, exponentiated);
* ``mixed``: in a balanced design (every condition once per blot) the REML fixed effect of a
  condition in ``log y ~ condition + (1 | blot)`` equals the mean over blots of
  ``log y_condition - log y_control`` whatever the variance components (GLS = OLS for a
  balanced random-intercept design), so ``exp`` of that mean is the reference to 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kinresist.blot import analyze_blot, design_from_frame, example_blot_set, image_from_array
from kinresist.blot.normalise import aggregate_replicates
from kinresist.errors import DataQualityWarning, InputError


@pytest.fixture(scope="module")
def experiment():
    images, design, truth = example_blot_set(rng=np.random.default_rng(5))
    imgs = [image_from_array(b.pixels, name=n) for n, b in images.items()]
    res = analyze_blot(imgs, design_from_frame(design))
    return res, truth, images, design


def test_phospho_total_ratio_and_fold_change_match_truth(experiment):
    res, truth, _, _ = experiment
    rat = res.tables["ratios"].merge(truth, on=["blot", "dose"], suffixes=("", "_true"))
    assert len(rat) == 18
    assert set(rat["normalisation"]) == {"separate_membranes_each_to_own_loading_control"}
    np.testing.assert_allclose(rat["ratio"], rat["ratio_true"], rtol=0.05)
    np.testing.assert_allclose(rat["fold_change"], rat["fold_change_true"], rtol=0.05)
    # every band here is > 10x noise (none is flagged), so all of them count for the 5 %
    assert not rat["flags"].str.contains("low_signal|not_detected|saturated").any()
    assert res.body["ratios"] == ["p-ALK/ALK"]


def test_loading_control_removes_lane_loading(experiment):
    """Raw p-ALK volumes follow the random lane loading; p-ALK/GAPDH does not."""
    res, _, images, _ = experiment
    norm = res.tables["normalised"]
    alk = norm[norm["target"] == "ALK"]
    assert set(alk["loading_control"]) == {"GAPDH"}
    # total ALK is unchanged by crizotinib apart from the 0.8-1.2 per-blot draw of the
    # generator: normalised ALK varies far less than raw ALK across lanes
    cv = lambda v: np.std(v) / np.mean(v)  # noqa: E731
    raw_cv = np.mean([cv(g["target_volume"]) for _, g in alk.groupby("blot")])
    norm_cv = np.mean([cv(g["normalised"]) for _, g in alk.groupby("blot")])
    assert norm_cv < raw_cv
    t = images["blot1_ALK.tif"].truth
    main = t[t["target"] == "ALK"]["volume"].to_numpy()
    lc = t[t["target"] == "GAPDH"]["volume"].to_numpy()
    got = alk[alk["blot"] == "B1"].sort_values("lane")["normalised"].to_numpy()
    np.testing.assert_allclose(got, main / lc, rtol=0.03)


def test_replicates_log_t_against_scipy(experiment):
    res, _, _, _ = experiment
    rat = res.tables["ratios"]
    reps = res.tables["replicates"]
    reps = reps[reps["quantity"] == "phospho_total_ratio"]
    assert len(reps) == 6
    for r in reps.itertuples():
        lfc = np.log(rat.loc[rat["dose"] == r.dose, "fold_change"].to_numpy())
        assert r.n_blots == len(lfc) == 3
        assert r.fold_change == pytest.approx(math.exp(lfc.mean()), rel=1e-12)
        if r.control:
            assert r.fold_change == pytest.approx(1.0)
            assert math.isnan(r.p_value)
            continue
        t = stats.ttest_1samp(lfc, 0.0)
        ci = t.confidence_interval(0.95)
        assert r.p_value == pytest.approx(t.pvalue, rel=1e-10)
        assert r.ci_low == pytest.approx(math.exp(ci.low), rel=1e-10)
        assert r.ci_high == pytest.approx(math.exp(ci.high), rel=1e-10)
    top = reps.set_index("dose").loc[1000.0]
    assert top["ci_high"] < 0.2  # 1 µM crizotinib: p-ALK/ALK down > 5-fold
    assert top["p_value"] < 0.001


def _balanced(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    effects = {"DMSO": 0.0, "criz 30": -0.4, "criz 300": -1.6}
    for b in range(4):
        blot_effect = rng.normal(0, 0.3)
        for cond, eff in effects.items():
            rows.append(
                {
                    "blot": f"B{b}",
                    "sample": cond,
                    "cell_line": "H3122",
                    "treatment": cond.split()[0],
                    "dose": 0.0 if cond == "DMSO" else float(cond.split()[1]),
                    "dose_unit": "nM",
                    "control": cond == "DMSO",
                    "target": "p-ALK/ALK",
                    "ratio": math.exp(0.5 + blot_effect + eff + rng.normal(0, 0.1)),
                    "flags": "",
                }
            )
    frame = pd.DataFrame(rows)
    ctrl = frame[frame["control"]].set_index("blot")["ratio"]
    frame["fold_change"] = frame["ratio"] / frame["blot"].map(ctrl)
    return frame


@pytest.mark.parametrize("seed", [3, 7])
def test_mixed_model_equals_balanced_closed_form(seed):
    """Seed 7 draws small blot effects: REML lands on the boundary (variance 0); statsmodels'
    warning becomes a note and a flag, and the estimates still equal the closed form."""
    frame = _balanced(seed)
    agg, notes = aggregate_replicates(frame, value="ratio", method="mixed")
    assert agg["converged"].all()
    if seed == 7:
        assert any("boundary of the parameter space" in n for n in notes)
        assert agg["flags"].str.contains("mixed_model_warning").all()
    else:
        assert notes == []
        assert not agg["flags"].str.contains("mixed_model_warning").any()
    for r in agg.itertuples():
        lfc = np.log(frame.loc[frame["sample"] == r.sample, "fold_change"].to_numpy())
        assert r.fold_change == pytest.approx(math.exp(lfc.mean()), rel=1e-6)
        if not r.control:
            assert r.ci_low < r.fold_change < r.ci_high
            assert r.p_value < 0.01
    # log_t on the same data: same point estimates (geometric means), different intervals
    lt, _ = aggregate_replicates(frame, value="ratio", method="log_t")
    np.testing.assert_allclose(lt["fold_change"], agg["fold_change"], rtol=1e-6)


def test_mixed_model_problems_are_flagged_not_silent():
    frame = _balanced(8)
    frame = frame[frame["blot"] == "B0"]  # one blot: nothing to fit
    agg, notes = aggregate_replicates(frame, value="ratio", method="mixed")
    assert agg["fold_change"].isna().all()
    assert any("not fitted" in n for n in notes)


def test_same_membrane_ratio_needs_no_loading_control():
    """p-ALK and ALK as two channels (two images) of one membrane: the direct ratio."""
    images, design, _ = example_blot_set(rng=np.random.default_rng(9), n_blots=1)
    d = design[design["role"] == "target"].copy()
    d["membrane"] = "M1"
    imgs = [image_from_array(b.pixels, name=n) for n, b in images.items()]
    with pytest.warns(DataQualityWarning, match="no loading control"):
        res = analyze_blot(imgs, design_from_frame(d))
    rat = res.tables["ratios"]
    assert set(rat["normalisation"]) == {"same_membrane"}
    assert rat["ratio"].notna().all()
    vol = res.tables["bands"].set_index(["target", "lane"])["volume"]
    expected = [vol[("p-ALK", k)] / vol[("ALK", k)] for k in rat["numerator_lane"]]
    np.testing.assert_allclose(rat["ratio"], expected, rtol=1e-12)


def test_separate_membranes_without_loading_control_stay_unknown():
    images, design, _ = example_blot_set(rng=np.random.default_rng(10), n_blots=1)
    d = design[~((design["target"] == "GAPDH") & design["image"].str.contains("_ALK"))]
    imgs = [image_from_array(b.pixels, name=n) for n, b in images.items()]
    with pytest.warns(DataQualityWarning) as caught:
        res = analyze_blot(imgs, design_from_frame(d))
    messages = " | ".join(str(w.message) for w in caught)
    assert "ratio(s) are unknown" in messages
    assert "no loading control" in messages
    rat = res.tables["ratios"]
    assert rat["ratio"].isna().all()
    assert rat["flags"].str.contains("ratio_unknown_without_loading_control").all()
    ms = [m for m in res.measurements if m.quantity == "phospho_total_ratio"]
    assert all(m.value is None for m in ms)


def test_two_loading_controls_on_one_membrane_are_refused():
    images, design, _ = example_blot_set(rng=np.random.default_rng(11), n_blots=1)
    extra = design[design["target"] == "GAPDH"].copy()
    extra["target"] = "vinculin"
    imgs = [image_from_array(b.pixels, name=n) for n, b in images.items()]
    with pytest.raises(InputError, match="has 2 loading controls"):
        analyze_blot(imgs, design_from_frame(pd.concat([design, extra])))


def test_measurements_for_the_store(experiment):
    res, _, _, _ = experiment
    by_q: dict[str, list] = {}
    for m in res.measurements:
        by_q.setdefault(m.quantity, []).append(m)
    ratios = by_q["phospho_total_ratio"]
    assert len(ratios) == 18
    m = ratios[0]
    assert (m.subject, m.target, m.assay, m.unit) == ("H3122", "p-ALK/ALK", "western_blot", "ratio")
    assert m.sample == "H3122_criz_0nM"
    assert m.attributes["treatment"] == "DMSO"
    assert m.attributes["dose"] == 0.0
    assert m.attributes["blot"] == "B1"
    assert m.attributes["fold_change"] == pytest.approx(1.0)
    assert len(by_q["phospho_total_fold_change"]) == 18
    assert len(by_q["phospho_total_fold_change_mean"]) == 6
    assert {m.target for m in by_q["loading_normalised_intensity"]} == {"p-ALK/GAPDH", "ALK/GAPDH"}
    agg = next(m for m in by_q["phospho_total_fold_change_mean"] if m.attributes["dose"] == 100.0)
    assert agg.ci_low < agg.value < agg.ci_high
    assert agg.attributes["n_blots"] == 3
    assert agg.sample == "H3122_criz_100nM"
    d = res.to_dict()
    assert d["workflow"] == "blot.analyze"
    assert d["background"]["method"] == "lane_min_line"
    assert len(d["measurements"]) == len(res.measurements)
