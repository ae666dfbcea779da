"""analyze_growth edge cases: unaligned days (re-zeroed), zero volumes and zero rules, animals
removed before day D, areas, bioluminescence flux on the log scale, TumGrowth files end to end."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kinresist.errors import InputError
from kinresist.invivo import GrowthData, align, analyze_growth, per_animal, read_growth


def _frame(rows):
    return pd.DataFrame(rows, columns=["subject", "arm", "day", "value"])


def test_unaligned_days_rezeroed_per_animal():
    """Staggered enrolment: each mouse is measured 0, 7, 14 days after its own first day."""
    rows = []
    for i, start in enumerate([0, 2, 4, 1]):
        arm = "V" if i < 2 else "D"
        for k, d in enumerate((0, 7, 14)):
            rows.append((f"m{i}", arm, start + d, 100.0 * (2.0 if arm == "V" else 1.2) ** k))
    data = GrowthData(table=_frame(rows))
    with pytest.raises(InputError, match="no baseline volume on day 0"):
        analyze_growth(data, control="V", n_boot=0, figures=False, lmm=False)
    r = analyze_growth(data, control="V", baseline="first", n_boot=0, figures=False, lmm=False)
    assert r.body["baseline"]["rule"] == "first"
    assert r.body["day"] == 14  # days since each animal's baseline
    d = r.body["arms"]["D"]
    assert d["tgi_endpoint"]["estimate"] == pytest.approx((1 - 144 / 400) * 100)
    assert d["tgi_delta"]["estimate"] == pytest.approx((1 - 44 / 300) * 100)


def test_removed_animals_and_n_at_day():
    rows = [
        ("a", "V", 0, 100),
        ("a", "V", 10, 400),
        ("a", "V", 20, 900),
        ("b", "V", 0, 120),
        ("b", "V", 10, 500),
        ("b", "V", 20, np.nan),  # removed
        ("c", "V", 0, 110),
        ("c", "V", 10, 420),
        ("c", "V", 20, 1000),
        ("d", "T", 0, 100),
        ("d", "T", 10, 150),
        ("d", "T", 20, 200),
        ("e", "T", 0, 90),
        ("e", "T", 10, 100),
        ("e", "T", 20, 120),
    ]
    r = analyze_growth(
        GrowthData(table=_frame(rows)), control="V", n_boot=0, figures=False, lmm=False
    )
    v = r.body["arms"]["V"]
    assert (v["n"], v["n_start"]) == (2, 3)
    assert v["mean"] == pytest.approx(950.0)
    assert v["mean_v0"] == pytest.approx(105.0)  # baseline of the animals measured on D
    curves = r.tables["curves"]
    assert curves[(curves["arm"] == "V") & (curves["day"] == 20)]["n"].iloc[0] == 2


def test_zero_volumes_and_zero_rules():
    rows = [
        ("a", "V", 0, 50),
        ("a", "V", 7, 100),
        ("a", "V", 14, 300),
        ("b", "V", 0, 60),
        ("b", "V", 7, 130),
        ("b", "V", 14, 350),
        ("c", "T", 0, 55),
        ("c", "T", 7, 0),
        ("c", "T", 14, 0),
        ("d", "T", 0, 50),
        ("d", "T", 7, 20),
        ("d", "T", 14, 10),
    ]
    data = GrowthData(table=_frame(rows))
    a = align(data)
    drop = per_animal(a, day=14, zero_rule="drop").set_index("subject")
    assert drop.loc["c", "slope"] != drop.loc["c", "slope"]  # one point left: NaN (unknown)
    plus1 = per_animal(a, day=14, zero_rule="plus1").set_index("subject")
    assert plus1.loc["c", "slope"] == pytest.approx(
        np.polyfit([0, 7, 14], np.log1p([55, 0, 0]), 1)[0]
    )
    half = per_animal(a, day=14, zero_rule="half_min").set_index("subject")
    assert half.loc["c", "slope"] == pytest.approx(
        np.polyfit([0, 7, 14], np.log([55, 5, 5]), 1)[0]  # smallest positive volume 10 -> 5
    )
    r = analyze_growth(data, control="V", n_boot=0, figures=False)
    assert any("zero volume" in n for n in r.body["notes"])
    assert r.body["arms"]["T"]["regression_pct"]["estimate"] == pytest.approx((1 - 5 / 52.5) * 100)
    c = next(a for a in r.body["animals"] if a["subject"] == "c")
    assert c["mrecist"] is None  # one measurement at t >= 10 d: not evaluable, said why
    assert "fewer than two" in c["mrecist_note"]


def test_zero_baseline_is_unknown_rtv():
    rows = [
        ("a", "V", 0, 0),
        ("a", "V", 7, 40),
        ("b", "V", 0, 30),
        ("b", "V", 7, 60),
        ("c", "T", 0, 30),
        ("c", "T", 7, 30),
        ("d", "T", 0, 20),
        ("d", "T", 7, 25),
    ]
    r = analyze_growth(GrowthData(table=_frame(rows)), control="V", n_boot=0, figures=False)
    animals = r.tables["animals"].set_index("subject")
    assert math.isnan(animals.loc["a", "rtv_day"])
    assert any("zero baseline" in n for n in r.body["notes"])
    assert r.body["arms"]["V"]["mean_rtv"] == pytest.approx(2.0)  # only b has an RTV


def test_bioluminescence_flux_on_log_scale(tmp_path):
    rng = np.random.default_rng(5)
    lines = ["mouse,arm,day,total_flux"]
    for i in range(10):
        arm, rate = ("Vehicle", 0.35) if i < 5 else ("Drug", 0.1)
        f0 = 1e6 * math.exp(rng.normal(0, 0.3))
        for d in (0, 4, 8, 12, 16):
            lines.append(f"m{i},{arm},{d},{f0 * math.exp(rate * d + rng.normal(0, 0.2)):.4g}")
    p = tmp_path / "bli.csv"
    p.write_text("\n".join(lines) + "\n")
    r = analyze_growth(read_growth(p), control="Vehicle", n_boot=0)
    assert r.body["quantity"] == "flux"
    assert r.body["arms"]["Drug"]["mrecist"]["NE"] == 5
    assert r.body["arms"]["Drug"].get("tgi_delta") is None
    assert any("bioluminescence" in n for n in r.body["notes"])
    slopes = r.body["lmm"]["slopes"]
    assert slopes["Vehicle"]["estimate"] == pytest.approx(0.35, abs=0.05)
    assert slopes["Drug"]["estimate"] == pytest.approx(0.1, abs=0.05)
    assert "waterfall" not in [f.name for f in r.figures]
    curves = r.tables["curves"]
    assert (curves["geo_mean"] > 0).all()


def test_tumgrowth_end_to_end(shared):
    data = read_growth(shared("invivo-data", "tumgrowth_TestLong.tsv"))
    r = analyze_growth(data, control="C", n_boot=200, figures=False)
    assert r.body["baseline"]["day"] == 5
    assert r.body["arms"]["A"]["tgi_delta"]["estimate"] is not None
    assert any("excluded by the file" in n for n in r.body["notes"])


def test_day_not_measured_is_an_input_error(shared):
    data = read_growth(shared("invivo-data", "invivosyn_SW837.csv"))
    with pytest.raises(InputError, match="day 21 is not a measurement day") as err:
        analyze_growth(data, control="Vehicle", day=21, figures=False)
    assert err.value.column == "day"
    r = analyze_growth(data, control="Vehicle", day=13, n_boot=0, figures=False, lmm=False)
    assert r.body["day"] == 13
    assert r.body["day_rule"] == "given"


def test_slope_anova_tukey_matches_scipy(shared):
    """tumr-style alternative: per-animal slopes -> one-way ANOVA and Tukey HSD (scipy)."""
    from scipy import stats

    r = analyze_growth(
        read_growth(shared("invivo-data", "synergylmm_grwth_data.csv")),
        control="Control",
        n_boot=0,
        figures=False,
        lmm=False,
    )
    a = r.tables["animals"]
    groups = [
        a.loc[a["arm"] == g, "slope"].to_numpy()
        for g in ("Control", "DrugA", "DrugB", "Combination")
    ]
    f, p = stats.f_oneway(*groups)
    sa = r.body["slope_anova"]
    assert sa["f"] == pytest.approx(f)
    assert sa["p"] == pytest.approx(p)
    row = next(t for t in sa["tukey"] if t["arm"] == "Combination" and t["reference"] == "Control")
    assert row["difference"] == pytest.approx(groups[3].mean() - groups[0].mean())
    assert row["ci_low"] < row["difference"] < row["ci_high"]
