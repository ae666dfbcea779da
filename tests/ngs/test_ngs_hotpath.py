"""The compiled NGS hot path (issue 19): the same molecule counts as the code it replaced.

Oracle: ``ngs_legacy_counts.legacy_count_molecules``, the per-read Python/NumPy counter as it
was before issue 19 (frozen copy; grouping by ``group_umis``, consensus by
``consensus_by_key``/``combine_duplex``), with its indel coverage-key aliasing corrected
(test_indel_cover_alias_fixed shows the one case where the two differ). Inputs: random BAMs
with every awkward feature (ngs_awkward_bams), all four grouping methods, both family keys,
single and duplex strategies. Tolerance: none - counts, family sizes (in order), read counts
and indel rows must be identical.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ngs_awkward_bams import write_awkward_bam
from ngs_legacy_counts import legacy_count_molecules

from kinresist.errors import InputError
from kinresist.ngs import ConsensusParams, GroupingParams, count_molecules, group_umis
from kinresist.ngs.consensus import _log_tables, consensus_by_key
from kinresist.ngs.pileup import MoleculeCounts, count_molecules_many
from kinresist.ngs.reads import family_key_of
from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam
from kinresist.ngs.umi import umi_of_read

METHODS = ("directional", "adjacency", "edit", "identity")


def assert_same_counts(new: MoleculeCounts, old: MoleculeCounts) -> None:
    for name in ("chrom", "pos", "ref", "counts", "fwd", "rev", "duplex", "famsize", "raw"):
        a, b = getattr(new, name), getattr(old, name)
        assert a.shape == b.shape, name
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b), name
    assert np.array_equal(new.family_sizes, old.family_sizes)
    assert new.n_reads == old.n_reads
    pd.testing.assert_frame_equal(new.indels, old.indels)


@pytest.mark.parametrize("seed", range(16))
def test_engine_equals_legacy_on_awkward_bams(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    paired, duplex, mc = seed % 2 == 1, seed % 4 == 1, seed % 3 != 0
    bam, bed, fa = write_awkward_bam(tmp_path / "a.bam", rng, paired=paired, duplex=duplex,
                                     mc_tags=mc, n_molecules=int(rng.integers(10, 60)))  # fmt: skip
    seen = 0
    for method in METHODS:
        for key in ("position", "region"):
            gp = GroupingParams(method=method, family_key=key,  # type: ignore[arg-type]
                                strategy="paired" if duplex else "single",
                                min_mapq=(seed % 3) * 10)  # fmt: skip
            cp = ConsensusParams(min_family_size=1 + seed % 3)
            new = count_molecules(bam, regions=bed, reference=fa, grouping=gp, consensus=cp)
            old = legacy_count_molecules(bam, regions=bed, reference=fa, grouping=gp, consensus=cp)
            assert_same_counts(new, old)
            seen += int(new.counts.sum())
    assert seen > 0  # the comparison is not vacuous


def test_awkward_corpus_exercises_mates_indels_and_duplex(tmp_path: Path) -> None:
    """The random BAMs above do reach deduplicated mates, indel calls and duplex support."""
    indels = duplex_support = disagreeing_mates = 0
    for seed in (1, 5, 9):
        rng = np.random.default_rng(seed)
        bam, bed, fa = write_awkward_bam(tmp_path / f"d{seed}.bam", rng, paired=True,
                                         duplex=True, n_molecules=60)  # fmt: skip
        gp = GroupingParams(strategy="paired")
        mc = count_molecules(bam, regions=bed, reference=fa, grouping=gp)
        indels += len(mc.indels)
        duplex_support += int(mc.duplex.sum())
        with pysam.AlignmentFile(str(bam)) as fh:
            names = [r.query_name for r in fh.fetch() if r.is_paired]
        disagreeing_mates += len(names) - len(set(names))
    assert indels > 0
    assert duplex_support > 0
    assert disagreeing_mates > 0


def _alias_bam(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Window 0-100 (width 100); family F (UMI AAAA): template t1 with an insertion after
    position 10, template t2 covering 111-150 only; family F+1 (UMI CCCC): template t3 with the
    same insertion. The old coverage key of F's base at 111 (= 10 + width + 1) equalled the
    key of F+1 at the anchor, so t2 was counted as covering the anchor and outvoted t1."""
    ref = "ACGT" * 60
    fa = tmp_path / "ref.fa"
    fa.write_text(f">c1\n{ref}\n")
    pysam.faidx(str(fa))
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "c1", "LN": len(ref)}]}
    records = []

    def add(name: str, start: int, cigar: list[tuple[int, int]], umi: str) -> None:
        a = pysam.AlignedSegment()
        a.query_name, a.reference_id, a.reference_start, a.cigartuples = name, 0, start, cigar
        qlen = sum(n for op, n in cigar if op in (0, 1))
        seq = list(ref[start : start + qlen])
        a.query_sequence = "".join(seq)
        a.query_qualities = pysam.qualitystring_to_array("I" * qlen)
        a.mapping_quality = 60
        a.set_tag("RX", umi)
        records.append(a)

    add("t1", 5, [(0, 6), (1, 2), (0, 30)], "AAAA")  # anchor 10 (0-based), insertion of 2
    add("t3", 5, [(0, 6), (1, 2), (0, 30)], "CCCC")
    add("t2", 95, [(0, 56)], "AAAA")  # covers 95-150: offset 111 - 0 = anchor + width + 1
    bam = tmp_path / "alias.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for a in sorted(records, key=lambda r: r.reference_start):
            out.write(a)
    pysam.index(str(bam))
    bed = tmp_path / "alias.bed"
    bed.write_text("c1\t0\t100\tW\n")
    return bam, bed, fa


