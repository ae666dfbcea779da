"""Validation of the NGS core on real data: SiMSen-Seq PIK3CA H1047R and UMI-tools golden outputs."""

from __future__ import annotations

import collections
import gzip
import math
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pysam
import pytest

from kinresist.ngs import GroupingParams, call_variants, count_molecules
from kinresist.ngs.umitools_compat import UmiToolsOptions, umi_tools_group

SIMSEN = ("ngs-data", "umierrorcorrect-simsenseq-pik3ca")
UMITOOLS = ("ngs-data", "umi-tools-tests")


def _align_simsen(shared: Callable[..., Path], tmp: Path) -> tuple[Path, Path]:
    """Place the SiMSen-Seq reads as upstream does: 12-nt UMI + 16-nt spacer cut, bwa mem on the slice.

    The UMI goes to the read-name suffix (``name_UMI``), as UMI-tools/fastp write it.
    """
    if shutil.which("bwa") is None:
        pytest.skip(
            "bwa not installed (Debian package 'bwa'): needed to align the SiMSen-Seq reads"
        )
    data = shared(*SIMSEN)
    ref = tmp / "pik3ca.fa"
    shutil.copy(data / "expected" / "pik3ca_hg19_slice_chr3_178951772_178952568.fa", ref)
    pysam.faidx(str(ref))
    subprocess.run(["bwa", "index", str(ref)], check=True, capture_output=True)
    fq = tmp / "trimmed.fq"
    with gzip.open(data / "test_R1.fastq.gz", "rt") as fh, fq.open("w") as out:
        lines = fh.read().splitlines()
        for i in range(0, len(lines) - 3, 4):
            name, seq, qual = lines[i][1:].split()[0], lines[i + 1], lines[i + 3]
            out.write(f"@{name}_{seq[:12]}\n{seq[28:]}\n+\n{qual[28:]}\n")
    sam = tmp / "aln.sam"
    with sam.open("w") as out:
        subprocess.run(["bwa", "mem", "-Y", "-K", "150000000", str(ref), str(fq)], check=True, stdout=out,
                       stderr=subprocess.DEVNULL)  # fmt: skip
    bam = tmp / "simsen.bam"
    pysam.sort("-o", str(bam), str(sam))
    pysam.index(str(bam))
    return bam, ref


_ALIGNED: dict[str, tuple[Path, Path]] = {}


@pytest.fixture
def simsen(
    shared: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, Path]:
    """The aligned SiMSen-Seq BAM (aligned once per session), reference slice and target BED."""
    if "bam" not in _ALIGNED:
        _ALIGNED["bam"] = _align_simsen(shared, tmp_path_factory.mktemp("simsen"))
    bam, ref = _ALIGNED["bam"]
    return bam, ref, shared(*SIMSEN, "expected", "pik3ca_slice_target.bed")


def test_simsen_pik3ca_h1047r(simsen: tuple[Path, Path, Path]) -> None:
    """PIK3CA H1047R from 1,938 real SiMSen-Seq reads (umierrorcorrect 0.29 test data).

    Reference: umierrorcorrect 0.29 ``expected/umierrorcorrect_0.29_test.vcf``: contig pos 314 A>G,
    AF 0.0217 (6/277 molecules, family size >= 3). Tolerance: AF within 0.3 percentage points
    (issue 6); no other PASS call in the target or in the whole amplicon.
    """
    bam, ref, bed = simsen
    cs = call_variants(bam, regions=bed, reference=ref)
    passed = cs.passed()
    assert len(passed) == 1
    row = passed.iloc[0]
    assert (row["chrom"], row["pos"], row["ref"], row["alt"]) == (
        "chr3_178951772_178952568",
        314,
        "A",
        "G",
    )
    assert (row["gene"], row["alteration"]) == ("PIK3CA", "H1047R")
    assert (row["genomic_chrom"], row["genomic_pos"], row["genome"]) == (
        "chr3",
        178952085,
        "GRCh37",
    )
    assert abs(row["af"] - 0.0217) <= 0.003
    assert (row["alt_molecules"], row["depth_molecules"]) == (
        6,
        277,
    )  # identical to umierrorcorrect
    # hotspot tier, Bonferroni over the target's hotspot alleles (H1047: 3 bases x 3 alts)
    assert cs.parameters["n_hotspot_alleles"] == 9
    assert cs.parameters["hotspot_qual_threshold"] == pytest.approx(20 + 10 * math.log10(9))
    assert row["qual"] == pytest.approx(36.6, abs=0.05)  # -10 log10 P(X >= 6 | 277, default Beta)
    amplicon = bam.parent / "amplicon.bed"
    amplicon.write_text("chr3_178951772_178952568\t263\t348\tPIK3CA\n")
    wide = call_variants(bam, regions=amplicon, reference=ref)
    assert wide.passed()["pos"].tolist() == [314]


