"""Small, fast version of the simulation suite: the issue's acceptance point.

Criterion (issue 6): sensitivity >= 95 % at 0.5 % VAF and >= 2,000 molecules, at most one
false-positive PASS call per 100 kb. Here: 3 tumours x 4 spikes (ALK G1202R, ALK L1196M,
EGFR T790M, KRAS G12C) at 0.5 % VAF and 2,000 simulated molecules per site (observed UMI
families; the caller's own molecule depth after its family filters is lower, so this is
conservative), a 4-normal panel, fixed seeds. With 12 spikes, >= 95 % means all 12; with
3 x 784 bp called, "<= 1 per 100 kb" means no false positive at all.

2,352 bp cannot show a rate of 1 per 100 kb by counting, so specificity is also checked in
expectation: for every non-reference allele of the called territory the probability that
the caller's own null (the fitted panel-of-normals background at the observed molecule
depth) reaches a PASS (QUAL and minimum-alt thresholds of its tier) is summed; the sum per
100 kb must be <= 1. With the uncorrected hotspot tier (QUAL 20) it is far above 1 here
(36 hotspot bases in 784 bp), which is why false positives appeared at 5,000 molecules.
The full grid is in docs/ngs-simulation.md (python -m kinresist.ngs.simulate_suite).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import kinresist.ngs.simulate_suite as suite_mod
from kinresist.ngs.calling import CallParams, hotspot_threshold
from kinresist.ngs.lod import critical_count
from kinresist.ngs.pileup import BASES
from kinresist.ngs.simulate import SlicePanel
from kinresist.ngs.simulate_suite import SuiteConfig, markdown_table, run_suite


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """The suite result plus each tumour's call set and the panel of normals used."""
    from sharedpaths import shared_path

    d = shared_path("ngs-data", "anacore-sardine-inca-amplicons-hg19")
    panel = SlicePanel.load(d / "inca_hg19_regions.fa", d / "inca_hg19_regions.bed")
    cfg = SuiteConfig(vafs=(0.005,), depths=(2000,), replicates=3, n_normals=4, seed=11)
    seen: dict[str, list] = {"callsets": [], "pons": []}
    call, build = suite_mod._call, suite_mod._build_pon

    def keep_call(*args, **kwargs):
        cs = call(*args, **kwargs)
        seen["callsets"].append(cs)
        return cs

    def keep_pon(*args, **kwargs):
        pon = build(*args, **kwargs)
        seen["pons"].append(pon)
        return pon

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(suite_mod, "_call", keep_call)
        mp.setattr(suite_mod, "_build_pon", keep_pon)
        result = run_suite(panel, cfg, workdir=tmp_path_factory.mktemp("suite"))
    return result, seen["callsets"], seen["pons"][0]


@pytest.fixture(scope="module")
def suite(captured):
    return captured[0]


def test_sensitivity_at_half_percent_and_2000_molecules(suite):
    detected, tested = suite.sensitivity(0.005, 2000)
    assert tested == 12
    assert detected / tested >= 0.95, markdown_table(suite, command="test")
    for s in suite.sites:
        assert 1700 <= s.true_depth <= 2400  # nominal 2,000 molecules realised


def test_false_positive_rate_per_100kb(suite):
    n_fp, bp, rate = suite.fp_per_100kb()
    assert bp == 3 * 784
    assert n_fp <= bp // 100_000, markdown_table(suite, command="test")
    assert rate <= 1.0


def _expected_fp(callset, pon, params: CallParams, *, bonferroni: bool = True) -> float:
    """Sum over non-reference alleles of P(null reaches PASS) at the observed molecule depth."""
    mc = callset.counts
    n_hot = callset.parameters["n_hotspot_alleles"]
    thr_hot = hotspot_threshold(params, n_hot) if bonferroni else params.hotspot_min_qual
    hot_pos = set(zip(callset.hotspot_sites["chrom"], callset.hotspot_sites["pos"], strict=True))
    is_hot = np.array([(c, int(p)) in hot_pos for c, p in zip(mc.chrom, mc.pos, strict=True)])
    total = 0.0
    for alt in BASES:
        sel = (mc.ref != alt) & (mc.ref != "N") & (mc.depth > 0)
        a, b = pon.lookup(mc.chrom[sel].tolist(), mc.pos[sel].tolist(), [alt] * int(sel.sum()))
        d = mc.depth[sel]
        hs = is_hot[sel]
        thr = np.where(hs, thr_hot, params.min_qual)
        min_alt = np.where(hs, params.hotspot_min_alt_molecules, params.min_alt_molecules)
        kc = critical_count(d, 10 ** (-thr / 10), a=a, b=b, min_alt=min_alt)
        total += float(stats.betabinom.sf(kc - 1, d, a, b).sum())
    return total


def test_expected_false_positives_per_100kb(captured):
    """Model-expected false-positive PASS calls per 100 kb <= 1 (issue 6), and the old tier fails.

    Reference: the caller's beta-binomial null with the fitted background (what the QUAL
    threshold promises); exact sums, no tolerance. Expected: <= 1 per 100 kb with the
    Bonferroni hotspot tier; > 1 per 100 kb with the uncorrected tier (QUAL 20), the defect
    seen as two 2-molecule hotspot false positives at 5,000 molecules in the full suite.
    """
    _result, callsets, pon = captured
    params = CallParams()
    assert len(callsets) == 3
    bp = 3 * 784
    new = sum(_expected_fp(cs, pon, params) for cs in callsets) / bp * 1e5
    old = sum(_expected_fp(cs, pon, params, bonferroni=False) for cs in callsets) / bp * 1e5
    assert callsets[0].parameters["n_hotspot_alleles"] == 108
    print(f"expected FP per 100 kb: {new:.3f} (uncorrected tier: {old:.3f})")
    assert new <= 1.0, (new, old)
    assert old > 1.0, (new, old)


def test_table_renders(suite):
    text = markdown_table(suite, command="pytest")
    assert "| 0.50% |" in text
    assert "FP per 100 kb" in text