def test_indel_cover_alias_fixed(tmp_path: Path) -> None:
    bam, bed, fa = _alias_bam(tmp_path)
    gp = GroupingParams(family_key="region", method="identity")
    cp = ConsensusParams(min_family_size=1)
    new = count_molecules(bam, regions=bed, reference=fa, grouping=gp, consensus=cp)
    fixed = legacy_count_molecules(bam, regions=bed, reference=fa, grouping=gp, consensus=cp)
    aliased = legacy_count_molecules(bam, regions=bed, reference=fa, grouping=gp, consensus=cp,
                                     alias=True)  # fmt: skip
    assert new.indels["alt_molecules"].tolist() == [2]  # t1's family and t3's family
    assert fixed.indels["alt_molecules"].tolist() == [2]
    assert aliased.indels["alt_molecules"].tolist() == [1]  # the old key lost t1's family
    assert_same_counts(new, fixed)


# ---------------------------------------------------------------- UMI grouping kernel


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.text("ACG", min_size=3, max_size=4), st.integers(1, 12)),
        min_size=1,
        max_size=14,
        unique_by=lambda x: x[0],
    ),
    method=st.sampled_from(METHODS),
    threshold=st.integers(0, 2),
    cap=st.sampled_from([-1, 3, 100]),
)
def test_group_keys_equals_group_umis(
    data: list[tuple[str, int]], method: str, threshold: int, cap: int
) -> None:
    from kinresist.ngs._families import METHOD_CODES, group_keys

    umis = [u for u, _ in data]
    counts = np.array([c for _, c in data], dtype=np.int64)
    buf = np.frombuffer("".join(umis).encode(), np.uint8)
    off = np.concatenate([[0], np.cumsum([len(u) for u in umis])]).astype(np.int64)
    n = len(umis)
    family, sizes, capped = group_keys(np.zeros(n, np.int64), counts, np.arange(n), buf, off,
                                       METHOD_CODES[method], threshold, cap)  # fmt: skip
    over_cap = 0 <= cap < n and method != "identity" and n > 1
    if over_cap:  # group_umis warns and falls back to identity (checked in test_ngs_core)
        expected = [[i] for i in sorted(range(n), key=lambda i: -counts[i])]
    else:
        expected = group_umis(umis, counts, method=method, threshold=threshold)  # type: ignore[arg-type]
    want = np.empty(n, np.int64)
    for g, members in enumerate(expected):
        want[members] = g
    assert family.tolist() == want.tolist()
    assert sizes.tolist() == [int(counts[m].sum()) for m in expected]
    assert bool(capped[0]) == over_cap