def _upstream_nonref(path: Path) -> set[tuple[int, str, int]]:
    """Non-reference SNV consensus counts of umierrorcorrect (``test_cons_fsize3_nonref.tsv``)."""
    out = set()
    lines = path.read_text().splitlines()
    head = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(head, line.split("\t"), strict=True))
        for base in "ACGT":
            if base != row["Reference"] and int(row[base]) > 0:
                out.add((int(row["Position"]), base, int(row[base])))
    return out


def test_simsen_raw_counts_and_background(
    simsen: tuple[Path, Path, Path], shared: Callable[..., Path]
) -> None:
    """Raw and molecule counts vs the SOURCE.md figures.

    References: raw G at H1047 = 54 / 1,930 (exact); 278 families with >= 3 reads (exact,
    umierrorcorrect ``test_summary_statistics.txt``); other histogram bins within 2 % (upstream
    groups per amplicon region, we group per read start); consensus background << 1e-4
    (upstream 3e-5) versus raw mismatch rate ~7.6e-4.
    """
    bam, ref, _ = simsen
    amplicon = bam.parent / "amplicon2.bed"
    amplicon.write_text("chr3_178951772_178952568\t263\t348\tPIK3CA\n")
    mc = count_molecules(bam, regions=amplicon, reference=ref)
    i = int(np.flatnonzero(mc.pos == 314)[0])
    assert mc.raw[i].tolist() == [1876, 0, 54, 0]
    fs = mc.family_sizes
    assert int((fs >= 3).sum()) == 278
    # UMIErrorCorrect groups per amplicon, not per read start: with the same grouping
    # (family_key="region") the histogram is identical except 6 families of 2 reads, i.e. the
    # 12 reads (1,938 - 1,926) upstream leaves outside its region
    upstream = {1: 537, 2: 360, 3: 278, 4: 214, 5: 161, 7: 91, 10: 28, 20: 0}
    region = count_molecules(
        bam, regions=amplicon, reference=ref, grouping=GroupingParams(family_key="region")
    )
    rs = region.family_sizes
    assert int(rs.sum()) == 1938
    for size, n in upstream.items():
        expected = n + (6 if size <= 2 else 0)
        assert int((rs >= size).sum()) == expected, size
    assert int((rs == 1).sum()) == 537 - 360
    assert region.counts[int(np.flatnonzero(region.pos == 314)[0])].tolist() == [271, 0, 6, 0]
    # every non-reference consensus base (SNV) equals umierrorcorrect's family-size-3 table
    table = _upstream_nonref(shared(*SIMSEN, "expected", "test_cons_fsize3_nonref.tsv"))
    ours = set()
    for j, base in enumerate("ACGT"):
        for p, ref_base, n in zip(mc.pos, mc.ref, mc.counts[:, j], strict=True):
            if base != ref_base and n > 0:
                ours.add((int(p), base, int(n)))
    assert ours == table
    ref_idx = np.array(["ACGT".index(b) for b in mc.ref])
    mask = mc.pos != 314
    rate = (mc.counts[mask].sum() - mc.counts[mask, ref_idx[mask]].sum()) / mc.counts[mask].sum()
    raw_rate = (mc.raw[mask].sum() - mc.raw[mask, ref_idx[mask]].sum()) / mc.raw[mask].sum()
    assert rate < 1e-4
    assert raw_rate > 5 * rate


def _sam_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("@")]


