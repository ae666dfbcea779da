"""Unit tests of the NGS core: UMI grouping, consensus model, LoD, background, hotspots, calls."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
from scipy import stats

from kinresist.errors import InputError
from kinresist.ngs import (
    CallParams,
    ConsensusParams,
    GroupingParams,
    call_variants,
    count_molecules,
    default_hotspots,
    group_umis,
)
from kinresist.ngs.background import PanelOfNormals, fit_site_background
from kinresist.ngs.calling import hotspot_threshold
from kinresist.ngs.consensus import combine_duplex, consensus_by_key, phred_combine
from kinresist.ngs.lod import critical_count, site_lod, wilson
from kinresist.ngs.pileup import MoleculeCounts
from kinresist.ngs.regions import Region
from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam

# ---------------------------------------------------------------- grouping


def _groups(umis: list[str], counts: list[int], method: str) -> list[list[str]]:
    return [[umis[i] for i in g] for g in group_umis(umis, counts, method=method)]  # type: ignore[arg-type]


def test_directional_edge_rule() -> None:
    """Directional adjacency (Smith et al. 2017): A -> B iff d <= 1 and n_A >= 2 n_B - 1.

    Reference: the rule as stated in the spec / UMI-tools code (``>=``), worked by hand:
    AAAA(10) -> AAAT(4) since 10 >= 7; AAAT(4) -> AATT(2) since 4 >= 3; TTTT(5) isolated;
    AAAA(3) and AAAC(3) (3 >= 5 fails both ways) stay separate.
    """
    umis = ["AAAA", "AAAT", "AATT", "TTTT"]
    assert _groups(umis, [10, 4, 2, 5], "directional") == [["AAAA", "AAAT", "AATT"], ["TTTT"]]
    assert _groups(["AAAA", "AAAC"], [3, 3], "directional") == [["AAAA"], ["AAAC"]]
    # equality edge: 5 >= 2*3 - 1
    assert _groups(["AAAA", "AAAC"], [5, 3], "directional") == [["AAAA", "AAAC"]]


def test_other_grouping_methods() -> None:
    """identity / edit (UMI-tools cluster) / adjacency on the same hand-worked network."""
    umis = ["AAAA", "AAAT", "AATT", "TTTT"]
    counts = [10, 4, 2, 5]
    assert _groups(umis, counts, "identity") == [["AAAA"], ["TTTT"], ["AAAT"], ["AATT"]]
    assert _groups(umis, counts, "edit") == [["AAAA", "AAAT", "AATT"], ["TTTT"]]
    # adjacency: AAAA's neighbourhood misses AATT, so AAAT leads a second group
    assert _groups(umis, counts, "adjacency") == [["AAAA"], ["AAAT", "AATT"], ["TTTT"]]


def test_bad_grouping_method() -> None:
    with pytest.raises(InputError, match="unknown UMI grouping method"):
        GroupingParams(method="nearest")  # type: ignore[arg-type]


# ---------------------------------------------------------------- consensus


def _one(
    bases: list[int], quals: list[int], params: ConsensusParams | None = None
) -> tuple[int, float]:
    p = params or ConsensusParams(min_consensus_base_quality=0)
    c = consensus_by_key(
        np.zeros(len(bases), dtype=np.int64), np.array(bases, dtype=np.int8), np.array(quals), p
    )
    return int(c.base[0]), float(c.qual[0])


def test_consensus_single_read_closed_form() -> None:
    """One read: posterior error = p_i = f(p_seq, p_post); final = f(p_i, p_pre) (fgbio model).

    Reference: closed form from the spec's model, Q30 base, pre 45 / post 40; tolerance 1e-9 Q.
    """
    p_i = phred_combine(1e-3, 1e-4)
    expected = -10 * math.log10(float(phred_combine(p_i, 10**-4.5)))
    base, q = _one([2], [30])
    assert base == 2
    assert q == pytest.approx(expected, abs=1e-9)


def test_consensus_disagreement_rules() -> None:
    """Two reads disagreeing: equal Q -> N; unequal -> higher-Q base with Q ~ max - min (fgbio #578).

    Reference: closed-form posterior (1e-6 Q) and the max - min rule on post-UMI-adjusted Q (0.25 Q).
    """
    assert _one([0, 1], [30, 30])[0] == 4
    params = ConsensusParams(min_consensus_base_quality=0, error_rate_pre_umi=90)
    base, q = _one([0, 1], [35, 20], params)
    assert base == 0
    pa, pb = float(phred_combine(10**-3.5, 1e-4)), float(phred_combine(1e-2, 1e-4))
    la, lc, lo = (
        (1 - pa) * (pb / 3),
        (pa / 3) * (1 - pb),
        (pa / 3) * (pb / 3),
    )  # L(A), L(C), L(G) = L(T)
    err = (lc + 2 * lo) / (la + lc + 2 * lo)
    assert q == pytest.approx(-10 * math.log10(err), abs=1e-6)
    assert q == pytest.approx(-10 * math.log10(pa) + 10 * math.log10(pb), abs=0.25)  # ~ max - min


def test_consensus_agreeing_family_capped_by_pre_umi() -> None:
    """Three agreeing Q30 reads: raw consensus error ~1e-9, so Q is set by the pre-UMI rate (45)."""
    base, q = _one([3, 3, 3], [30, 30, 30])
    assert base == 3
    assert q == pytest.approx(45.0, abs=0.05)


def test_low_quality_bases_ignored() -> None:
    """Bases below min_input_base_quality (10) do not vote."""
    base, _ = _one([0, 1, 1], [30, 5, 5])
    assert base == 0


def test_duplex_combination() -> None:
    """Duplex: agreement sums Q; disagreement keeps the higher Q with the difference; tie -> N."""
    p = ConsensusParams(error_rate_pre_umi=90, min_consensus_base_quality=0)
    b, q = combine_duplex(
        np.array([0, 0, 0, 4]),
        np.array([30.0, 30, 30, 0]),
        np.array([0, 1, 1, 2]),
        np.array([20.0, 20, 30, 25]),
        p,
    )
    assert b.tolist() == [0, 0, 4, 2]
    assert q[0] == pytest.approx(50, abs=0.01)
    assert q[1] == pytest.approx(10, abs=0.01)
    assert q[3] == pytest.approx(25, abs=0.01)


# ---------------------------------------------------------------- LoD, CI, background


def test_lod_worked_example_from_spec() -> None:
    """Spec section 4 worked example: D = 3,000, eps = 3e-5.

    alpha 1e-3 -> k_crit 3, LoD 0.207 %; alpha 1e-4 -> k_crit 4, LoD 0.255 % (tolerance 0.0005 %).
    """
    for alpha, k_exp, lod_exp in ((1e-3, 3, 0.00207), (1e-4, 4, 0.00255)):
        k = critical_count(np.array([3000]), alpha, eps=3e-5)
        assert int(k[0]) == k_exp
        lod = site_lod(np.array([3000]), k, 3e-5)
        assert lod[0] == pytest.approx(lod_exp, abs=5e-6)
        # definition check: the power at the LoD is 95 %
        assert stats.binom.sf(k_exp - 1, 3000, lod[0] + 3e-5) == pytest.approx(0.95, abs=1e-6)


def test_wilson_matches_statsmodels() -> None:
    """Wilson 95 % interval vs statsmodels.proportion_confint(method='wilson'); tolerance 1e-12."""
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = wilson(np.array([6, 0, 50]), np.array([277, 1000, 50]))
    for i, (k, n) in enumerate(((6, 277), (0, 1000), (50, 50))):
        ref = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert lo[i] == pytest.approx(ref[0], abs=1e-12)
        assert hi[i] == pytest.approx(ref[1], abs=1e-12)


def test_background_fit_recovers_beta() -> None:
    """Method-of-moments beta fit on 400 simulated normals from Beta(2, 2000) at n = 5,000.

    Reference: the generating parameters; tolerance 10 % on the mean, 35 % on a + b.
    """
    rng = np.random.default_rng(7)
    n = np.full((1, 400), 5000)
    k = stats.betabinom.rvs(5000, 2.0, 2000.0, size=(1, 400), random_state=rng)
    a, b = fit_site_background(k, n, prior_mean=np.array([1e-3]), prior_conc=642.0)
    assert a[0] / (a[0] + b[0]) == pytest.approx(2 / 2002, rel=0.10)
    assert a[0] + b[0] == pytest.approx(2002, rel=0.35)


def test_background_shrinks_sparse_sites_to_prior() -> None:
    """Two normals with zero counts: the mean stays near the prior (not 0: unknown is not zero)."""
    a, b = fit_site_background(
        np.zeros((1, 2)), np.full((1, 2), 300), prior_mean=np.array([1e-3]), prior_conc=642.0
    )
    mean = a[0] / (a[0] + b[0])
    assert 0 < mean < 1e-3
    assert mean == pytest.approx(0.642 / (600 + 642), rel=1e-9)


def test_background_posterior_concentration_without_overdispersion() -> None:
    """No over-dispersion between normals: the predictive Beta is the conjugate posterior.

    Reference: Beta-binomial conjugacy, ``Beta(a0 + K, b0 + N - K)`` (closed form; exact to
    1e-9). Default prior: shape ``a0 = 0.5423`` (UMIErrorCorrect's) at the class mean,
    ``b0 = a0 (1 - m) / m``. Before the fix the concentration fell back to the prior's 642,
    which at a class mean of 3e-5 made the background ~40x wider than the data allow.
    """
    k = np.array([[1, 0, 1, 0, 0, 1]])
    n = np.full((1, 6), 5000)
    a, b = fit_site_background(k, n, prior_mean=np.array([1e-3]), prior_conc=642.0)
    assert a[0] + b[0] == pytest.approx(642 + 30_000, rel=1e-9)
    assert a[0] == pytest.approx(0.642 + 3, rel=1e-9)
    m = 3e-5
    a, b = fit_site_background(k, n, prior_mean=np.array([m]))
    a0 = 0.5423
    assert a[0] == pytest.approx(a0 + 3, rel=1e-9)
    assert b[0] == pytest.approx(a0 * (1 - m) / m + 30_000 - 3, rel=1e-9)


def test_background_overdispersion_widens_predictive() -> None:
    """Counts concentrated in one normal (dispersion test p < 0.05): variance adds up.

    Reference: predictive variance = posterior variance of the site rate + the between-normal
    (method-of-moments) variance, ``1/(c + 1) = 1/(c_post + 1) + rho`` (exact to 1e-9).
    """
    k = np.array([[0.0, 0, 6, 0, 0, 0]])
    n = np.full((1, 6), 5000.0)
    a, b = fit_site_background(k, n, prior_mean=np.array([1e-4]), prior_conc=642.0)
    a_post, b_post = 0.0642 + 6, 641.9358 + 30_000 - 6
    mu = a_post / (a_post + b_post)
    x = k[0] / n[0]
    rho = (np.var(x, ddof=1) - mu * (1 - mu) / 5000) / (mu * (1 - mu) * (1 - 1 / 5000))
    conc = 1 / (1 / (a_post + b_post + 1) + rho) - 1
    assert stats.chi2.sf(((k[0] - 1) ** 2 / (1 - 1 / 5000)).sum(), 5) < 0.05
    assert a[0] + b[0] == pytest.approx(conc, rel=1e-9)
    assert a[0] / (a[0] + b[0]) == pytest.approx(mu, rel=1e-9)
    assert a[0] + b[0] < 0.1 * (a_post + b_post)


def test_hotspot_threshold_is_bonferroni() -> None:
    """Hotspot tier: QUAL >= 20 + 10 log10(m) over m hotspot alleles, capped at the genome-wide 60.

    Reference: Bonferroni (family-wise level 1 % per sample over the panel's hotspot alleles).
    """
    p = CallParams()
    assert hotspot_threshold(p, 108) == pytest.approx(20 + 10 * math.log10(108), abs=1e-12)
    assert hotspot_threshold(p, 9) == pytest.approx(29.542425094393248, abs=1e-12)
    assert hotspot_threshold(p, 1) == 20.0
    assert hotspot_threshold(p, 10**6) == 60.0
    assert hotspot_threshold(CallParams(hotspot_bonferroni=False), 108) == 20.0


def test_two_molecule_hotspot_call_needs_multiplicity_corrected_qual(
    shared: Callable[..., Path],
) -> None:
    """ALK F1174V (chr2:29443697 A>C) with 2/4,487 alt molecules: the simulation suite's FP.

    On the suite's three real slices (ALK exon 23, EGFR exon 20, KRAS exon 2: 36 hotspot bases,
    108 alleles) with a quiet background
    (6 normals x 4,500 molecules, no alt; class rate 2.5e-6) QUAL is 38.63: it passed the
    uncorrected hotspot tier (20) and fails the Bonferroni tier (20 + 10 log10 108 = 40.33).
    Reference: the suite's false positive (docs/ngs-simulation.md before the fix; QUAL 38.2 there
    with the suite's own panel of normals) and the closed-form beta-binomial tail (scipy
    ``betabinom.sf``; exact to 1e-9, and 38.63 to 0.01).
    """
    d = shared("ngs-data", "anacore-sardine-inca-amplicons-hg19")
    fa = d / "inca_hg19_regions.fa"
    contig = "chr2_29443539_29443787"
    contigs = [contig, "chr7_55248957_55249271", "chr12_25398173_25398392"]  # the suite's slices
    with pysam.FastaFile(str(fa)) as fasta:
        seqs = {c: fasta.fetch(c).upper() for c in contigs}
    col = {"A": 0, "C": 1, "G": 2, "T": 3}
    chrom = np.concatenate([np.full(len(seqs[c]), c) for c in contigs])
    pos = np.concatenate([np.arange(1, len(seqs[c]) + 1) for c in contigs])
    ref = np.array(list("".join(seqs[c] for c in contigs)))
    counts = np.zeros((len(ref), 4), dtype=np.int64)
    counts[np.arange(len(ref)), [col[x] for x in ref]] = 4487
    i174 = 29443697 - 29443538 - 1  # 0-based index of ALK F1174 c.3520 (contig pos 159)
    assert ref[i174] == "A"
    counts[i174] = [4485, 2, 0, 0]
    half = counts // 2
    mc = MoleculeCounts(chrom=chrom, pos=pos, ref=ref,
                        counts=counts, fwd=half, rev=counts - half, duplex=np.zeros_like(counts),
                        famsize=counts * 6, raw=counts * 6,
                        indels=pd.DataFrame(columns=["chrom", "pos", "ref", "alt", "alt_molecules", "fwd", "rev",
                                                     "duplex", "famsize", "depth_molecules"]),
                        family_sizes=np.full(10, 6))  # fmt: skip
    a, b = fit_site_background(
        np.zeros((1, 6)), np.full((1, 6), 4500), prior_mean=np.array([2.5e-6])
    )
    pon = PanelOfNormals(pd.DataFrame({"chrom": [contig], "pos": [159], "ref": ["A"], "alt": ["C"],
                                       "alpha": a, "beta": b, "mean": a / (a + b), "n_normals": [6],
                                       "alt_molecules": [0], "depth_molecules": [27_000]}))  # fmt: skip
    regions = [Region(c, 0, len(seqs[c]), c) for c in contigs]
    cs = call_variants(
        "unused.bam", regions=regions, reference=fa, pon=pon, counts=mc, genome="GRCh37"
    )
    assert cs.parameters["n_hotspot_alleles"] == 108
    assert cs.parameters["hotspot_qual_threshold"] == pytest.approx(40.334, abs=1e-3)
    row = cs.calls[(cs.calls["pos"] == 159) & (cs.calls["alt"] == "C")].iloc[0]
    assert (row["gene"], row["alteration"], row["hotspot"]) == ("ALK", "F1174V", True)
    p = stats.betabinom.sf(1, 4487, a[0], b[0])
    assert row["qual"] == pytest.approx(-10 * math.log10(p), abs=1e-9)
    assert 20 < row["qual"] < 40.334
    assert row["qual"] == pytest.approx(38.63, abs=0.01)
    assert row["filter"] == "low_qual"
    assert cs.passed().empty
    uncorrected = call_variants("unused.bam", regions=regions, reference=fa, pon=pon, counts=mc,
                                genome="GRCh37", params=CallParams(hotspot_bonferroni=False))  # fmt: skip
    assert uncorrected.passed()["pos"].tolist() == [159]


def test_betabinom_upper_tail_deep() -> None:
    """``P(X >= k)`` far below SciPy's ``1 - cdf`` precision (which returns 0 there).

    Reference: closed form at k = D, ``P(X = D) = B(D + a, b) / B(a, b)`` (betaln, rel. 1e-9);
    and SciPy's ``betabinom.sf`` where it is accurate (p > 1e-10, rel. 1e-12).
    """
    from scipy.special import betaln

    from kinresist.ngs.lod import betabinom_upper_tail

    d, a, b = 300, 0.5, 1000.0
    expected = math.exp(betaln(d + a, b) - betaln(a, b))
    assert expected < 1e-200
    got = betabinom_upper_tail(np.array([d]), np.array([d]), np.array([a]), np.array([b]))
    assert got[0] == pytest.approx(expected, rel=1e-9)
    k = np.array([1, 2, 6])
    got = betabinom_upper_tail(k, np.array([4487, 4487, 277]), np.array([0.54, 0.54, 0.5423]),
                               np.array([2e5, 2e5, 641.54]))  # fmt: skip
    ref = stats.betabinom.sf(k - 1, [4487, 4487, 277], [0.54, 0.54, 0.5423], [2e5, 2e5, 641.54])
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_cpg_context_classes() -> None:
    """C of CpG and G of CpG are flagged; a C before A or a G after T is not; gaps break context."""
    from kinresist.ngs.background import cpg_sites

    chrom = ["c1"] * 6 + ["c2"] * 2
    pos = [1, 2, 3, 4, 5, 6, 10, 12]
    ref = ["A", "C", "G", "T", "G", "C", "C", "G"]
    assert cpg_sites(chrom, pos, ref).tolist() == [
        False,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]


# ---------------------------------------------------------------- hotspots


@pytest.mark.parametrize(
    ("genome", "chrom", "pos", "ref", "alt", "gene", "alteration"),
    [
        ("GRCh37", "chr2", 29443613, "C", "T", "ALK", "G1202R"),
        ("GRCh38", "chr2", 29220747, "C", "T", "ALK", "G1202R"),
        ("GRCh37", "chr2", 29443631, "G", "T", "ALK", "L1196M"),
        ("GRCh37", "chr2", 29443695, "G", "T", "ALK", "F1174L"),
        ("GRCh37", "chr7", 55249071, "C", "T", "EGFR", "T790M"),
        ("GRCh38", "chr7", 55191822, "T", "G", "EGFR", "L858R"),
        ("GRCh37", "chr12", 25398285, "C", "A", "KRAS", "G12C"),
        ("GRCh37", "chr3", 178952085, "A", "G", "PIK3CA", "H1047R"),
        ("GRCh37", "chr2", 29432664, "C", "T", "ALK", "R1275Q"),
    ],
)
def test_hotspot_naming(
    genome: str, chrom: str, pos: int, ref: str, alt: str, gene: str, alteration: str
) -> None:
    """Protein names from genomic alleles; reference: knowledge-base spec sections 4-5 (CIViC-verified rows)."""
    ann = default_hotspots(use_kb=False).annotate(chrom, pos, ref, alt, genome=genome)
    assert ann is not None
    assert (ann.gene, ann.alteration) == (gene, alteration)


def test_non_hotspot_is_not_named() -> None:
    hot = default_hotspots(use_kb=False)
    assert hot.annotate("chr2", 29443650, "C", "T", genome="GRCh37") is None
    assert not hot.is_hotspot("chr2", 29443650)


# ---------------------------------------------------------------- molecule counting on synthetic BAMs

REF_SEQ = "".join(np.random.default_rng(3).choice(list("ACGT"), size=400))


@pytest.fixture
def synth(tmp_path: Path) -> tuple[Path, Path, Path]:
    fa = tmp_path / "ref.fa"
    fa.write_text(f">chrS\n{REF_SEQ}\n")
    pysam.faidx(str(fa))
    bed = tmp_path / "panel.bed"
    bed.write_text("chrS\t100\t300\tSYN\n")
    return tmp_path, fa, bed


def test_no_depth_cap_beyond_8000_reads(synth: tuple[Path, Path, Path]) -> None:
    """> 8,000 reads at one position are all counted (pysam pileup's default max_depth=8000 drops them).

    Reference: pysam ``count_coverage`` (quality_threshold 0), exact.
    """
    tmp, fa, bed = synth
    bam = tmp / "deep.bam"
    info = write_synthetic_bam(bam, SyntheticSpec("chrS", REF_SEQ, 3000, read_length=50, family_size=3.5,
                                                  start_range=(150, 150), error_rate=0.0), rng=np.random.default_rng(1))  # fmt: skip
    assert info["reads"] > 9000
    mc = count_molecules(bam, regions=bed, reference=fa)
    i = int(np.flatnonzero(mc.pos == 171)[0])
    with pysam.AlignmentFile(str(bam)) as fh:
        cov = np.array(fh.count_coverage("chrS", 170, 171, quality_threshold=0)).sum()
        n_default = next(iter(fh.pileup("chrS", 170, 171, truncate=True))).nsegments
    assert n_default < info["reads"]  # the trap exists
    assert mc.raw[i].sum() == cov == info["reads"]
    assert mc.depth[i] == (mc.family_sizes >= 3).sum()


def test_calls_spike_and_no_false_positive(synth: tuple[Path, Path, Path]) -> None:
    """A 1 % spike in 3,000 molecules is called PASS at the molecule VAF; nothing else passes.

    Reference: the simulated truth (mutant molecules counted at family size >= 3); exact counts.
    """
    tmp, fa, bed = synth
    bam = tmp / "spike.bam"
    write_synthetic_bam(bam, SyntheticSpec("chrS", REF_SEQ, 3000, read_length=100, family_size=5, variant_pos=200,
                                           variant_alt="T" if REF_SEQ[200] != "T" else "A", variant_fraction=0.02,
                                           start_range=(105, 195), error_rate=0.003), rng=np.random.default_rng(11))  # fmt: skip
    cs = call_variants(bam, regions=bed, reference=fa)
    passed = cs.passed()
    assert len(passed) == 1
    row = passed.iloc[0]
    assert (row["chrom"], row["pos"]) == ("chrS", 201)
    assert row["af"] == pytest.approx(row["alt_molecules"] / row["depth_molecules"])
    assert 0.01 < row["af"] < 0.03
    assert 0 < row["lod"] < 0.05  # default (no-normals) background: a conservative LoD


def test_duplex_support(synth: tuple[Path, Path, Path]) -> None:
    """Duplex A-B UMIs: both strands of a molecule join one family; alt molecules are duplex-supported."""
    tmp, fa, bed = synth
    bam = tmp / "duplex.bam"
    alt = "T" if REF_SEQ[200] != "T" else "A"
    write_synthetic_bam(bam, SyntheticSpec("chrS", REF_SEQ, 1500, read_length=80, fragment_length=140, duplex=True,
                                           family_size=8, variant_pos=200, variant_alt=alt, variant_fraction=0.03,
                                           start_range=(100, 160), error_rate=0.002), rng=np.random.default_rng(5))  # fmt: skip
    params = CallParams(grouping=GroupingParams(strategy="paired"))
    cs = call_variants(bam, regions=bed, reference=fa, params=params)
    assert len(cs.counts.family_sizes) == 1500  # one family per molecule, not per strand
    row = cs.passed().iloc[0]
    assert row["pos"] == 201
    assert row["alt_duplex"] == row["alt_molecules"]


def test_bad_inputs(synth: tuple[Path, Path, Path]) -> None:
    """Unsorted / unindexed BAM and unknown contigs raise InputError naming the fix."""
    tmp, fa, bed = synth
    bam = tmp / "s.bam"
    write_synthetic_bam(bam, SyntheticSpec("chrS", REF_SEQ, 50), rng=np.random.default_rng(2))
    noidx = tmp / "noidx.bam"
    noidx.write_bytes(bam.read_bytes())
    with pytest.raises(InputError, match="samtools index"):
        count_molecules(noidx, regions=bed, reference=fa)
    other = tmp / "other.fa"
    other.write_text(">chr1\nACGT\n")
    with pytest.raises(InputError, match="not in the reference"):
        count_molecules(bam, regions=bed, reference=other)
    badbed = tmp / "bad.bed"
    badbed.write_text("chrS\tten\t20\n")
    with pytest.raises(InputError, match="integers") as exc:
        count_molecules(bam, regions=badbed, reference=fa)
    assert exc.value.line == 1  # type: ignore[attr-defined]


def test_in_frame_insertion_alk_1151(tmp_path: Path) -> None:
    """A 1151Tins-like 3-bp in-frame insertion is counted per molecule and called at the ALK hotspot.

    The contig is a slice named like the anacore references (``chr2_29445200_29445400``: genomic =
    29445199 + contig pos) so the call maps to GRCh37 chr2:29445271_29445272insCGT (knowledge-base
    spec 4, ALK T1151dup). Reference: the simulated truth (mutant molecules at family size >= 3).
    """
    seq = "".join(np.random.default_rng(9).choice(list("ACGT"), size=201))
    contig = "chr2_29445200_29445400"
    fa = tmp_path / "ref.fa"
    fa.write_text(f">{contig}\n{seq}\n")
    pysam.faidx(str(fa))
    bed = tmp_path / "p.bed"
    bed.write_text(f"{contig}\t30\t120\tALK\n")
    bam = tmp_path / "ins.bam"
    anchor = 29445271 - 29445200  # 0-based contig index of the VCF anchor base
    info = write_synthetic_bam(bam, SyntheticSpec(contig, seq, 2000, read_length=90, family_size=5, variant_pos=anchor,
                                                  insertion="CGT", variant_fraction=0.02, start_range=(10, 60),
                                                  error_rate=0.002), rng=np.random.default_rng(4))  # fmt: skip
    cs = call_variants(bam, regions=bed, reference=fa, genome="GRCh37")
    passed = cs.passed()
    assert len(passed) == 1
    row = passed.iloc[0]
    assert (row["pos"], row["ref"], row["alt"]) == (anchor + 1, seq[anchor], seq[anchor] + "CGT")
    assert (row["gene"], row["alteration"], row["kind"]) == ("ALK", "T1151dup", "insertion")
    assert row["genomic_pos"] == 29445271
    assert 0 < row["alt_molecules"] <= info["mutant"]
    assert row["alt_molecules"] >= 0.6 * info["mutant"]


def test_slice_coordinates_and_hotspot_codons(shared: Callable[..., Path]) -> None:
    """Contig <-> genomic round trip on the real hg19 slices, and the bundled codon table against them.

    References: ``known_positions_check.tsv`` (13 hotspot reference bases, verified upstream) and
    the slices' sequence; every codon of the table lying in a slice must translate to its amino acid.
    """
    from kinresist.ngs.hotspots import CODON_TABLE, translate
    from kinresist.ngs.regions import contig_genomic_offset

    root = shared("ngs-data", "anacore-sardine-inca-amplicons-hg19")
    fasta = pysam.FastaFile(str(root / "inca_hg19_regions.fa"))
    slices = []
    for contig in fasta.references:
        off = contig_genomic_offset(contig)
        assert off is not None
        slices.append((off[0], off[1], off[1] + fasta.get_reference_length(contig), contig))

    def base_at(chrom: str, pos: int) -> str | None:
        for c, off, end, contig in slices:
            if c == chrom and off < pos <= end:
                return fasta.fetch(contig, pos - off - 1, pos - off).upper()
        return None

    rows = [
        line.split("\t")
        for line in (root / "known_positions_check.tsv").read_text().splitlines()[2:]
        if line
    ]
    assert len(rows) == 13
    for label, chrom, pos, ref, *_ in rows:
        assert base_at(chrom, int(pos)) == ref, label
    checked = 0
    comp = str.maketrans("ACGT", "TGCA")
    for h in CODON_TABLE:
        bases = [base_at(h.chrom, p) for p in h.positions("GRCh37")]
        if None in bases:
            continue
        codon = "".join(b or "" for b in bases)
        codon = codon if h.strand == "+" else codon.translate(comp)
        assert translate(codon) == h.ref_aa, (h.gene, h.codon)
        if h.ref_codon is not None:
            assert codon == h.ref_codon
        checked += 1
    assert checked >= 20


def test_duplex_key_with_and_without_mate_cigar(synth: tuple[Path, Path, Path]) -> None:
    """Families are the same whether the mate's 5' end comes from ``MC`` or from TLEN (no clipping)."""
    tmp, fa, bed = synth
    bam = tmp / "mc.bam"
    write_synthetic_bam(bam, SyntheticSpec("chrS", REF_SEQ, 300, read_length=80, fragment_length=140, duplex=True,
                                           family_size=6, start_range=(100, 160)), rng=np.random.default_rng(8))  # fmt: skip
    stripped = tmp / "nomc.bam"
    with (
        pysam.AlignmentFile(str(bam)) as fh,
        pysam.AlignmentFile(str(stripped), "wb", header=fh.header) as out,
    ):
        for read in fh:
            read.set_tag("MC", None)
            out.write(read)
    pysam.index(str(stripped))
    gp = GroupingParams(strategy="paired")
    a = count_molecules(bam, regions=bed, reference=fa, grouping=gp)
    b = count_molecules(stripped, regions=bed, reference=fa, grouping=gp)
    assert len(a.family_sizes) == len(b.family_sizes) == 300
    assert np.array_equal(a.counts, b.counts)
    again = count_molecules(bam, regions=bed, reference=fa, grouping=gp)  # deterministic
    assert np.array_equal(a.counts, again.counts)
    assert np.array_equal(np.sort(a.family_sizes), np.sort(again.family_sizes))


def test_contig_name_with_colon_and_dash(tmp_path: Path) -> None:
    """Contig names with ':'/'-' (which break htslib region strings) are read correctly: we never
    build ``chr:start-end`` strings, fetch takes contig/start/end separately (spec section 5 trap)."""
    contig = "chr7:55259379-55259659"
    fa = tmp_path / "ref.fa"
    fa.write_text(f">{contig}\n{REF_SEQ}\n")
    pysam.faidx(str(fa))
    bed = tmp_path / "p.bed"
    bed.write_text(f"{contig}\t100\t300\tX\n")
    bam = tmp_path / "c.bam"
    info = write_synthetic_bam(bam, SyntheticSpec(contig, REF_SEQ, 400, read_length=80, start_range=(110, 200)),
                               rng=np.random.default_rng(3))  # fmt: skip
    mc = count_molecules(bam, regions=bed, reference=fa)
    assert int(mc.raw.sum(axis=1).max()) > 0
    assert len(mc.family_sizes) == info["molecules"]