def test_intern_bytes_is_exact_and_first_seen() -> None:
    from kinresist.ngs._families import intern_bytes

    words = ["b", "a", "", "b", "ab", "a", "", "ba"]
    buf = np.frombuffer("".join(words).encode(), np.uint8)
    off = np.concatenate([[0], np.cumsum([len(w) for w in words])]).astype(np.int64)
    ids, n = intern_bytes(buf, off)
    assert ids.tolist() == [0, 1, 2, 0, 3, 1, 2, 4]
    assert n == 5


# ---------------------------------------------------------------- SAM parsing kernel


@pytest.mark.parametrize("seed", [2, 3, 5, 6])
def test_parsed_reads_match_pysam(tmp_path: Path, seed: int) -> None:
    """Kept reads, starts, strands, family keys, UMIs, bases, qualities and CIGARs of the
    compiled parser equal pysam's attributes and the per-read reference functions."""
    from kinresist.ngs.reads import _read_chunks

    rng = np.random.default_rng(seed)
    duplex = seed % 4 == 1
    bam, _bed, _fa = write_awkward_bam(tmp_path / "p.bam", rng, paired=seed % 2 == 1,
                                       duplex=duplex, mc_tags=seed % 3 != 0)  # fmt: skip
    gp = GroupingParams(strategy="paired" if duplex else "single", min_mapq=5)
    with pysam.AlignmentFile(str(bam)) as fh:
        cols = _read_chunks(fh, "c1", 0, 600, gp)
        want = [
            r
            for r in fh.fetch("c1", 0, 600)
            if not r.flag & 0xB04 and r.mapping_quality >= 5 and r.query_sequence is not None
        ]
    assert len(cols["start"]) == len(want)
    kinds = {0: "se", 1: "mc", 2: "tl"}
    for i, r in enumerate(want):
        assert cols["start"][i] == r.reference_start
        r1_rev = r.is_reverse if (not r.is_paired or r.is_read1) else r.mate_is_reverse
        assert cols["strand"][i] == int(r1_rev)
        key = family_key_of(r, duplex)
        got = (kinds[int(cols["kind"][i])], int(cols["ka"][i]))
        if key[0] != "se":
            got += (int(cols["kb"][i]),)
        if key[0] == "se" or not duplex:
            got += (bool(cols["kc"][i]),)
        assert got == key
        umi = umi_of_read(r)
        if duplex and r1_rev:
            a, b = umi.split("-")
            umi = f"{b}-{a}"
        u0, u1 = cols["umi_off"][i], cols["umi_off"][i + 1]
        assert cols["umi"][u0:u1].tobytes().decode() == umi
        s0, s1 = cols["seq_off"][i], cols["seq_off"][i + 1]
        assert cols["seq"][s0:s1].tobytes().decode() == r.query_sequence.upper()
        q = r.query_qualities
        assert cols["qual"][s0:s1].tolist() == (list(q) if q is not None else [30] * (s1 - s0))
        c0, c1 = cols["cig_off"][i], cols["cig_off"][i + 1]
        assert list(zip(cols["cig_op"][c0:c1].tolist(), cols["cig_len"][c0:c1].tolist(),
                        strict=True)) == list(r.cigartuples or [])  # fmt: skip


