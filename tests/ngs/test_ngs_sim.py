"""Unit tests of the UMI read simulator (kinresist.ngs.simulate)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pysam
import pytest
from scipy import stats

from kinresist.errors import InputError
from kinresist.ngs.simulate import DEFAULT_SPIKES, SimParams, SlicePanel, Spike, simulate_sample
from kinresist.ngs.simulate_errors import ErrorModel, encode, pcr_error_events, site_error_profile

SLICES = ("ngs-data", "anacore-sardine-inca-amplicons-hg19")


@pytest.fixture(scope="module")
def panel():
    from sharedpaths import shared_path

    d = shared_path(*SLICES)
    return SlicePanel.load(d / "inca_hg19_regions.fa", d / "inca_hg19_regions.bed")


@pytest.fixture(scope="module")
def spiked(panel, tmp_path_factory):
    """One paired-end sample, 3,000 molecules, the four suite spikes at 2 % VAF, exact UMIs."""
    out = tmp_path_factory.mktemp("sim") / "t.bam"
    spikes = [s.with_vaf(0.02) for s in DEFAULT_SPIKES]
    params = SimParams(depth=3000, errors=ErrorModel(umi_error=0.0))
    return simulate_sample(
        panel, out=out, rng=np.random.default_rng(7), params=params, spikes=spikes
    )


def test_spike_sites_are_covered_with_reference_bases(panel):
    """The slices hold the four suite hotspots with the KB reference base (knowledge-base.md §4-5)."""
    for sp in DEFAULT_SPIKES:
        contig, pos = panel.locate(sp.chrom, sp.pos)
        assert panel.sequences[contig][pos - 1] == sp.ref


def test_spiked_vaf_is_binomial(spiked):
    """Realised alt molecules lie in the central 99.9 % binomial interval of Binom(depth, VAF)."""
    for t in spiked.spikes:
        lo, hi = stats.binom.ppf([0.0005, 0.9995], t.depth_molecules, t.spike.vaf)
        assert lo <= t.alt_molecules <= hi, t
        assert 2400 <= t.depth_molecules <= 3600, (
            t
        )  # nominal depth +- 20 % (Poisson + coverage shape)


def test_families_share_umi_coordinates_and_carry_the_spike(spiked):
    """Reads of a family share RX and fragment coordinates; alt families = truth alt molecules.

    A family (RX, fragment start, length) carries the spike when most of its read pairs show
    the alt base at the site; sequencing/PCR errors may flip single reads but not a
    majority, so the count must equal the truth exactly or within 1.
    """
    truth = {(t.contig, t.contig_pos - 1): t for t in spiked.spikes}
    fam_alt: dict[tuple, list[int]] = defaultdict(list)
    sizes: Counter = Counter()
    with pysam.AlignmentFile(str(spiked.bam)) as bam:
        assert bam.header["HD"]["SO"] == "coordinate"
        assert bam.has_index()
        for r in bam.fetch():
            assert r.get_tag("RX") == r.query_name.rsplit("_", 1)[1]
            assert r.is_paired
            assert r.is_proper_pair
            assert r.mapping_quality == 60
            fstart = min(r.reference_start, r.next_reference_start)
            key = (r.reference_name, fstart, abs(r.template_length), r.get_tag("RX"))
            sizes[key] += r.is_read1
            for (contig, off), t in truth.items():
                if contig != r.reference_name:
                    continue
                pairs = dict(r.get_aligned_pairs(matches_only=True))
                qpos = {v: k for k, v in pairs.items()}.get(off)
                if qpos is None:
                    continue
                fam_alt[(key, t.spike.alteration)].append(
                    int(r.query_sequence[qpos] == t.spike.alt)
                )
    assert len(sizes) == spiked.families  # every family has >= 1 read pair
    assert sum(sizes.values()) == spiked.read_pairs
    for t in spiked.spikes:
        calls = [np.mean(v) > 0.5 for (k, alt), v in fam_alt.items() if alt == t.spike.alteration]
        assert abs(sum(calls) - t.alt_molecules) <= 1, (t, sum(calls))


def test_family_size_distribution(panel, tmp_path):
    """Family sizes follow NB(mean 6, shape 2.5) truncated at 0: mean 6/(1-p0) within 5 %."""
    p = SimParams(depth=1500, family_size_mean=6.0, family_size_shape=2.5)
    s = simulate_sample(
        panel,
        out=tmp_path / "f.bam",
        rng=np.random.default_rng(3),
        params=p,
        contigs=["chr7_55248957_55249271"],
    )
    p0 = (2.5 / 8.5) ** 2.5
    assert s.read_pairs / s.families == pytest.approx(6.0 / (1 - p0), rel=0.05)


def test_deterministic_with_seed(panel, tmp_path):
    """Same seed -> identical reads; another seed -> different reads."""

    def reads(seed, name):
        s = simulate_sample(
            panel,
            out=tmp_path / name,
            rng=np.random.default_rng(seed),
            params=SimParams(depth=200),
            contigs=["chr12_25398173_25398392"],
        )
        with pysam.AlignmentFile(str(s.bam)) as b:
            return [(r.query_name, r.reference_start, r.query_sequence) for r in b]

    assert reads(5, "a.bam") == reads(5, "b.bam")
    assert reads(5, "a.bam") != reads(6, "c.bam")


def test_raw_error_rate_matches_qualities(panel, tmp_path):
    """Qualities are calibrated: raw mismatch rate ~ mean 10^(-Q/10) (+- 25 %) with pre-UMI/PCR off."""
    p = SimParams(
        depth=400, errors=ErrorModel(damage_ct=0, damage_gt=0, damage_other=0, polymerase_error=0)
    )
    s = simulate_sample(
        panel,
        out=tmp_path / "e.bam",
        rng=np.random.default_rng(11),
        params=p,
        contigs=["chr7_55259379_55259659"],
    )
    ref = panel.sequences["chr7_55259379_55259659"]
    mism = expected = n = 0
    with pysam.AlignmentFile(str(s.bam)) as b:
        for r in b:
            seq, q = r.query_sequence, np.asarray(r.query_qualities, dtype=float)
            rs = ref[r.reference_start : r.reference_end]
            mism += sum(a != c for a, c in zip(seq, rs, strict=True))
            expected += float(np.sum(10 ** (-q / 10)))
            n += len(seq)
    assert mism / n == pytest.approx(expected / n, rel=0.25)
    assert 5e-4 < mism / n < 1e-2


def test_pcr_genealogy_first_cycle_error_hits_half_a_family():
    """An error on the cycle-1 copy is shared by ~1/2 of a family's reads (perfect doubling)."""
    rng = np.random.default_rng(2)
    n = 4000
    fam = np.zeros(n, dtype=np.int64)
    events = pcr_error_events(
        fam, np.full(n, 1000), ErrorModel(polymerase_error=0.01, pcr_cycles=10), rng
    )
    largest = max(len(m) for m, _, _ in events) / n
    assert largest == pytest.approx(0.5, abs=0.04)
    # 1,023 copy nodes (cycles 1-10), nearly all sampled with 4,000 reads, Poisson(10) errors each
    assert 9_500 < len(events) < 10_700
    quarter = [len(m) / n for m, _, _ in events if 0.15 < len(m) / n < 0.35]
    assert quarter
    assert np.mean(quarter) == pytest.approx(0.25, abs=0.02)


