"""Time to endpoint: crossing times (hand-computed), then the clinical module's KM / log-rank /
Cox (Firth when an arm has no events) and growth delay."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kinresist.invivo import GrowthData, align, analyze_growth, event_times


def _study() -> GrowthData:
    rows = []
    # control: doubles every ~5 days from 200; treated: slower; combo: shrinks (never crosses)
    for i, (rate, v0) in enumerate([(0.14, 200), (0.13, 220), (0.15, 180), (0.12, 210)]):
        for d in (0, 4, 8, 12, 16, 20):
            rows.append((f"c{i}", "Vehicle", d, v0 * math.exp(rate * d)))
    for i, (rate, v0) in enumerate([(0.07, 200), (0.06, 190), (0.08, 230), (0.05, 210)]):
        for d in (0, 4, 8, 12, 16, 20, 24, 28, 32):
            rows.append((f"t{i}", "Drug", d, v0 * math.exp(rate * d)))
    for i, v0 in enumerate([200, 210, 190, 220]):
        for d in (0, 4, 8, 12, 16, 20, 24, 28, 32):
            rows.append((f"k{i}", "Combo", d, v0 * math.exp(-0.02 * d)))
    t = pd.DataFrame(rows, columns=["subject", "arm", "day", "value"])
    return GrowthData(table=t, unit="mm3")


def test_crossing_times_by_hand():
    g = _study()
    times = event_times(align(g), 1000.0, interpolate=True).set_index("subject")
    # c0: V = 200·e^{0.14 d}; exact crossing ln(5)/0.14, log-linear interpolation is exact here
    assert times.loc["c0", "time"] == pytest.approx(math.log(5) / 0.14)
    assert times.loc["c0", "event"] == 1
    assert times.loc["k0", "event"] == 0
    assert times.loc["k0", "time"] == 32
    raw = event_times(align(g), 1000.0, interpolate=False).set_index("subject")
    assert raw.loc["c0", "time"] == 12.0  # first measurement at or above 1000


def test_interpolation_is_log_linear_between_bracketing_measurements():
    t = pd.DataFrame(
        {
            "subject": ["a"] * 3 + ["b"] * 3,
            "arm": ["V"] * 6,
            "day": [0, 10, 20] * 2,
            "value": [100, 400, 1600, 100, 0, 2000],
        }
    )
    times = event_times(align(GrowthData(table=t)), 1000.0).set_index("subject")
    assert times.loc["a", "time"] == pytest.approx(10 + 10 * math.log(1000 / 400) / math.log(4))
    assert times.loc["b", "time"] == 20.0  # previous volume 0: no log interpolation


def test_endpoint_survival_uses_the_clinical_module():
    r = analyze_growth(_study(), control="Vehicle", endpoint=1000.0, n_boot=0, figures=True)
    ep = r.body["endpoint"]
    groups = {g["group"]: g for g in ep["km"]["groups"]}
    assert groups["Vehicle"]["events"] == 4
    assert groups["Combo"]["events"] == 0
    assert groups["Combo"]["median"] == "NR"  # not reached (clinical JSON)
    assert ep["km"]["conf_type"] == "log"
    # Combo has no events: Cox is Firth-penalised (flagged), not HR = 0
    assert ep["cox"]["method"] == "firth"
    delay = {d["arm"]: d for d in ep["growth_delay"]}
    times = r.tables["endpoint_times"].set_index("subject")
    med_c = float(np.median(times.loc[[f"c{i}" for i in range(4)], "time"]))
    assert groups["Vehicle"]["median"] == pytest.approx(med_c, rel=1e-9) or groups["Vehicle"][
        "median"
    ] in set(times["time"])
    assert delay["Drug"]["tgd_days"] == pytest.approx(
        groups["Drug"]["median"] - groups["Vehicle"]["median"]
    )
    assert delay["Combo"]["tgd_days"] is None
    assert delay["Combo"]["note"] == "median not reached"
    lr = {row["arm"]: row for row in ep["logrank_vs_control"]}
    assert lr["Drug"]["p"] < 0.05
    assert "km" in [f.name for f in r.figures]
