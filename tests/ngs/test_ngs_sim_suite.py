"""Small, fast version of the simulation suite: the issue's acceptance point.

Criterion (issue 6): sensitivity >= 95 % at 0.5 % VAF and >= 2,000 molecules, at most one
false-positive PASS call per 100 kb. Here: 3 tumours x 4 spikes (ALK G1202R, ALK L1196M,
EGFR T790M, KRAS G12C) at 0.5 % VAF and 2,000 simulated molecules per site (observed UMI
families; the caller's own molecule depth after its family filters is lower, so this is
conservative), a 4-normal panel, fixed seeds. With 12 spikes, >= 95 % means all 12; with
3 x 784 bp called, "<= 1 per 100 kb" means no false positive at all.
The full grid is in docs/ngs-simulation.md (python -m kinresist.ngs.simulate_suite).
"""

from __future__ import annotations

import pytest

from kinresist.ngs.simulate import SlicePanel
from kinresist.ngs.simulate_suite import SuiteConfig, markdown_table, run_suite


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    from sharedpaths import shared_path

    d = shared_path("ngs-data", "anacore-sardine-inca-amplicons-hg19")
    panel = SlicePanel.load(d / "inca_hg19_regions.fa", d / "inca_hg19_regions.bed")
    cfg = SuiteConfig(vafs=(0.005,), depths=(2000,), replicates=3, n_normals=4, seed=11)
    return run_suite(panel, cfg, workdir=tmp_path_factory.mktemp("suite"))


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


def test_table_renders(suite):
    text = markdown_table(suite, command="pytest")
    assert "| 0.50% |" in text
    assert "FP per 100 kb" in text