def test_site_profile_shape_and_hot_sites():
    """Orientation-specific damage: C>T only on top-strand families, G>A only on bottom ones."""
    ref = encode("ACGTCGGACCTTGCA" * 20)
    prof = site_error_profile(ref, ErrorModel(), seed=1)
    c_sites = ref == 1
    assert prof.shape == (2, ref.size, 4)
    assert np.median(prof[0, c_sites, 3]) > 5 * np.median(prof[1, c_sites, 3])  # C>T top vs bottom
    g_sites = ref == 2
    assert np.median(prof[1, g_sites, 0]) > 5 * np.median(prof[0, g_sites, 0])  # G>A bottom vs top
    assert np.all(prof[:, np.arange(ref.size), ref] == 0)


def test_bad_spike_is_rejected(panel, tmp_path):
    """A spike with the wrong reference base, or outside the slices, is an InputError."""
    with pytest.raises(InputError, match="reference base"):
        simulate_sample(
            panel,
            out=tmp_path / "x.bam",
            rng=np.random.default_rng(0),
            spikes=[Spike("KRAS", "G12C", "chr12", 25398285, "G", "T", 0.01)],
        )
    with pytest.raises(InputError, match="not covered"):
        panel.locate("chr2", 29445258)  # ALK C1156Y, exon 22: not in the slices


def test_umi_sequencing_errors_make_one_mismatch_satellites(panel, tmp_path):
    """With umi_error = 1e-3 per base, ~0.9 % of reads (1 - 0.999^9) carry a UMI one mismatch
    away from their family's UMI (tolerance 0.5-1.4 %)."""
    s = simulate_sample(panel, out=tmp_path / "u.bam", rng=np.random.default_rng(4),
                        params=SimParams(depth=1500), contigs=["chr12_25398173_25398392"])  # fmt: skip
    by_key: dict[tuple, Counter] = defaultdict(Counter)
    with pysam.AlignmentFile(str(s.bam)) as b:
        for r in b:
            if r.is_read1:
                key = (min(r.reference_start, r.next_reference_start), abs(r.template_length))
                by_key[key][r.get_tag("RX")] += 1
    sat = total = 0
    for umis in by_key.values():
        total += sum(umis.values())
        for u, c in umis.items():
            near = [
                v
                for v, cv in umis.items()
                if cv > c and sum(x != y for x, y in zip(u, v, strict=True)) == 1
            ]
            sat += c * bool(near)
    assert 0.005 < sat / total < 0.014
