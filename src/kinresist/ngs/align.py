"""FASTQ to a coordinate-sorted, indexed, UMI-tagged BAM: fastp, bwa mem, samtools.

Pipeline (Debian packages ``fastp``, ``bwa``, ``samtools``)::

    fastp --umi --umi_loc read1|per_read --umi_len N --umi_skip S   (UMI into the read name, trimming)
    bwa mem -Y -K 150000000 -t T REF trimmed_R1 [trimmed_R2]        (deterministic batches)
    (python) UMI from the read name -> RX tag, name suffix "_UMI"
    samtools sort ; samtools index

The UMI is the first ``umi_length`` bases of read 1 (``umi_loc="read1"``, paired or single
end) or of both reads (``"per_read"``, duplex-style, ``RX`` = ``A-B``); ``spacer_length``
further bases are skipped (SiMSen-Seq: 12 + 16). A missing bwa index is built once in a
temporary directory (the reference folder is never written to) when the reference is at
most ``max_autoindex_bp`` long; larger references need ``bwa index REF`` beforehand.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Literal

from kinresist.errors import ExternalToolError, InputError
from kinresist.ngs.result import SCHEMA_VERSION, AlignResult

__all__ = ["AlignResult", "align_fastq", "require_tool"]

_BWA_INDEX_EXT = (".amb", ".ann", ".bwt", ".pac", ".sa")
_INSTALL_HINT = (
    "install it (Debian/Ubuntu: `apt-get install fastp bwa samtools`) and make sure it is on PATH"
)


def require_tool(name: str) -> str:
    """Absolute path of an external program; ExternalToolError when it is not on PATH."""
    path = shutil.which(name)
    if path is None:
        msg = f"required program {name!r} was not found; {_INSTALL_HINT}"
        raise ExternalToolError(msg)
    return path


def _run(cmd: Sequence[str], *, what: str, stdout: object = subprocess.DEVNULL) -> None:
    proc = subprocess.run(list(cmd), stdout=stdout, stderr=subprocess.PIPE, check=False)  # type: ignore[call-overload]
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        tail = " | ".join(err[-3:]) if err else "no message"
        msg = f"{what} failed (exit {proc.returncode}): {tail}; command: {' '.join(map(str, cmd))}"
        raise ExternalToolError(msg)


def _check_fastq(path: Path, label: str) -> None:
    if not path.is_file():
        msg = f"{label} FASTQ not found; give an existing (optionally gzipped) FASTQ file"
        raise InputError(msg, path=path)
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as fh:  # type: ignore[operator]
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        msg = f"{label} is not a readable (gzipped) FASTQ file"
        raise InputError(msg, path=path) from None
    if first and not first.startswith("@"):
        msg = f"{label} does not look like FASTQ (first line should start with '@', got {first[:20]!r})"
        raise InputError(msg, path=path, line=1)


def _reference_length(ref: Path) -> int:
    fai = Path(str(ref) + ".fai")
    if fai.is_file():
        return sum(
            int(line.split("\t")[1]) for line in fai.read_text().splitlines() if line.strip()
        )
    total = 0
    with ref.open(encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
        if not first.startswith(">"):
            msg = "reference is not a FASTA file (first line should start with '>')"
            raise InputError(msg, path=ref, line=1)
        for line in fh:
            if not line.startswith(">"):
                total += len(line.strip())
    return total


def _bwa_prefix(ref: Path, workdir: Path, *, max_autoindex_bp: int) -> tuple[Path, bool]:
    if all(Path(str(ref) + ext).is_file() for ext in _BWA_INDEX_EXT):
        return ref, False
    length = _reference_length(ref)
    if length > max_autoindex_bp:
        msg = (
            f"reference {ref} has no bwa index ({length:,} bp is too large to index on the fly); "
            f"run `bwa index {ref}` once, then retry"
        )
        raise ExternalToolError(msg)
    prefix = workdir / "bwa_index" / ref.name
    prefix.parent.mkdir(parents=True)
    shutil.copyfile(ref, prefix)
    _run([require_tool("bwa"), "index", str(prefix)], what="bwa index")
    return prefix, True


def _tag_umis(sam: Path, out_bam: Path, *, duplex: bool) -> tuple[int, int, int]:
    """Move the fastp UMI (``name:UMI``) into RX and the name suffix ``_UMI``; count records."""
    import pysam

    records = mapped = tagged = 0
    with (
        pysam.AlignmentFile(str(sam), "r") as src,
        pysam.AlignmentFile(str(out_bam), "wb", template=src) as dst,
    ):
        for read in src:
            records += 1
            if not read.is_unmapped:
                mapped += 1
            name = read.query_name or ""
            if ":" in name:
                base, umi = name.rsplit(":", 1)
                if umi and all(c in "ACGTN_" for c in umi):
                    rx = umi.replace("_", "-") if duplex else umi
                    read.query_name = f"{base}_{rx}"
                    read.set_tag("RX", rx, value_type="Z")
                    tagged += 1
            dst.write(read)
    return records, mapped, tagged


def _count_fastq(path: Path) -> int:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:  # type: ignore[operator]
        return sum(1 for _ in fh) // 4


def align_fastq(
    r1: str | PathLike[str],
    *,
    reference: str | PathLike[str],
    umi_length: int,
    out: str | PathLike[str],
    r2: str | PathLike[str] | None = None,
    spacer_length: int = 0,
    umi_location: Literal["read1", "per_read"] = "read1",
    threads: int = 2,
    adapter: str | None = None,
    max_autoindex_bp: int = 50_000_000,
    read_group: str | None = None,
) -> AlignResult:
    """Extract in-line UMIs, trim, align, sort and index.

    Parameters
    ----------
    r1, r2
        FASTQ files (gzip allowed); ``r2`` for paired-end data.
    reference
        FASTA of the reference the reads are aligned to (user supplied; the bwa index
        ``REF.bwt`` etc. is used when present, else built in a temporary folder for
        references up to ``max_autoindex_bp``).
    umi_length, spacer_length
        In-line UMI length and the number of following bases to discard.
    out
        Output BAM (coordinate-sorted; ``OUT.bai`` is written next to it).
    umi_location
        ``"read1"``: UMI at the start of read 1 only; ``"per_read"``: at the start of both
        reads (RX = ``UMI1-UMI2``).
    threads
        Threads for fastp, bwa and samtools.
    adapter
        Read-1 adapter for fastp (default: fastp's auto-detection).
    read_group
        Optional read-group ID/sample name (``@RG\\tID:x\\tSM:x``).

    Raises
    ------
    ExternalToolError
        fastp, bwa or samtools missing or failing; reference too large to index on the fly.
    InputError
        Missing/invalid FASTQ or reference, bad UMI geometry.
    """
    r1p, outp, refp = Path(r1), Path(out), Path(reference)
    r2p = Path(r2) if r2 is not None else None
    if umi_length < 1 or spacer_length < 0:
        msg = f"--umi-length must be >= 1 and --spacer-length >= 0, got {umi_length} and {spacer_length}"
        raise InputError(msg)
    if umi_location == "per_read" and r2p is None:
        msg = "umi_location='per_read' needs --r2"
        raise InputError(msg)
    fastp, bwa, samtools = require_tool("fastp"), require_tool("bwa"), require_tool("samtools")
    if not refp.is_file():
        msg = "reference FASTA not found; give the FASTA the reads should be aligned to (with its bwa index, or small enough to index on the fly)"
        raise InputError(msg, path=refp)
    _check_fastq(r1p, "--r1")
    if r2p is not None:
        _check_fastq(r2p, "--r2")
    outp.parent.mkdir(parents=True, exist_ok=True)
    commands: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kinresist-align-", dir=outp.parent) as tmp:
        work = Path(tmp)
        prefix, built = _bwa_prefix(refp, work, max_autoindex_bp=max_autoindex_bp)
        t1, t2 = work / "trim_R1.fastq", work / "trim_R2.fastq"
        cmd = [
            fastp, "-i", str(r1p), "-o", str(t1), "--umi", "--umi_loc", umi_location,
            "--umi_len", str(umi_length), "--umi_skip", str(spacer_length),
            "-w", str(max(1, threads)), "-j", str(work / "fastp.json"), "-h", str(work / "fastp.html"),
        ]  # fmt: skip
        if r2p is not None:
            cmd += ["-I", str(r2p), "-O", str(t2)]
        if adapter:
            cmd += ["--adapter_sequence", adapter]
        commands.append(" ".join(cmd))
        _run(cmd, what="fastp")
        reads_in = _count_fastq(r1p) * (2 if r2p else 1)
        reads_trim = _count_fastq(t1) * (2 if r2p else 1)
        sam = work / "aln.sam"
        cmd = [bwa, "mem", "-Y", "-K", "150000000", "-t", str(max(1, threads))]
        if read_group:
            cmd += ["-R", f"@RG\\tID:{read_group}\\tSM:{read_group}"]
        cmd += [str(prefix), str(t1)] + ([str(t2)] if r2p is not None else [])
        commands.append(" ".join(cmd))
        with sam.open("wb") as fh:
            _run(cmd, what="bwa mem", stdout=fh)
        unsorted = work / "tagged.bam"
        records, mapped, tagged = _tag_umis(sam, unsorted, duplex=umi_location == "per_read")
        cmd = [samtools, "sort", "-@", str(max(1, threads)), "-o", str(outp), str(unsorted)]
        commands.append(" ".join(cmd))
        _run(cmd, what="samtools sort")
        cmd = [samtools, "index", str(outp)]
        commands.append(" ".join(cmd))
        _run(cmd, what="samtools index")
    from kinresist.core.result import Provenance

    inputs: dict[str, Path] = {"r1": r1p, "reference": refp}
    if r2p is not None:
        inputs["r2"] = r2p
    parameters = {"umi_length": umi_length, "spacer_length": spacer_length,
                  "umi_location": umi_location, "threads": threads, "adapter": adapter,
                  "read_group": read_group}  # fmt: skip
    warnings = []
    if records and mapped < records:
        warnings.append(f"{records - mapped:,} of {records:,} records are unmapped")
    if tagged < records:
        warnings.append(f"{records - tagged:,} of {records:,} records carry no UMI (RX)")
    return AlignResult(
        workflow="ngs.align",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs=inputs, parameters=parameters),
        body={
            "bam": str(outp),
            "index": str(outp) + ".bai",
            "reads_in": reads_in,
            "reads_after_trimming": reads_trim,
            "records": records,
            "mapped": mapped,
            "umi_tagged": tagged,
            "bwa_index_built": built,
            "commands": list(commands),
        },
        warnings=warnings,
    )
