"""Analytic properties of the reference models (spec synergy.md §5).

Sham combination: V(d) = 1/(1 + (d/C)^h), C = 1, the pair (d1, d2) observed as
V(d1 + d2). Expected values from the spec's table (exact; atol 1e-6 on fractions);
Loewe must be exactly additive for a sham: |delta| < 1e-9 with the root-finding solver.
"""

from __future__ import annotations

import numpy as np
import pytest

from kinresist.synergy import Block, score_blocks
from kinresist.synergy.reference import Curve, bliss, hsa, loewe_root

# h, d1 = d2, V_obs, Bliss ref V1*V2, Bliss excess (ref - obs), HSA ref min(V), HSA excess
SHAM_TABLE = [
    (1, 0.5, 0.500000, 0.444444, -0.055556, 0.666667, +0.166667),
    (1, 1.0, 0.333333, 0.250000, -0.083333, 0.500000, +0.166667),
    (2, 0.5, 0.500000, 0.640000, +0.140000, 0.800000, +0.300000),
    (2, 1.0, 0.200000, 0.250000, +0.050000, 0.500000, +0.300000),
]


def _viab(d: np.ndarray, h: float) -> np.ndarray:
    return 1.0 / (1.0 + d**h)


def _sham_block(h: float, doses: np.ndarray) -> Block:
    c = np.concatenate([[0.0], doses])
    v = _viab(c[:, None] + c[None, :], h)
    return Block.from_viability(f"sham-h{h}", "A", "A'", c, c, 100.0 * v)


@pytest.mark.parametrize(("h", "d", "v_obs", "b_ref", "b_exc", "h_ref", "h_exc"), SHAM_TABLE)
def test_sham_bliss_hsa_table(h, d, v_obs, b_ref, b_exc, h_ref, h_exc) -> None:  # type: ignore[no-untyped-def]
    """Spec §5 table, Bliss and HSA columns (viability fractions, atol 1e-6)."""
    blk = _sham_block(h, np.array([d]))
    inh = blk.inhibition[None]
    assert 1 - blk.inhibition[1, 1] / 100 == pytest.approx(v_obs, abs=1e-6)
    bl = bliss(inh)[0, 1, 1]
    hs = hsa(inh)[0, 1, 1]
    assert 1 - bl / 100 == pytest.approx(b_ref, abs=1e-6)
    assert 1 - hs / 100 == pytest.approx(h_ref, abs=1e-6)
    # excess in viability (ref - obs) equals synergy in inhibition (obs - ref) / 100
    assert (blk.inhibition[1, 1] - bl) / 100 == pytest.approx(b_exc, abs=1e-6)
    assert (blk.inhibition[1, 1] - hs) / 100 == pytest.approx(h_exc, abs=1e-6)


@pytest.mark.parametrize("h", [1.0, 2.0, 0.7, 3.5])
def test_sham_loewe_exactly_additive(h: float) -> None:
    """Loewe CI = 1 for a sham: expected effect = I(d1 + d2), |delta| < 1e-9."""
    doses = np.array([0.1, 0.5, 1.0, 2.0, 7.0])
    blk = _sham_block(h, doses)
    cur = Curve(np.array([-h]), np.array([0.0]), np.array([100.0]), np.array([1.0]))
    y, unreachable = loewe_root(blk.conc1[None], blk.conc2[None], cur, cur)
    delta = blk.inhibition[1:, 1:] - y[0, 1:, 1:]
    assert not unreachable.any()
    assert np.max(np.abs(delta)) < 1e-9


def test_sham_loewe_through_engine_with_fitted_curves() -> None:
    """Exact mode end-to-end: fitted single agents (noise-free), sham Loewe |delta| < 1e-6."""
    doses = np.geomspace(0.05, 20, 7)
    res = score_blocks([_sham_block(1.5, doses)], mode="exact")[0]
    assert res.flags == ()
    assert np.nanmax(np.abs(res.synergy["loewe"])) < 1e-6


def test_bliss_hsa_order_invariant_and_zero_on_monotherapy() -> None:
    """Swapping the drugs transposes the Bliss/HSA surfaces; monotherapy cells score 0."""
    rng = np.random.default_rng(7)
    c1, c2 = np.r_[0, np.geomspace(1, 100, 5)], np.r_[0, np.geomspace(0.1, 10, 4)]
    inh = rng.uniform(-10, 100, (6, 5))
    a = score_blocks([Block("x", "A", "B", c1, c2, inh)], methods=["bliss", "hsa"])[0]
    b = score_blocks([Block("y", "B", "A", c2, c1, inh.T)], methods=["bliss", "hsa"])[0]
    for m in ("bliss", "hsa"):
        np.testing.assert_allclose(a.synergy[m], b.synergy[m].T, atol=1e-12)
        assert np.all(a.synergy[m][0, :] == 0)
        assert np.all(a.synergy[m][:, 0] == 0)
        assert a.summary[m]["mean"] == pytest.approx(b.summary[m]["mean"], abs=1e-12)


