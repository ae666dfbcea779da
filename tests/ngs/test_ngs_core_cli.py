"""CLI contract of ``kinresist ngs call`` (the shared result envelope, calls[], molecule-VAF
measurements keyed by alteration, VCF 4.3, exit codes) and ``ngs pon``/``count``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pysam
import pytest

from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam

CALL_FIELDS = {
    "chrom",
    "pos",
    "ref",
    "alt",
    "gene",
    "alteration",
    "af",
    "alt_molecules",
    "depth_molecules",
    "lod",
    "filter",
}


@pytest.fixture
def alk_case(shared: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path, Path]:
    """Synthetic UMI reads on the real hg19 ALK exon 23 slice with a 1.5 % G1202R (contig pos 75)."""
    fa = shared("ngs-data", "anacore-sardine-inca-amplicons-hg19", "inca_hg19_regions.fa")
    contig = "chr2_29443539_29443787"
    seq = pysam.FastaFile(str(fa)).fetch(contig).upper()
    vp = 29443613 - 29443539  # 0-based contig position of c.3604
    assert seq[vp] == "C"
    bam = tmp_path / "alk.bam"
    write_synthetic_bam(bam, SyntheticSpec(contig, seq, 2500, read_length=100, family_size=5, variant_pos=vp,
                                           variant_alt="T", variant_fraction=0.015, start_range=(0, vp - 5),
                                           error_rate=0.002), rng=np.random.default_rng(42))  # fmt: skip
    bed = tmp_path / "alk.bed"
    bed.write_text(f"{contig}\t20\t160\tALK_exon23\n")
    return bam, bed, fa


def test_call_contract_json_and_vcf(
    cli: Callable, alk_case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """``ngs call BAM --regions --reference --vcf OUT.vcf --format json`` prints the envelope and
    calls[] with the contract fields, and writes VCF 4.3; ``--out X.vcf`` alone writes the VCF.

    Reference: the simulated truth (ALK G1202R = GRCh37 chr2:29443613 C>T, knowledge-base spec 4).
    """
    bam, bed, fa = alk_case
    vcf = tmp_path / "out.vcf"
    res = cli(
        ["ngs", "call", bam, "--regions", bed, "--reference", fa, "--vcf", vcf, "--format", "json"]
    )
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert (payload["workflow"], payload["schema_version"]) == ("ngs.call", "2.0")
    assert payload["inputs"]["bam"].startswith("sha256:")
    assert all(CALL_FIELDS <= set(c) for c in payload["calls"])
    passed = [c for c in payload["calls"] if c["filter"] == "PASS"]
    assert [(c["gene"], c["alteration"]) for c in passed] == [("ALK", "G1202R")]
    call = passed[0]
    assert call["af"] == pytest.approx(call["alt_molecules"] / call["depth_molecules"])
    assert 0 < call["lod"] < 1
    m = next(m for m in payload["measurements"] if m["call"] == "detected")
    assert (m["alteration"], m["quantity"], m["unit"]) == ("ALK G1202R", "vaf", "%")
    assert m["value"] == pytest.approx(100 * call["af"])
    assert m["lod"] == pytest.approx(100 * call["lod"])
    assert m["ci_low"] < m["value"] < m["ci_high"]
    # hotspot alleles never seen are "not detected" with their site LoD, never 0
    nd = [m for m in payload["measurements"] if m["call"] == "not_detected"]
    assert nd
    assert all(m["value"] is None and m["lod"] > 0 for m in nd)
    assert "ALK G1202R" not in {m["alteration"] for m in nd}
    text = vcf.read_text()
    assert text.startswith("##fileformat=VCFv4.3")
    with pysam.VariantFile(str(vcf)) as vf:  # htslib parses it
        recs = [r for r in vf if r.filter.keys() == ["PASS"]]
    assert len(recs) == 1
    rec = recs[0]
    assert (rec.pos, rec.ref, rec.alts) == (75, "C", ("T",))
    assert rec.info["AD"] == (call["alt_molecules"],)
    assert rec.info["DP"] == call["depth_molecules"]
    assert rec.info["LOD"] == pytest.approx(call["lod"], rel=1e-5)
    assert rec.info["SUBCLONAL"] is True
    assert "##input=bam sha256:" in text
    again = tmp_path / "again.vcf"
    res = cli(["ngs", "call", bam, "--regions", bed, "--reference", fa, "--out", again])
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    body = [x for x in again.read_text().splitlines() if not x.startswith("##")]
    assert body == [x for x in text.splitlines() if not x.startswith("##")]


def test_call_bad_inputs_exit_2(
    cli: Callable, alk_case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Unsorted BAM, missing index, contigs absent from the reference: one-line error, exit 2."""
    bam, bed, fa = alk_case
    with pysam.AlignmentFile(str(bam)) as fh:
        header = fh.header.to_dict()
        reads = list(fh)
    header["HD"]["SO"] = "unsorted"
    unsorted = tmp_path / "unsorted.bam"
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for r in reversed(reads):
            out.write(pysam.AlignedSegment.fromstring(r.to_string(), out.header))
    noindex = tmp_path / "noindex.bam"
    noindex.write_bytes(bam.read_bytes())
    other = tmp_path / "other.fa"
    other.write_text(">chr2\nACGTACGT\n")
    pysam.faidx(str(other))
    cases = [
        ([unsorted, "--reference", fa], "not coordinate-sorted"),
        ([noindex, "--reference", fa], "no index"),
        ([bam, "--reference", other], "not in the reference"),
    ]
    for args, message in cases:
        res = cli(
            [
                "ngs",
                "call",
                args[0],
                "--regions",
                bed,
                *args[1:],
                "--vcf",
                tmp_path / "x.vcf",
                "--format",
                "json",
            ]
        )
        assert res.exit_code == 2
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("InputError:")
        assert message in lines[0]


