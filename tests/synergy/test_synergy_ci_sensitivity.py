"""Combination index (analytic sham properties) and SynergyFinder sensitivity scores.

CI: for a sham combination of median-effect drugs (V = 1/(1 + (d/Dm)^m), drug 2 a
dilution of drug 1) Loewe additivity holds exactly, so CI = 1 at every fa (fixed
ratio and non-constant ratio; atol 1e-9) and DRI_i = total/part dose.

Sensitivity: SynergyFinder 3.7.3 ``CalculateSensitivity`` on Mathews block 1 (spec
synergy.md §6): ic50_1 2500 (capped), ic50_2 2.740563, ri_1 59.985, ri_2 27.003,
css1_ic502 85.922, css2_ic501 82.769, CSS 84.3455. Tolerance: atol 0.005 on the
3-decimal RI/CSS values (drc's BFGS stops on a flat likelihood for ispinesib; the
replay gives 59.987), rtol 1e-5 on ic50_2.
"""

from __future__ import annotations

import numpy as np
import pytest

from kinresist.synergy import Block, read_long_table
from kinresist.synergy.combination_index import combination_index, fit_median_effect
from kinresist.synergy.sensitivity import relative_inhibition, sensitivity


def _sham(m: float, potency2: float) -> Block:
    """Drug 2 is drug 1 diluted potency2-fold; combination effect from the summed equivalent dose."""
    c1 = np.r_[0, np.geomspace(0.05, 20, 7)]
    c2 = c1 * potency2
    eq = c1[:, None] + c2[None, :] / potency2
    with np.errstate(divide="ignore"):
        fa = eq**m / (1 + eq**m)
    return Block("sham", "A", "A-dil", c1, c2, 100 * fa)


def test_median_effect_fit_recovers_parameters() -> None:
    d = np.geomspace(0.01, 100, 9)
    fa = (d / 3.0) ** 1.7 / (1 + (d / 3.0) ** 1.7)
    me = fit_median_effect(d, fa)
    assert me.m == pytest.approx(1.7, rel=1e-12)
    assert me.dm == pytest.approx(3.0, rel=1e-12)
    assert me.r == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("m", "potency2"), [(1.0, 1.0), (2.0, 1.0), (0.8, 10.0)])
def test_sham_ci_is_one(m: float, potency2: float) -> None:
    res = combination_index(_sham(m, potency2))
    assert res.fixed_ratio, "a checkerboard with a common dose factor has constant-ratio rays"
    for row in res.fixed_ratio:
        p = float(row["p"])  # type: ignore[arg-type]
        for f in (0.5, 0.75, 0.9):
            assert row[f"ci_{f:g}"] == pytest.approx(1.0, abs=1e-9)
            assert row[f"ci_nonexclusive_{f:g}"] > 1.0
            # sham: Dx,c = Dx1 / (p + (1 - p)/k) (drug-1 equivalents), (D)1 = p·Dx,c
            dri1 = row[f"dri1_{f:g}"]
            dri2 = row[f"dri2_{f:g}"]
            assert 1 / dri1 + 1 / dri2 == pytest.approx(1.0, abs=1e-9)
            assert dri1 == pytest.approx((p + (1 - p) / potency2) / p, rel=1e-9)
    for cell in res.cells:
        if np.isfinite(cell["ci"]):
            assert cell["ci"] == pytest.approx(1.0, abs=1e-9)


def test_synergistic_combination_has_ci_below_one() -> None:
    blk = _sham(1.0, 1.0)
    strong = Block(
        "syn",
        "A",
        "B",
        blk.conc1,
        blk.conc2,
        np.where(blk.inhibition > 0, 100 - (100 - blk.inhibition) * 0.5, 0.0),
    )
    strong.inhibition[0, :] = blk.inhibition[0, :]
    strong.inhibition[:, 0] = blk.inhibition[:, 0]
    res = combination_index(strong)
    assert all(float(r["ci_0.5"]) < 1 for r in res.fixed_ratio)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def mathews_block1() -> Block:
    from sharedpaths import shared_path

    path = shared_path(
        "reference_data", "dose_response", "synergyfinder_mathews_screening_data.csv"
    )
    return read_long_table(path)[0]


def test_sensitivity_matches_synergyfinder(mathews_block1: Block) -> None:
    s = sensitivity(mathews_block1)
    assert s.ic50_1 == 2500
    assert "ic50_1_capped_at_max_dose" in s.flags
    assert s.ic50_2 == pytest.approx(2.740563, rel=1e-5)
    assert s.ri_1 == pytest.approx(59.985, abs=0.005)
    assert s.ri_2 == pytest.approx(27.003, abs=0.0005)
    assert s.css1_ic502 == pytest.approx(85.922, abs=0.0005)
    assert s.css2_ic501 == pytest.approx(82.769, abs=0.0005)
    assert s.css == pytest.approx(84.3455, abs=0.005)


def test_ri_single_dose_is_its_response() -> None:
    assert relative_inhibition(np.array([0.0, 5.0]), np.array([1.0, 42.0])) == 42.0