def test_bliss_with_inactive_drug_is_observed_minus_drug1() -> None:
    """I2 = 0 everywhere: Bliss synergy = I_obs - I1 (spec §5)."""
    rng = np.random.default_rng(3)
    c1, c2 = np.r_[0, 1, 10, 100.0], np.r_[0, 1, 10.0]
    inh = rng.uniform(0, 90, (4, 3))
    inh[0, :] = 0.0
    s = score_blocks([Block("z", "A", "B", c1, c2, inh)], methods=["bliss"])[0].synergy["bliss"]
    np.testing.assert_allclose(s[1:, 1:], inh[1:, 1:] - inh[1:, :1], atol=1e-12)


def test_loewe_unreachable_effect_is_flagged_not_guessed() -> None:
    """Drug 2 reaches only 50 %: an effect beyond it has no Loewe solution -> NaN + flag."""
    c1 = np.array([[0.0, 0.5, 4.0]])
    c2 = np.array([[0.0, 0.5, 4.0]])
    full = Curve(np.array([-1.0]), np.array([0.0]), np.array([100.0]), np.array([1.0]))
    half = Curve(np.array([-1.0]), np.array([0.0]), np.array([50.0]), np.array([1.0]))
    y, unreachable = loewe_root(c1, c2, full, half)
    # x1 = 4 > X1(50) = 1: even drug 1 alone exceeds drug 2's maximum
    assert np.isnan(y[0, 2, 1])
    assert unreachable[0, 2, 1]
    # x1 = x2 = 0.5: 0.5/X1(y) + 0.5/X2(y) = 1 has a root inside (0, 50)
    assert np.isfinite(y[0, 1, 1])
    assert not unreachable[0, 1, 1]
    assert 0 < y[0, 1, 1] < 50
    x1 = 0.5 / (y[0, 1, 1] / (100 - y[0, 1, 1]))
    x2 = 0.5 / (y[0, 1, 1] / (50 - y[0, 1, 1]))
    assert x1 + x2 == pytest.approx(1.0, abs=1e-9)


def test_exact_mode_is_deterministic() -> None:
    """Same input, same output, bit for bit (no random numbers anywhere in exact mode)."""
    rng = np.random.default_rng(11)
    c = np.r_[0, np.geomspace(0.1, 100, 6)]
    e1 = 100 * (c / 3) / (1 + c / 3)
    e2 = 100 * (c / 10) ** 1.5 / (1 + (c / 10) ** 1.5)
    inh = e1[:, None] + e2[None, :] - e1[:, None] * e2[None, :] / 100 + rng.normal(0, 3, (7, 7))
    blk = Block("d", "A", "B", c, c, inh)
    r1 = score_blocks([blk])[0]
    r2 = score_blocks([blk])[0]
    for m in r1.synergy:
        np.testing.assert_array_equal(r1.synergy[m], r2.synergy[m])


def test_exact_zip_matches_drc_replay_on_well_conditioned_block() -> None:
    """Same SynergyFinder-3 ZIP algorithm, two independent fitters: the batch LM engine (exact)
    and the drc BFGS replay (synergyfinder mode) agree where drc reaches the optimum
    (clear sigmoids, 2 % noise): per-cell atol 5e-3, block mean atol 1e-3."""
    rng = np.random.default_rng(42)
    c1 = np.r_[0, np.geomspace(0.03, 30, 7)]
    c2 = np.r_[0, np.geomspace(0.1, 100, 7)]
    with np.errstate(divide="ignore"):
        y1 = 90 * (c1 / 1.0) ** 1.3 / (1 + (c1 / 1.0) ** 1.3)
        y2 = 80 * (c2 / 5.0) ** 1.8 / (1 + (c2 / 5.0) ** 1.8)
    bl = y1[:, None] + y2[None, :] - y1[:, None] * y2[None, :] / 100
    inh = bl + 10 * (y1[:, None] / 100) * (y2[None, :] / 100) + rng.normal(0, 2, (8, 8))
    blk = Block("w", "A", "B", c1, c2, inh)
    exact = score_blocks([blk], methods=["zip"])[0]
    sf = score_blocks([blk], methods=["zip"], mode="synergyfinder")[0]
    assert exact.flags == ()
    assert sf.flags == ()
    np.testing.assert_allclose(exact.synergy["zip"], sf.synergy["zip"], atol=5e-3)
    assert exact.summary["zip"]["mean"] == pytest.approx(sf.summary["zip"]["mean"], abs=1e-3)