def test_unsorted_records_are_refused() -> None:
    from kinresist.ngs._sam import ERR_ORDER, UMI_AUTO, parse_chunk

    lines = [
        "r1\t0\tc1\t100\t60\t4M\t*\t0\t0\tACGT\tIIII\tRX:Z:AAAA",
        "r2\t0\tc1\t90\t60\t4M\t*\t0\t0\tACGT\tIIII\tRX:Z:AAAA",
    ]
    buf = np.frombuffer(("\n".join(lines) + "\n").encode(), np.uint8)
    out = parse_chunk(buf, 0, UMI_AUTO, np.frombuffer(b"RX", np.uint8),
                      np.frombuffer(b"_", np.uint8), False, False, -1)  # fmt: skip
    assert (out[1], out[2]) == (ERR_ORDER, 1)


def _plain_bam(tmp_path: Path, *, rx: str | None) -> tuple[Path, Path, Path]:
    ref = "ACGT" * 50
    fa = tmp_path / "r.fa"
    fa.write_text(f">c1\n{ref}\n")
    pysam.faidx(str(fa))
    bam = tmp_path / "r.bam"
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "c1", "LN": len(ref)}]}
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        a = pysam.AlignedSegment()
        a.query_name, a.reference_id, a.reference_start = "read:1", 0, 10
        a.cigartuples, a.query_sequence, a.mapping_quality = [(0, 20)], ref[10:30], 60
        a.query_qualities = pysam.qualitystring_to_array("I" * 20)
        if rx is not None:
            a.set_tag("RX", rx)
        out.write(a)
    pysam.index(str(bam))
    bed = tmp_path / "r.bed"
    bed.write_text("c1\t0\t100\n")
    return bam, bed, fa


def test_read_without_umi_and_bad_duplex_umi_are_input_errors(tmp_path: Path) -> None:
    bam, bed, fa = _plain_bam(tmp_path, rx=None)
    with pytest.raises(InputError, match=r"read 'read:1' carries no UMI \(tag RX or read-name"):
        count_molecules(bam, regions=bed, reference=fa)
    bam, bed, fa = _plain_bam(tmp_path, rx="AAAACCCC")
    with pytest.raises(
        InputError, match="duplex strategy needs UMIs written 'A-B', got 'AAAACCCC'"
    ):
        count_molecules(bam, regions=bed, reference=fa, grouping=GroupingParams(strategy="paired"))


# ---------------------------------------------------------------- consensus, memory, streams


@settings(max_examples=300, deadline=None)
@given(
    obs=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from([10, 12, 20, 25, 30, 37, 40])),
        min_size=1,
        max_size=12,
    ),
    fold=st.booleans(),
)
def test_scalar_consensus_matches_numpy(obs: list[tuple[int, int]], fold: bool) -> None:
    """The compiled per-group call equals consensus_by_key: same base, same errors, Q to 1e-9
    (both sum the same terms in the same order; exp/log10 may differ in the last bit)."""
    from kinresist.ngs._molecules import _call

    cp = ConsensusParams()
    base = np.array([b for b, _ in obs], dtype=np.int8)
    qual = np.array([q for _, q in obs], dtype=np.uint8)
    ref = consensus_by_key(np.zeros(len(obs), np.int64), base, qual, cp, fold_pre_umi=fold)
    lut_err, lut_gain = _log_tables(cp.error_rate_post_umi)
    ll_base = 0.0
    gain = np.zeros(4)
    cnt = np.zeros(4, np.int64)
    for b, q in obs:
        ll_base += lut_err[q]
        gain[b] += lut_gain[q]
        cnt[b] += 1
    ll = ll_base + gain
    cons, q, err = _call(ll, cnt, len(obs), fold, 10.0 ** (-cp.error_rate_pre_umi / 10.0),
                         float(cp.min_consensus_base_quality))  # fmt: skip
    assert cons == int(ref.base[0])
    assert err == int(ref.errors[0])
    assert math.isclose(q, float(ref.qual[0]), rel_tol=1e-9, abs_tol=1e-9)