def _indexed_copy(src: Path, tmp: Path) -> Path:
    dst = tmp / src.name
    shutil.copy(src, dst)
    pysam.index(str(dst))
    return dst


def _run_group(bam: Path, options: UmiToolsOptions) -> list[str]:
    out = []
    for read, ug, bx in umi_tools_group(bam, options):
        if ug is not None:
            read.set_tag("UG", ug, "i")
            read.set_tag("BX", bx, "Z")
        out.append(read.to_string())
    return out


def test_umi_tools_group_paired_byte_exact(shared: Callable[..., Path], tmp_path: Path) -> None:
    """``umi_tools group --paired --method=directional --chimeric-pairs=discard --no-sort-output``.

    Reference: UMI-tools golden ``paired_group_discard_chimeras.sam``; tolerance: byte-exact
    alignment lines in the same order (8,067 records, 4,820 tagged).
    """
    data = shared(*UMITOOLS)
    bam = _indexed_copy(data / "paired.bam", tmp_path)
    ours = _run_group(bam, UmiToolsOptions(paired=True, chimeric_pairs="discard"))
    expected = _sam_lines(data / "paired_group_discard_chimeras.sam")
    assert len(expected) == 8067
    assert sum("\tUG:i:" in line for line in ours) == 4820
    assert ours == expected


def test_umi_tools_group_directional_subset(shared: Callable[..., Path], tmp_path: Path) -> None:
    """``umi_tools group --method=directional --subset=0.1 --random-seed=123456789`` (single end).

    Reference: golden ``group_dir_subset_py3.sam`` (5,498 records, coordinate-sorted output).
    Tolerance: the same records (``--subset`` sampling reproduced), identical groups and ``UG``
    numbers; ``BX`` (top UMI) may differ only in groups whose top read counts tie - UMI-tools
    breaks those ties by Python set order (hash randomisation), so no implementation can match them.
    """
    data = shared(*UMITOOLS)
    bam = _indexed_copy(data / "chr19.bam", tmp_path)
    ours = _run_group(bam, UmiToolsOptions(subset=0.1))
    expected = _sam_lines(data / "group_dir_subset_py3.sam")

    def strip(line: str, tag: str) -> str:
        return "\t".join(f for f in line.split("\t") if not f.startswith(tag))

    assert collections.Counter(strip(x, "BX:") for x in ours) == collections.Counter(
        strip(x, "BX:") for x in expected
    )
    diff = collections.Counter(ours) - collections.Counter(expected)
    # every differing record belongs to a group whose UMIs all have the same read count
    groups: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in ours:
        ug = next(f for f in line.split("\t") if f.startswith("UG:"))
        groups[ug][line.split("\t")[0].rsplit("_", 1)[-1]] += 1
    for line in diff:
        ug = next(f for f in line.split("\t") if f.startswith("UG:"))
        assert len(set(groups[ug].values())) == 1, f"BX differs outside a tie: {line}"
    assert len(diff) <= 4


def test_simsen_cli_contract(
    simsen: tuple[Path, Path, Path], cli: Callable, tmp_path: Path
) -> None:
    """The contract command on the real SiMSen-Seq BAM: one PASS call, PIK3CA H1047R at 6/277.

    Reference: umierrorcorrect 0.29 expected VCF (AF 0.0217); tolerance 0.3 percentage points.
    """
    import json

    bam, ref, bed = simsen
    vcf = tmp_path / "simsen.vcf"
    res = cli(
        ["ngs", "call", bam, "--regions", bed, "--reference", ref, "--vcf", vcf, "--format", "json"]
    )
    assert res.exit_code == 0, res.stderr
    calls = json.loads(res.stdout)["calls"]
    passed = [c for c in calls if c["filter"] == "PASS"]
    assert [(c["gene"], c["alteration"]) for c in passed] == [("PIK3CA", "H1047R")]
    assert abs(passed[0]["af"] - 0.0217) <= 0.003
    body = [line.split("\t") for line in vcf.read_text().splitlines() if not line.startswith("#")]
    pass_rows = [f for f in body if f[6] == "PASS"]
    assert len(pass_rows) == 1
    assert pass_rows[0][:5] == ["chr3_178951772_178952568", "314", ".", "A", "G"]