def test_pon_then_call(cli: Callable, alk_case: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """Normals lower the background: the PoN route still calls G1202R and records the background used."""
    bam, bed, fa = alk_case
    contig = "chr2_29443539_29443787"
    seq = pysam.FastaFile(str(fa)).fetch(contig).upper()
    normals = []
    for i in range(3):
        n = tmp_path / f"normal{i}.bam"
        write_synthetic_bam(n, SyntheticSpec(contig, seq, 1500, read_length=100, family_size=5, start_range=(0, 140),
                                             error_rate=0.002), rng=np.random.default_rng(100 + i))  # fmt: skip
        normals.append(n)
    pon = tmp_path / "pon.tsv"
    res = cli(["ngs", "pon", *normals, "--regions", bed, "--reference", fa, "--out", pon])
    assert res.exit_code == 0, res.stderr
    assert pon.read_text().startswith("## kind: ngs.pon")
    res = cli(
        [
            "ngs",
            "call",
            bam,
            "--regions",
            bed,
            "--reference",
            fa,
            "--pon",
            pon,
            "--vcf",
            tmp_path / "p.vcf",
            "--format",
            "json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["parameters"]["background"] == "panel of normals"
    passed = [c for c in payload["calls"] if c["filter"] == "PASS"]
    assert [c["alteration"] for c in passed] == ["G1202R"]
    assert passed[0]["background"] < 8.45e-4  # below the no-normals default


def test_count_tsv(cli: Callable, alk_case: tuple[Path, Path, Path]) -> None:
    bam, bed, fa = alk_case
    res = cli(["ngs", "count", bam, "--regions", bed, "--reference", fa])
    assert res.exit_code == 0, res.stderr
    lines = [x for x in res.stdout.splitlines() if not x.startswith("##")]
    assert lines[0].split("\t")[:4] == ["chrom", "pos", "ref", "depth_molecules"]
    assert len(lines) == 1 + 140


def test_call_interpret_and_store(
    cli: Callable, alk_case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """--interpret hands PASS calls to the interpretation engine; --db records the findings and
    the VAF measurements for the sample (through kinresist.core.record)."""
    bam, bed, fa = alk_case
    db = tmp_path / "store.sqlite"
    res = cli(["ngs", "call", bam, "--regions", bed, "--reference", fa, "--vcf", tmp_path / "i.vcf", "--format", "json",
               "--interpret", "--db", db, "--sample", "P001-plasma", "--subject", "P001"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert "interpretation" in payload
    assert "1 findings" in res.stderr
    with sqlite3.connect(db) as con:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        finding_table = next(t for t in tables if "finding" in t)
        rows = con.execute(f"select gene, alteration from {finding_table}").fetchall()
    assert ("ALK", "G1202R") in rows


def test_normals_space_separated(
    cli: Callable, alk_case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """``--normals N1.bam N2.bam`` (contract form) and a second BAM without --normals is an error (exit 2)."""
    bam, bed, fa = alk_case
    contig = "chr2_29443539_29443787"
    seq = pysam.FastaFile(str(fa)).fetch(contig).upper()
    normals = []
    for i in range(2):
        n = tmp_path / f"n{i}.bam"
        write_synthetic_bam(n, SyntheticSpec(contig, seq, 800, read_length=100, family_size=5, start_range=(0, 140)),
                            rng=np.random.default_rng(200 + i))  # fmt: skip
        normals.append(n)
    args = [
        "ngs",
        "call",
        bam,
        "--regions",
        bed,
        "--reference",
        fa,
        "--normals",
        *normals,
        "--vcf",
        tmp_path / "n.vcf",
    ]
    res = cli([*args, "--format", "json"])
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert {"normal_1", "normal_2"} <= set(payload["inputs"])
    assert payload["parameters"]["background"] == "panel of normals"
    res = cli(
        [
            "ngs",
            "call",
            bam,
            normals[0],
            "--regions",
            bed,
            "--reference",
            fa,
            "--vcf",
            tmp_path / "m.vcf",
        ]
    )
    assert res.exit_code == 2
    assert "one sample BAM expected" in res.stderr