def test_window_memory_is_a_few_hundred_bytes_per_read(tmp_path: Path) -> None:
    """Held per read of a window: sequence + qualities (2 x 100 bytes) + ids and offsets."""
    from kinresist.ngs.reads import collect_window

    rng = np.random.default_rng(3)
    seq = "".join(rng.choice(list("ACGT"), size=1200))
    spec = SyntheticSpec("c1", seq, 2000, read_length=100, family_size=4.0)
    bam = tmp_path / "m.bam"
    write_synthetic_bam(bam, spec, rng=rng)
    with pysam.AlignmentFile(str(bam)) as fh:
        r = collect_window(fh, "c1", 0, 1200, GroupingParams())
    assert r.n_reads > 5000
    assert r.nbytes / r.n_reads < 330  # the replaced code held ~4.3 KB per read


def test_many_bams_in_one_stream_equal_one_by_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    paths = [write_awkward_bam(tmp_path / f"s{i}.bam", rng, n_molecules=30) for i in range(2)]
    bed, fa = paths[0][1], paths[0][2]  # one panel and reference (same contig) for both
    bams = [p[0] for p in paths]
    calls: list[tuple[int, int]] = []
    many = count_molecules_many(bams, regions=bed, reference=fa,
                                progress=lambda d, t: calls.append((d, t)))  # fmt: skip
    for bam, mc in zip(bams, many, strict=True):
        assert_same_counts(mc, count_molecules(bam, regions=bed, reference=fa))
    n_windows = len(calls) // 2
    assert calls == [(d, 2 * n_windows) for d in range(1, 2 * n_windows + 1)]


def test_compile_notice_and_quiet_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable
) -> None:
    """The one-time compile is announced through ``notice``; a CLI run whose stderr is not a
    terminal draws no progress bar (stderr stays empty)."""
    import kinresist.ngs._jit as jit

    rng = np.random.default_rng(4)
    bam, bed, fa = write_awkward_bam(tmp_path / "q.bam", rng, n_molecules=20)
    seen: list[str] = []
    monkeypatch.setattr(jit, "compile_pending", lambda: True)
    count_molecules_many([bam], regions=bed, reference=fa, notice=seen.append)
    assert seen == [jit.COMPILE_NOTICE]
    monkeypatch.setattr(jit, "compile_pending", lambda: False)
    count_molecules_many([bam], regions=bed, reference=fa, notice=seen.append)
    assert seen == [jit.COMPILE_NOTICE]
    res = cli(
        ["ngs", "count", bam, "--regions", bed, "--reference", fa, "--out", tmp_path / "c.tsv"]
    )
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ""


def test_umi_cap_warns_and_falls_back_to_identity_as_before(tmp_path: Path) -> None:
    """Over ``max_umis_per_position`` distinct UMIs at one key: the same DataQualityWarning as
    ``group_umis`` (one per key, re-issued by the caller) and identity grouping there."""
    from kinresist.errors import DataQualityWarning

    rng = np.random.default_rng(12)
    seq = "".join(rng.choice(list("ACGT"), size=400))
    spec = SyntheticSpec("c1", seq, 60, read_length=80, family_size=3.0, start_range=(100, 102))
    bam = tmp_path / "cap.bam"
    write_synthetic_bam(bam, spec, rng=rng)
    fa = tmp_path / "cap.fa"
    fa.write_text(f">c1\n{seq}\n")
    pysam.faidx(str(fa))
    bed = tmp_path / "cap.bed"
    bed.write_text("c1\t90\t200\n")
    gp = GroupingParams(max_umis_per_position=5)
    with pytest.warns(DataQualityWarning, match="UMIs at one position exceed") as w_new:
        new = count_molecules(bam, regions=bed, reference=fa, grouping=gp)
    with pytest.warns(DataQualityWarning, match="UMIs at one position exceed") as w_old:
        old = legacy_count_molecules(bam, regions=bed, reference=fa, grouping=gp)
    assert_same_counts(new, old)
    assert [str(w.message) for w in w_new] == [str(w.message) for w in w_old]
    assert len(w_old) >= 2  # several keys capped
