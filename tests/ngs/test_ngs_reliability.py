"""Issue 18 for NGS: damaged FASTQ is refused before alignment (exit 2 naming file and record),
an empty result is never written, and ``ngs call`` says which LoD it prints.

Before: a corrupt or empty FASTQ gave an empty BAM with exit 0 (fastp stops silently at a
damaged record: one record with unequal sequence/quality lengths dropped all 1,938 SiMSen-Seq
reads), a truncated FASTQ.gz ended as an internal error (exit 1), and a PASS call at 2.17 %
was printed beside "LoD 3.19 %" without saying what that LoD was.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pysam
import pytest

from kinresist.errors import InputError
from kinresist.ngs.align import validate_fastq

SIMSEN = ("ngs-data", "umierrorcorrect-simsenseq-pik3ca")
SLICE = "pik3ca_hg19_slice_chr3_178951772_178952568.fa"
needs_tools = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("fastp", "bwa", "samtools")),
    reason="needs the Debian packages fastp, bwa and samtools on PATH",
)


def _records(n: int, length: int = 30, *, suffix: str = "") -> list[bytes]:
    rng = np.random.default_rng(n)
    out = []
    for i in range(n):
        seq = "".join(rng.choice(list("ACGT"), length))
        out.append(f"@read{i}{suffix} extra\n{seq}\n+\n{'F' * length}\n".encode())
    return out


def _write(path: Path, records: list[bytes]) -> Path:
    path.write_bytes(b"".join(records))
    return path


# -- validation of the FASTQ stream (no external tools needed) ------------------------------
def test_real_fastq_validates(shared: Callable[..., Path]) -> None:
    assert validate_fastq(shared(*SIMSEN, "test_R1.fastq.gz")) == 1938


def _edit(rec: bytes, line: int, new: bytes) -> bytes:
    parts = rec.split(b"\n")
    parts[line] = new
    return b"\n".join(parts)


@pytest.mark.parametrize(
    ("damage", "record", "needle"),
    [
        (lambda r: _edit(r, 3, b"F" * 28), 7, "30 bases but the quality 28"),
        (lambda r: _edit(r, 0, b"read6"), 7, "should start with '@'"),
        (lambda r: _edit(r, 2, b"-"), 7, "should start with '+'"),
        (lambda r: _edit(r, 3, b"F" * 28 + b"\x07\x07"), 7, "outside Phred+33"),
        (lambda r: _edit(r, 1, b"1" + r.split(b"\n")[1][1:]), 7, "holds '1', not a base"),
        (lambda r: r + b"\n", 8, "an empty line inside"),
    ],
)
def test_damaged_record_names_file_and_record(tmp_path, damage, record, needle) -> None:
    recs = _records(10)
    recs[6] = damage(recs[6])
    f = _write(tmp_path / "r1.fastq", recs)
    with pytest.raises(InputError) as err:
        validate_fastq(f)
    assert needle in str(err.value)
    assert str(f) in str(err.value)
    assert f"record {record}" in str(err.value)


def test_truncated_and_empty_inputs(tmp_path) -> None:
    recs = _records(200)
    gz = tmp_path / "r1.fastq.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(b"".join(recs))
    data = gz.read_bytes()
    cut = tmp_path / "cut.fastq.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="gzip stream ends early"):
        validate_fastq(cut)
    plain = _write(tmp_path / "cut.fastq", [*recs[:5], recs[5][:20]])
    with pytest.raises(InputError, match="record 6: the file ends inside this record"):
        validate_fastq(plain)
    corrupt = tmp_path / "corrupt.fastq.gz"
    corrupt.write_bytes(data[:20] + b"\x00" * 50 + data[70:])
    with pytest.raises(InputError, match="gzip"):
        validate_fastq(corrupt)
    for name, payload in (("empty.fastq", b""), ("blank.fastq", b"\n\n")):
        with pytest.raises(InputError, match="holds no reads"):
            validate_fastq(_write(tmp_path / name, [payload]))
    empty_gz = tmp_path / "empty.fastq.gz"
    gzip.open(empty_gz, "wb").close()
    with pytest.raises(InputError, match="holds no reads"):
        validate_fastq(empty_gz)


def test_tolerated_variants(tmp_path) -> None:
    """CRLF line endings, trailing blank lines, N bases and a gzip file without .gz suffix."""
    recs = [r.replace(b"\n", b"\r\n") for r in _records(5)]
    recs[2] = recs[2].replace(b"\r\nA", b"\r\nN", 1)
    assert validate_fastq(_write(tmp_path / "crlf.fastq", [*recs, b"\r\n\r\n"])) == 5
    gz = tmp_path / "reads.fq"
    with gzip.open(gz, "wb") as fh:
        fh.write(b"".join(_records(4)))
    assert validate_fastq(gz) == 4


def test_pairs_in_step(tmp_path) -> None:
    r1 = _write(tmp_path / "r1.fastq", _records(6, suffix="/1"))
    r2 = _write(tmp_path / "r2.fastq", _records(6, suffix="/2"))
    assert validate_fastq(r1, r2) == 6
    short = _write(tmp_path / "r2s.fastq", _records(5, suffix="/2"))
    with pytest.raises(InputError, match="--r2 has 5 reads but --r1 has more"):
        validate_fastq(r1, short)
    swapped = _records(6, suffix="/2")
    swapped[2], swapped[3] = swapped[3], swapped[2]
    with pytest.raises(InputError, match="record 3: read 'read2' in --r1 but 'read3' in --r2"):
        validate_fastq(r1, _write(tmp_path / "r2x.fastq", swapped))
    with pytest.raises(InputError, match="--r2 FASTQ not found"):
        validate_fastq(r1, tmp_path / "missing.fastq")


# -- the CLI: exit 2, nothing written ----------------------------------------------------------
@pytest.fixture
def simsen(shared: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    d = shared(*SIMSEN)
    ref = tmp_path / SLICE
    shutil.copyfile(d / "expected" / SLICE, ref)
    return d / "test_R1.fastq.gz", ref


def _align(cli, r1, ref, out, *extra):
    return cli(["ngs", "align", "--r1", r1, "--reference", ref, "--umi-length", "12",
                "--spacer-length", "16", "--out", out, *extra])  # fmt: skip


@needs_tools
def test_cli_refuses_damaged_fastq_and_writes_nothing(cli, simsen, tmp_path) -> None:
    """The issue's cases: one record with a shortened quality line (all 1,938 reads were lost),
    a truncated .gz (exit 1 before), an empty file (empty BAM, exit 0 before)."""
    r1, ref = simsen
    lines = gzip.decompress(r1.read_bytes()).split(b"\n")
    lines[4 * 499 + 3] = lines[4 * 499 + 3][:-5]
    unequal = tmp_path / "unequal.fastq"
    unequal.write_bytes(b"\n".join(lines))
    truncated = tmp_path / "cut.fastq.gz"
    truncated.write_bytes(r1.read_bytes()[: r1.stat().st_size // 2])
    empty = tmp_path / "empty.fastq"
    empty.write_bytes(b"")
    for fq, needle in (
        (unequal, "record 500: the sequence has 151 bases but the quality 146"),
        (truncated, "the gzip stream ends early"),
        (empty, "holds no reads"),
    ):
        out = tmp_path / f"{fq.stem}.bam"
        res = _align(cli, fq, ref, out)
        assert res.exit_code == 2, res.stderr
        assert "Traceback" not in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
        assert str(fq) in res.stderr
        assert needle in res.stderr
        assert not out.exists()
        assert not Path(str(out) + ".bai").exists()


@needs_tools
def test_cli_refuses_empty_results(cli, simsen, tmp_path) -> None:
    """No read left after UMI extraction, or none aligned: refused (exit 2), no BAM written,
    and a BAM already at --out is left as it was."""
    r1, ref = simsen
    rng = np.random.default_rng(2)
    short = tmp_path / "short.fastq"
    short.write_text("".join(f"@r{i}\n{''.join(rng.choice(list('ACGT'), 20))}\n+\n{'F' * 20}\n"
                             for i in range(50)))  # fmt: skip
    out = tmp_path / "short.bam"
    res = _align(cli, short, ref, out)
    assert res.exit_code == 2, res.stderr
    assert "no read of the 50 survived UMI extraction" in res.stderr
    assert not out.exists()
    other = tmp_path / "other.fa"
    other.write_text(">x\n" + "".join(rng.choice(list("ACGT"), 2000)) + "\n")
    keep = tmp_path / "keep.bam"
    keep.write_bytes(b"previous result")
    res = _align(cli, r1, other, keep)
    assert res.exit_code == 2, res.stderr
    assert "none of the" in res.stderr
    assert "reads aligned to the reference" in res.stderr
    assert str(other) in res.stderr
    assert keep.read_bytes() == b"previous result"


@needs_tools
def test_cli_align_still_writes_good_runs(cli, simsen, tmp_path) -> None:
    r1, ref = simsen
    out = tmp_path / "ok.bam"
    res = _align(cli, r1, ref, out, "--format", "json")
    assert res.exit_code == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["reads_in"] == 1938
    assert info["mapped"] == info["records"] > 1900
    with pysam.AlignmentFile(str(out)) as bam:
        assert bam.has_index()
        assert sum(1 for _ in bam) == info["records"]


# -- ngs call: which LoD ---------------------------------------------------------------------
def _alk_bam(shared, tmp_path, fraction: float, molecules: int) -> tuple[Path, Path, Path]:
    from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam

    fa = shared("ngs-data", "anacore-sardine-inca-amplicons-hg19", "inca_hg19_regions.fa")
    contig = "chr2_29443539_29443787"
    seq = pysam.FastaFile(str(fa)).fetch(contig).upper()
    vp = 29443613 - 29443539
    bam = tmp_path / "alk.bam"
    write_synthetic_bam(bam, SyntheticSpec(contig, seq, molecules, read_length=100, family_size=5,
                                           variant_pos=vp, variant_alt="T",
                                           variant_fraction=fraction, start_range=(0, vp - 5),
                                           error_rate=0.002), rng=np.random.default_rng(42))  # fmt: skip
    bed = tmp_path / "alk.bed"
    bed.write_text(f"{contig}\t20\t160\tALK_exon23\n")
    return bam, bed, fa


def test_call_text_says_which_lod(cli, shared, tmp_path) -> None:
    """A PASS call below its LoD95 (2 % G1202R at ~870 molecules: 2.18 % vs LoD95 2.28 %) is
    explained: the LoD is the allele's own at its depth and tier, the call lies below it, and
    the measurement carries ``below_lod95``. Above its LoD (1.5 % at ~2,200) no such note."""
    bam, bed, fa = _alk_bam(shared, tmp_path, 0.02, 1000)
    res = cli(["ngs", "call", bam, "--regions", bed, "--reference", fa, "--format", "text"])
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    call = next(ln for ln in lines if "ALK G1202R  VAF" in ln)
    note = lines[lines.index(call) + 1]
    assert "LoD95" in note
    assert "for this allele at its" in note
    assert "molecules (hotspot tier)" in note
    assert "the call lies below it" in note
    js = cli(["ngs", "call", bam, "--regions", bed, "--reference", fa, "--format", "json"])
    payload = json.loads(js.stdout)
    c = next(c for c in payload["calls"] if c["filter"] == "PASS")
    assert c["af"] < c["lod"]
    m = next(m for m in payload["measurements"] if m["call"] == "detected")
    assert "below_lod95" in m["flags"]
    second = tmp_path / "second"
    second.mkdir()
    bam2, bed2, _ = _alk_bam(shared, second, 0.015, 2500)
    res2 = cli(["ngs", "call", bam2, "--regions", bed2, "--reference", fa, "--format", "text"])
    assert "LoD95" in res2.stdout
    assert "below it" not in res2.stdout
