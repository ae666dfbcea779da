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

The FASTQ files are stream-checked before fastp sees them (:func:`validate_fastq`: 4-line
records, equal sequence/quality lengths, Phred+33 qualities, complete last record, intact
gzip, R1/R2 in step): fastp stops silently at a damaged record and bwa then aligns nothing,
which used to end as an empty BAM with exit 0. An empty result (no read after trimming, none
aligned) is refused, and the BAM and its index are moved into place only when complete.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from itertools import zip_longest
from os import PathLike
from pathlib import Path
from typing import IO, Literal

from kinresist.errors import ExternalToolError, InputError
from kinresist.ngs.result import SCHEMA_VERSION, AlignResult

__all__ = ["AlignResult", "align_fastq", "require_tool", "validate_fastq"]

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


_GZIP_MAGIC = b"\x1f\x8b"
_FASTQ_FIX = (
    "re-export or re-download the FASTQ (check the transfer finished), or give the right file"
)


class _FastqReader:
    """Streams a (gzipped) FASTQ record by record and checks its structure as it goes.

    Checks: the 4-line record structure ('@' header, sequence, '+' separator, quality), equal
    sequence and quality lengths, sequence letters and Phred+33 quality characters, a complete
    last record and an intact gzip stream. Every failure is an :class:`InputError` naming the
    file, the record number and its first line.
    """

    def __init__(self, path: Path, label: str) -> None:
        self.path = path
        self.label = label
        self.records = 0
        self.line = 0

    def fail(self, what: str, *, line: int | None = None) -> InputError:
        msg = f"{self.label}: record {self.records + 1}: {what}; {_FASTQ_FIX}"
        return InputError(msg, path=self.path, line=line)

    def __iter__(self) -> Iterator[bytes]:
        """Yield each record's read name (first word of the header, '/1' '/2' removed)."""
        import gzip
        import zlib

        try:
            with self.path.open("rb") as raw:
                gz = raw.read(2) == _GZIP_MAGIC
            fh = gzip.open(self.path, "rb") if gz else self.path.open("rb")
        except OSError as exc:
            msg = f"{self.label} cannot be read ({exc.strerror or exc})"
            raise InputError(msg, path=self.path) from None
        try:
            with fh:
                yield from self._records(fh)  # type: ignore[arg-type]
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            what = (
                "the gzip stream ends early (truncated file)"
                if isinstance(exc, EOFError)
                else f"the gzip data are corrupt ({exc})"
            )
            raise self.fail(what, line=self.line + 1) from None

    def _records(self, fh: IO[bytes]) -> Iterator[bytes]:
        while True:
            header = fh.readline()
            if not header:
                return
            first = self.line + 1
            if header.strip() == b"":
                if fh.read(1 << 16).strip():
                    problem = "an empty line inside the file"
                    raise self.fail(problem, line=first)
                return  # trailing blank lines
            seq, plus, qual = fh.readline(), fh.readline(), fh.readline()
            self.line += 4
            found = _record_problem(header, seq, plus, qual)
            if found is not None:
                problem, offset = found
                raise self.fail(problem, line=first + offset)
            self.records += 1
            name = header[1:].split(maxsplit=1)[0] if len(header) > 2 else b""
            yield name[:-2] if name.endswith((b"/1", b"/2")) else name


_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1)) + b".-*"


def _record_problem(header: bytes, seq: bytes, plus: bytes, qual: bytes) -> tuple[str, int] | None:
    """What is wrong with one FASTQ record, and on which of its lines (0-3); None when fine."""
    if not header.startswith(b"@"):
        got = header[:20].decode("latin-1").rstrip()
        return f"the header line should start with '@', got {got!r}", 0
    if not qual:
        return "the file ends inside this record (truncated: a record has 4 lines)", 0
    if not plus.startswith(b"+"):
        got = plus[:20].decode("latin-1").rstrip()
        return f"line 3 of a record should start with '+', got {got!r}", 2
    seq, qual = seq.rstrip(b"\r\n"), qual.rstrip(b"\r\n")
    if len(seq) != len(qual):
        return (
            f"the sequence has {len(seq)} bases but the quality {len(qual)} characters (they "
            "must be equally long)",
            0,
        )
    other = seq.translate(None, _LETTERS)
    if other:
        return f"the sequence holds {other[:1].decode('latin-1')!r}, not a base letter", 1
    if qual and (min(qual) < 33 or max(qual) > 126):
        return "the quality line holds characters outside Phred+33 ('!' to '~')", 3
    return None


def validate_fastq(r1: Path, r2: Path | None = None) -> int:
    """Stream-check one FASTQ (or a pair, in lockstep: same number of records, same read names)
    and return the number of records (per file). Raises InputError naming file and record."""
    for path, label in ((r1, "--r1"), (r2, "--r2")):
        if path is not None and not path.is_file():
            msg = f"{label} FASTQ not found; give an existing (optionally gzipped) FASTQ file"
            raise InputError(msg, path=path)
    a = _FastqReader(r1, "--r1")
    if r2 is None:
        for _ in a:
            pass
    else:
        b = _FastqReader(r2, "--r2")
        for n1, n2 in zip_longest(a, b):
            if n1 is None or n2 is None:
                short, other = (a, b) if n1 is None else (b, a)
                msg = (
                    f"{short.label} has {short.records} reads but {other.label} has more; the "
                    "two files of a pair hold the same reads in the same order"
                )
                raise InputError(msg, path=short.path)
            if n1 != n2:
                msg = (
                    f"record {a.records}: read {n1.decode('latin-1')!r} in --r1 but "
                    f"{n2.decode('latin-1')!r} in --r2; the pair's files are out of step (give "
                    "the matching R1/R2 files, unsorted)"
                )
                raise InputError(msg, path=r2)
    if a.records == 0:
        msg = "--r1 holds no reads; expected a FASTQ with at least one record"
        raise InputError(msg, path=r1)
    return a.records


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
    """Records of a FASTQ written by fastp (already checked input, plain text)."""
    with path.open("rb") as fh:
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
    reads_per_file = validate_fastq(r1p, r2p)
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
        reads_in = reads_per_file * (2 if r2p else 1)
        reads_trim = _count_fastq(t1) * (2 if r2p else 1)
        if reads_trim == 0:
            msg = (
                f"no read of the {reads_in:,} survived UMI extraction and trimming (fastp); "
                f"reads must be longer than the UMI ({umi_length} nt) plus spacer "
                f"({spacer_length} nt) - check --umi-length/--spacer-length; no BAM was written"
            )
            raise InputError(msg, path=r1p)
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
        if mapped == 0:
            msg = (
                f"none of the {records:,} reads aligned to the reference (is it the panel's "
                "reference, same build and contigs?); no BAM was written"
            )
            raise InputError(msg, path=refp)
        # sort and index beside the output, then move both into place: a failed run never
        # leaves a partial or empty BAM behind
        sorted_bam = work / "sorted.bam"
        cmd = [samtools, "sort", "-@", str(max(1, threads)), "-o", str(sorted_bam), str(unsorted)]
        commands.append(" ".join(cmd))
        _run(cmd, what="samtools sort")
        cmd = [samtools, "index", str(sorted_bam)]
        commands.append(" ".join(cmd))
        _run(cmd, what="samtools index")
        sorted_bam.replace(outp)
        Path(str(sorted_bam) + ".bai").replace(str(outp) + ".bai")
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
