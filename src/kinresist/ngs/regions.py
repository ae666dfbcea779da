"""Panel regions (BED) and input checks for BAM and reference FASTA files.

BED is 0-based half-open (``chrom start end [name]``); positions reported elsewhere in
this package are 1-based (VCF convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pysam

from kinresist.errors import InputError

__all__ = [
    "Region",
    "check_bam",
    "check_regions",
    "contig_genomic_offset",
    "open_reference",
    "read_regions",
]

# anacore-style slice contigs: chr7_55259379_55259659 = hg19 chr7:55259379-55259659 (1-based)
_SLICE = re.compile(r"^(?P<chrom>(?:chr)?[0-9XYMT]+)_(?P<start>\d+)_(?P<end>\d+)$")


@dataclass(frozen=True, slots=True)
class Region:
    """One panel interval: ``chrom``, 0-based ``start``, exclusive ``end``, optional ``name``."""

    chrom: str
    start: int
    end: int
    name: str = ""
    #: line of the BED file it was read from (0: not from a file)
    line: int = field(default=0, compare=False)

    @property
    def length(self) -> int:
        """Number of bases."""
        return self.end - self.start


def read_regions(path: str | Path) -> list[Region]:
    """Read a BED file (``track``/``browser``/``#`` lines skipped).

    Raises
    ------
    InputError
        With the line and column of a malformed record.
    """
    path = Path(path)
    regions: list[Region] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            fields = line.rstrip("\n\r").split("\t")
            if len(fields) < 3:
                msg = f"BED line has {len(fields)} tab-separated fields; expected chrom, start, end [, name]"
                raise InputError(
                    msg,
                    path=path,
                    line=lineno,
                )
            try:
                start, end = int(fields[1]), int(fields[2])
            except ValueError:
                msg = "BED start/end must be integers (0-based start, exclusive end)"
                raise InputError(
                    msg,
                    path=path,
                    line=lineno,
                    column=2,
                ) from None
            if start < 0 or end <= start:
                msg = f"BED interval {start}-{end} is empty or negative"
                raise InputError(
                    msg,
                    path=path,
                    line=lineno,
                    column=2,
                )
            name = fields[3] if len(fields) > 3 else ""
            regions.append(Region(fields[0], start, end, name, lineno))
    if not regions:
        msg = "BED file holds no intervals"
        raise InputError(msg, path=path)
    return regions


def check_regions(
    regions: list[Region], reference: pysam.FastaFile, bed: str | Path | None = None
) -> None:
    """Every interval lies on its contig of the reference (an interval past the contig's end
    is a BED of another genome build); the contigs themselves are checked by
    :func:`check_bam`. ``bed``: the file the regions were read from, named in the error."""
    lengths = dict(zip(reference.references, reference.lengths, strict=True))
    for r in regions:
        size = lengths.get(r.chrom)
        if size is not None and r.end > size:
            msg = (
                f"BED interval {r.chrom}:{r.start}-{r.end} ends beyond {r.chrom} ({size} bp in the "
                f"reference FASTA {_fname(reference)}); use the BED of the reference's genome build"
            )
            raise InputError(msg, path=bed, line=r.line or None, column=3 if r.line else None)


def open_reference(path: str | Path) -> pysam.FastaFile:
    """Open an indexed FASTA (``.fai`` next to it; created when the folder is writable)."""
    path = Path(path)
    if not path.exists():
        msg = "reference FASTA not found"
        raise InputError(msg, path=path)
    fai = Path(str(path) + ".fai")
    if not fai.exists():
        try:
            pysam.faidx(str(path))
        except pysam.SamtoolsError as exc:
            msg = f"reference FASTA has no .fai index and one could not be built ({exc}); run 'samtools faidx'"
            raise InputError(
                msg,
                path=path,
            ) from None
    try:
        return pysam.FastaFile(str(path))
    except (OSError, ValueError) as exc:
        msg = f"cannot read reference FASTA ({exc})"
        raise InputError(msg, path=path) from None


def check_bam(
    bam_path: str | Path,
    *,
    reference: pysam.FastaFile | None = None,
    regions: list[Region] | None = None,
) -> None:
    """Fail early on a BAM the counters cannot use.

    Checks: the file opens; it is coordinate-sorted (header ``SO:coordinate``); it has a
    ``.bai``/``.csi`` index; the region contigs exist in the BAM and in the reference.

    Raises
    ------
    InputError
        One line naming the file, what is wrong and the fix.
    """
    bam_path = Path(bam_path)
    if not bam_path.exists():
        msg = "BAM file not found"
        raise InputError(msg, path=bam_path)
    from kinresist.ngs._htslib import quiet_open

    failure = None
    with quiet_open():
        try:
            with pysam.AlignmentFile(str(bam_path), "rb", require_index=False) as bam:
                header = bam.header.to_dict()
                contigs = set(bam.references)
                has_index = bam.has_index() if bam.is_bam or bam.is_cram else False
        except (OSError, ValueError, NotImplementedError) as exc:
            # NotImplementedError: a damaged BGZF header ('seek not implemented ...')
            failure = str(exc)
    if failure is not None:
        msg = f"cannot read BAM ({failure}); expected a BAM file"
        raise InputError(msg, path=bam_path)
    order = header.get("HD", {}).get("SO")
    if order != "coordinate":
        msg = f"BAM is not coordinate-sorted (header SO:{order or 'missing'}); run 'samtools sort' and 'samtools index'"
        raise InputError(
            msg,
            path=bam_path,
        )
    if not has_index:
        msg = "BAM has no index (.bai/.csi); run 'samtools index'"
        raise InputError(msg, path=bam_path)
    if reference is not None:
        ref_lengths = dict(zip(reference.references, reference.lengths, strict=True))
        used = sorted({r.chrom for r in regions}) if regions is not None else sorted(contigs)
        absent_ref = [c for c in used if c not in ref_lengths]
        if absent_ref:
            msg = (
                f"contig(s) {', '.join(absent_ref[:5])} are not in the reference FASTA "
                f"{_fname(reference)}; use the reference the reads were aligned to (check the chr prefix)"
            )
            raise InputError(
                msg,
                path=bam_path,
            )
        bam_lengths = {sq["SN"]: sq.get("LN") for sq in header.get("SQ", [])}
        differ = [c for c in used if c in bam_lengths and bam_lengths[c] != ref_lengths[c]]
        if differ:
            msg = (
                f"contig {differ[0]} is {bam_lengths[differ[0]]} bp in the BAM but {ref_lengths[differ[0]]} bp in "
                "the reference FASTA; use the reference the reads were aligned to"
            )
            raise InputError(
                msg,
                path=bam_path,
            )
    if regions is not None:
        absent = sorted({r.chrom for r in regions} - contigs)
        if absent:
            msg = f"region contig(s) {', '.join(absent[:5])} are not in the BAM header; check the BED's chromosome names"
            raise InputError(
                msg,
                path=bam_path,
            )


def _fname(fasta: pysam.FastaFile) -> str:
    name = fasta.filename
    return name.decode() if isinstance(name, bytes) else str(name)


def contig_genomic_offset(contig: str) -> tuple[str, int] | None:
    """``("chr7", 55259378)`` for a slice contig ``chr7_55259379_55259659`` (genomic = offset + pos)."""
    m = _SLICE.match(contig)
    if m is None:
        return None
    return m.group("chrom"), int(m.group("start")) - 1
