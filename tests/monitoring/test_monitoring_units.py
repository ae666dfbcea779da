"""Plasma QC arithmetic, the log-linear trend test and the alert rules, on hand-made values."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from kinresist.monitoring.alerts import (
    Point,
    emergence_alerts,
    progression_alerts,
    rising_alerts,
)
from kinresist.monitoring.plasma import plasma_qc
from kinresist.monitoring.therapy import TherapySpan, current_line, next_change
from kinresist.monitoring.trend import log_trend


# -- plasma QC ----------------------------------------------------------------------------
def test_cfdna_to_genome_equivalents_and_theoretical_lod() -> None:
    """../shared/specs/ngs.md §4: one haploid genome = 3.3 pg, so 10 ng = 3,030 GE; ddpcr.md
    §4.2: 95 % detection needs -ln(0.05) = 2.996 mutant copies, "3 copies in 3,000 GE ≈ 0.1 %".
    Derived by hand: 10 ng -> 10,000 pg / 3.3 = 3030.303 GE; LoD = 2.9957/(2.9957 + 3030.303)
    = 0.098766 %."""
    qc = plasma_qc(tube="Streck", hours_to_processing=48, plasma_ml=4.0, cfdna_ng=10.0)
    assert qc.haploid_genome_equivalents == pytest.approx(3030.3030303, rel=1e-9)
    assert qc.genome_equivalents_per_ml == pytest.approx(757.5757576, rel=1e-9)
    assert qc.theoretical_lod_percent == pytest.approx(0.098766, rel=1e-4)
    assert qc.flags == ()
    assert plasma_qc(cfdna_ng=0.0).flags == ("no_cfdna",)
    assert plasma_qc(cfdna_ng=0.0).theoretical_lod_percent is None


@pytest.mark.parametrize(
    ("tube", "hours", "flags"),
    [
        ("EDTA", 4.0, ()),  # the rule is "> 4 h"
        ("K2EDTA", 4.5, ("edta_processing_over_4h",)),
        ("Streck", 72.0, ()),
        ("Streck cfDNA BCT", 200.0, ("streck_processing_over_168h",)),
        ("EDTA", None, ("processing_time_unknown",)),
        ("PAXgene", 10.0, ("tube_rule_unknown",)),
        (None, 3.0, ("tube_unknown",)),
    ],
)
def test_tube_rules(tube: str | None, hours: float | None, flags: tuple[str, ...]) -> None:
    assert plasma_qc(tube=tube, hours_to_processing=hours).flags == flags


def test_bad_qc_values_are_refused() -> None:
    with pytest.raises(ValueError, match="plasma_ml"):
        plasma_qc(plasma_ml=0.0)
    with pytest.raises(ValueError, match="hours_to_processing"):
        plasma_qc(hours_to_processing=-1.0)


# -- trend test ---------------------------------------------------------------------------
def test_log_trend_matches_ols_reference() -> None:
    """Reference: R ``summary(lm(log(y) ~ d))`` (the same numbers statsmodels OLS gives; R is
    not needed at test time)::

        d <- c(0, 161, 301, 441); y <- c(0.28, 1.4, 4.3, 9.0)
        s <- summary(lm(log(y) ~ d))$coefficients
        s["d", ]                     # estimate, SE, t, two-sided p
        pt(s["d", "t value"], df = 2, lower.tail = FALSE)   # one-sided p

    Tolerance: 1e-10 relative (the same closed-form least squares)."""
    import statsmodels.api as sm

    days = [0.0, 161.0, 301.0, 441.0]
    vals = [0.28, 1.4, 4.3, 9.0]
    fit = sm.OLS(np.log(vals), sm.add_constant(days)).fit()
    t = log_trend(days, vals)
    assert t.slope_per_day == pytest.approx(fit.params[1], rel=1e-10)
    assert t.se == pytest.approx(fit.bse[1], rel=1e-10)
    assert t.t == pytest.approx(fit.tvalues[1], rel=1e-10)
    assert t.p_value == pytest.approx(fit.pvalues[1] / 2, rel=1e-8)  # one-sided, slope > 0
    assert t.df == 2
    assert t.doubling_days == pytest.approx(math.log(2) / fit.params[1], rel=1e-10)


def test_log_trend_refuses_what_it_cannot_test() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        log_trend([0, 1], [1.0, 2.0])
    with pytest.raises(ValueError, match="> 0"):
        log_trend([0, 1, 2], [1.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="one day"):
        log_trend([5, 5, 5], [1.0, 2.0, 3.0])
    exact = log_trend([0, 10, 20], [1.0, 2.0, 4.0])  # an exact exponential: p = 0
    assert exact.p_value == 0.0
    assert exact.doubling_days == pytest.approx(10.0)


# -- alerts -------------------------------------------------------------------------------
def _p(
    sample: str,
    day: str,
    value: float | None,
    *,
    assay: str = "ddpcr",
    lod: float | None = 0.1,
    drug: str | None = "alectinib",
    alteration: str = "ALK G1202R",
) -> Point:
    call = "not_detected" if value is None else "detected"
    return Point(
        alteration=alteration,
        sample=sample,
        when=dt.datetime.fromisoformat(day),
        collected=day,
        assay=assay,
        quantity="fractional_abundance" if assay == "ddpcr" else "vaf",
        value=value,
        lod=lod,
        call=call,
        drug=drug,
    )


def test_new_detection_confirmed_by_the_next_draw() -> None:
    pts = [
        _p("D1", "2024-01-01", None),
        _p("D2", "2024-03-01", 0.3),
        _p("D3", "2024-05-01", 0.9),
    ]
    (alert,) = emergence_alerts("ALK G1202R", pts)
    assert (alert.kind, alert.sample, alert.collected) == ("new_detection", "D3", "2024-05-01")
    assert alert.details["first_detected"] == "D2"
    assert alert.details["confirmed_by"] == "next_draw"
    assert "below" not in alert.reason
    assert "D2" in alert.reason
    assert "D3" in alert.reason


def test_new_detection_confirmed_by_the_other_assay_in_the_same_draw() -> None:
    pts = [
        _p("D1", "2024-01-01", None),
        _p("D2", "2024-03-01", 0.3),
        _p("D2", "2024-03-01", 0.25, assay="ngs", lod=0.2),
    ]
    (alert,) = emergence_alerts("ALK G1202R", pts)
    assert (alert.sample, alert.details["confirmed_by"]) == ("D2", "other_assay")


def test_no_new_detection_without_confirmation_baseline_or_lod() -> None:
    blip = [_p("D1", "2024-01-01", None), _p("D2", "2024-03-01", 0.3), _p("D3", "2024-05-01", None)]
    assert emergence_alerts("ALK G1202R", blip) == []
    baseline = [_p("D1", "2024-01-01", 0.5), _p("D2", "2024-03-01", 0.6)]
    assert emergence_alerts("ALK G1202R", baseline) == []
    below = [
        _p("D1", "2024-01-01", None),
        _p("D2", "2024-03-01", 0.05),
        _p("D3", "2024-05-01", 0.06),
    ]
    assert emergence_alerts("ALK G1202R", below) == []  # detected, but never above the LoD 0.1


def test_rising_needs_three_detected_values_and_a_significant_slope() -> None:
    rising = [
        _p("D1", "2024-01-01", None),
        _p("D2", "2024-03-01", 0.3),
        _p("D3", "2024-05-01", 0.9),
        _p("D4", "2024-07-01", 2.8),
    ]
    (alert,) = rising_alerts("ALK G1202R", rising)
    assert (alert.kind, alert.sample) == ("rising", "D4")
    assert alert.details["draws"] == ["D2", "D3", "D4"]
    assert alert.details["trend"]["p_value"] < 0.05
    flat = [_p(f"D{i}", f"2024-0{i}-01", v) for i, v in enumerate([1.0, 1.1, 0.95, 1.05], 1)]
    assert rising_alerts("ALK G1202R", flat) == []
    falling = [_p(f"D{i}", f"2024-0{i}-01", v) for i, v in enumerate([3.0, 1.0, 0.3], 1)]
    assert rising_alerts("ALK G1202R", falling) == []
    undetected = [_p(f"D{i}", f"2024-0{i}-01", None) for i in range(1, 5)]
    assert rising_alerts("ALK G1202R", undetected) == []
    assert emergence_alerts("ALK G1202R", undetected) == []


def test_molecular_progression_with_lead_time() -> None:
    lines = [
        TherapySpan(1, "crizotinib", dt.date(2022, 3, 1), dt.date(2023, 5, 31)),
        TherapySpan(2, "alectinib", dt.date(2023, 6, 5), dt.date(2025, 2, 28)),
        TherapySpan(3, "lorlatinib", dt.date(2025, 3, 5), None),
    ]
    pts = [
        _p("D1", "2024-01-01", None),
        _p("D2", "2024-03-19", 0.3),
        _p("D3", "2024-08-27", 1.0),
        _p("D5", "2025-06-03", 0.2, drug="lorlatinib"),
    ]

    def resistant(alteration: str, drug: str) -> str | None:
        return "KB says so" if drug == "alectinib" else None

    (alert,) = progression_alerts("ALK G1202R", pts, lines, resistant)
    assert (alert.kind, alert.sample, alert.collected) == (
        "molecular_progression",
        "D2",
        "2024-03-19",
    )
    assert alert.details["next_therapy_change"] == "2025-02-28"
    assert alert.details["lead_time_days"] == (dt.date(2025, 2, 28) - dt.date(2024, 3, 19)).days
    assert current_line(lines, dt.date(2025, 3, 5)).drug == "lorlatinib"  # type: ignore[union-attr]
    assert next_change(lines, dt.date(2025, 6, 3)) is None


def test_below_lod_display_is_never_zero() -> None:
    p = _p("D1", "2024-01-01", None, lod=0.135)
    assert p.value is None
    assert p.display == "below LoD (0.135 %)"
    assert _p("D1", "2024-01-01", None, lod=None).display == "not detected (LoD unknown)"
