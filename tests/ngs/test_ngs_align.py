"""`kinresist ngs align` (fastp + bwa mem + samtools) on the real SiMSen-Seq PIK3CA reads."""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter

import numpy as np
import pysam
import pytest

from kinresist.errors import ExternalToolError
from kinresist.ngs.align import align_fastq

SIMSEN = ("ngs-data", "umierrorcorrect-simsenseq-pik3ca")
SLICE = "pik3ca_hg19_slice_chr3_178951772_178952568.fa"
needs_tools = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("fastp", "bwa", "samtools")),
    reason="needs the Debian packages fastp, bwa and samtools on PATH",
)


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    """The 1,938 SiMSen-Seq reads aligned to the hg19 PIK3CA slice (no bwa index: built on the fly)."""
    from sharedpaths import shared_path

    if not all(shutil.which(t) for t in ("fastp", "bwa", "samtools")):
        pytest.skip("needs the Debian packages fastp, bwa and samtools on PATH")
    d = shared_path(*SIMSEN)
    work = tmp_path_factory.mktemp("align")
    ref = work / SLICE
    shutil.copyfile(d / "expected" / SLICE, ref)  # a temporary copy: the shared folder is read-only
    res = align_fastq(
        d / "test_R1.fastq.gz", reference=ref, umi_length=12, spacer_length=16, out=work / "out.bam"
    )
    return d, ref, res


@needs_tools
def test_align_simsenseq_maps_and_tags(aligned):
    """All reads kept by fastp map (umierrorcorrect 0.29 + bwa: 1,938/1,938 mapped) and carry RX = first 12 nt."""
    d, ref, res = aligned
    assert res.bwa_index_built
    assert not ref.with_suffix(".fa.bwt").exists()  # the index went to a temporary folder
    assert res.reads_in == 1938
    assert res.reads_after_trimming >= 0.98 * 1938
    assert res.mapped == res.records == res.umi_tagged == res.reads_after_trimming
    first12 = {}
    with gzip.open(d / "test_R1.fastq.gz", "rt") as fh:
        for i, line in enumerate(fh):
            if i % 4 == 0:
                name = line[1:].split()[0]
            elif i % 4 == 1:
                first12[name] = line[:12]
    with pysam.AlignmentFile(str(res.bam)) as bam:
        assert bam.header["HD"]["SO"] == "coordinate"
        assert bam.has_index()
        n = 0
        for r in bam:
            base, umi = r.query_name.rsplit("_", 1)
            assert r.get_tag("RX") == umi == first12[base]
            n += 1
    assert n == res.records


@needs_tools
def test_align_simsenseq_families_and_raw_h1047r(aligned):
    """Against umierrorcorrect 0.29 on the same reads (expected/, SOURCE.md).

    * families with >= 3 reads: 278 (directional grouping of the RX tags; tolerance +-3,
      fastp drops ~15 low-quality reads that umierrorcorrect keeps), all families 537 (+-2 %);
    * raw H1047R (contig pos 314 A>G): 54 G / 1,930 = 2.8 % (tolerance 0.5 percentage points).
    """
    from kinresist.ngs import group_umis

    _, _, res = aligned
    with pysam.AlignmentFile(str(res.bam)) as bam:
        rx = Counter(r.get_tag("RX") for r in bam)
        cov = np.array(
            bam.count_coverage("chr3_178951772_178952568", 313, 314, quality_threshold=0)
        )[:, 0]
    umis = list(rx)
    counts = [rx[u] for u in umis]
    sizes = [sum(counts[i] for i in g) for g in group_umis(umis, counts, method="directional")]
    assert abs(sum(s >= 3 for s in sizes) - 278) <= 3
    assert len(sizes) == pytest.approx(537, rel=0.02)
    a, _c, g, _t = cov
    assert g / cov.sum() == pytest.approx(54 / 1930, abs=0.005)
    assert a > 0.95 * cov.sum()


@needs_tools
def test_cli_align_contract(cli, shared, tmp_path):
    """The issue's contract: `kinresist ngs align --r1 --reference --umi-length --spacer-length --out`."""
    d = shared(*SIMSEN)
    ref = tmp_path / SLICE
    shutil.copyfile(d / "expected" / SLICE, ref)
    out = tmp_path / "cli.bam"
    res = cli(["ngs", "align", "--r1", d / "test_R1.fastq.gz", "--reference", ref, "--umi-length", "12",
               "--spacer-length", "16", "--out", out, "--format", "json"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["mapped"] == info["records"] > 1900
    assert out.exists()
    assert (tmp_path / "cli.bam.bai").exists()


def test_missing_tool_is_external_tool_error(cli, tmp_path, monkeypatch):
    """fastp/bwa/samtools not on PATH -> ExternalToolError naming the tool and the apt packages, exit 2."""
    monkeypatch.setenv("PATH", str(tmp_path))
    fq = tmp_path / "r1.fastq"
    fq.write_text("@r\nACGT\n+\nFFFF\n")
    with pytest.raises(ExternalToolError, match="fastp"):
        align_fastq(fq, reference=tmp_path / "ref.fa", umi_length=4, out=tmp_path / "o.bam")
    res = cli(["ngs", "align", "--r1", fq, "--reference", tmp_path / "ref.fa", "--umi-length", "4",
               "--out", tmp_path / "o.bam"])  # fmt: skip
    assert res.exit_code == 2
    assert res.stderr.startswith("ExternalToolError:")
    assert "apt-get install" in res.stderr


@needs_tools
def test_missing_reference_and_bad_fastq(cli, tmp_path):
    """A missing reference FASTA or a non-FASTQ input: one-line InputError naming the file, exit 2."""
    fq = tmp_path / "r1.fastq"
    fq.write_text("@r\nACGTACGTACGT\n+\nFFFFFFFFFFFF\n")
    res = cli(["ngs", "align", "--r1", fq, "--reference", tmp_path / "missing.fa", "--umi-length", "4",
               "--out", tmp_path / "o.bam"])  # fmt: skip
    assert res.exit_code == 2
    assert "missing.fa" in res.stderr
    assert "reference FASTA not found" in res.stderr
    bad = tmp_path / "bad.fastq"
    bad.write_text("not a fastq\n")
    ref = tmp_path / "ref.fa"
    ref.write_text(">c\nACGTACGTACGTACGTACGT\n")
    res = cli(
        [
            "ngs",
            "align",
            "--r1",
            bad,
            "--reference",
            ref,
            "--umi-length",
            "4",
            "--out",
            tmp_path / "o.bam",
        ]
    )
    assert res.exit_code == 2
    assert "bad.fastq" in res.stderr
    assert "FASTQ" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@needs_tools
def test_large_reference_without_index_is_refused(tmp_path):
    """Above max_autoindex_bp a missing bwa index is an ExternalToolError telling to run `bwa index`."""
    fq = tmp_path / "r1.fastq"
    fq.write_text("@r\nACGTACGTACGT\n+\nFFFFFFFFFFFF\n")
    ref = tmp_path / "ref.fa"
    ref.write_text(">c\n" + "ACGT" * 100 + "\n")
    with pytest.raises(ExternalToolError, match="bwa index"):
        align_fastq(fq, reference=ref, umi_length=4, out=tmp_path / "o.bam", max_autoindex_bp=100)
