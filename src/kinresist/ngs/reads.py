"""Reads of one panel window as flat arrays, with template ids and UMI family (molecule) ids.

Reads come from ``AlignmentFile.fetch`` (no depth cap). pysam formats them as SAM text in
chunks (:data:`CHUNK_READS` reads), compiled code parses each chunk into columnar arrays
(:mod:`kinresist.ngs._sam`) and groups UMIs into families (:mod:`kinresist.ngs._families`):
memory is about 300 bytes per read of the window (sequence, qualities, CIGAR, ids), whatever
the size of the file, and no Python object is kept per read.

Family key (template position): single-end reads - contig, strand, unclipped 5' end; paired
reads - the unclipped 5' ends of both mates (the mate's from its ``MC`` tag; without ``MC`` the
leftmost mapped start and |TLEN|) and the read-1 strand; ``paired`` duplex strategy: without
the strand, and UMI ``A-B`` of an R1-reverse template read as ``B-A``
(:func:`family_key_of` is the per-read reference of these rules). Within a key, UMIs are
grouped by :func:`kinresist.ngs.grouping.group_umis` rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
import pysam

from kinresist.errors import InputError
from kinresist.ngs.consensus import N_CODE
from kinresist.ngs.grouping import GroupingParams
from kinresist.ngs.umi import umi_of_read

__all__ = ["BASE_LUT", "CHUNK_READS", "WindowReads", "collect_window", "family_key_of"]

BASE_LUT = np.full(256, N_CODE, dtype=np.uint8)
for _i, _b in enumerate("ACGT"):
    BASE_LUT[ord(_b)] = _i
    BASE_LUT[ord(_b.lower())] = _i

#: reads formatted and parsed per chunk (bounds the transient Python objects: ~3 MB)
CHUNK_READS = 8192

_CIGAR_RE = re.compile(r"(\d+)([MIDNSHP=X])")


@dataclass
class WindowReads:
    """Columnar reads of one window (read ``i``'s bases: ``seq[seq_off[i]:seq_off[i+1]]``).

    ``template`` and ``family`` are numbered in first-seen order; ``fam_ptr``/``fam_tmpl``
    list each family's distinct templates (ascending), ``t_ptr``/``t_reads`` each template's
    reads (ascending). ``seq`` is upper-case ASCII, ``qual`` Phred.
    """

    n_reads: int
    start: np.ndarray
    strand: np.ndarray  # read-1 strand: 0 forward / A, 1 reverse / B
    template: np.ndarray
    family: np.ndarray
    fam_size: np.ndarray  # templates per family
    seq_off: np.ndarray
    seq: np.ndarray
    qual: np.ndarray
    cig_off: np.ndarray
    cig_op: np.ndarray
    cig_len: np.ndarray
    fam_ptr: np.ndarray
    fam_tmpl: np.ndarray
    t_ptr: np.ndarray
    t_reads: np.ndarray
    warnings: list[str] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))


def _unclipped_five_prime(start: int, cigar: list[tuple[str, int]], reverse: bool) -> int:
    if reverse:
        end = start + sum(n for op, n in cigar if op in "MDN=X")
        return end + (cigar[-1][1] if cigar and cigar[-1][0] in "SH" else 0) - 1
    return start - (cigar[0][1] if cigar and cigar[0][0] in "SH" else 0)


def family_key_of(read: pysam.AlignedSegment, duplex: bool) -> tuple:
    """Template position of one read (reference for the compiled parser; see module docstring)."""
    cig = [("MIDNSHP=X"[op], n) for op, n in (read.cigartuples or [])]
    own = _unclipped_five_prime(read.reference_start, cig, read.is_reverse)
    if read.is_paired and not read.mate_is_unmapped and read.reference_id == read.next_reference_id:
        r1_rev = read.is_reverse if read.is_read1 else read.mate_is_reverse
        if read.has_tag("MC"):
            mcig = [(op, int(n)) for n, op in _CIGAR_RE.findall(str(read.get_tag("MC")))]
            mate = _unclipped_five_prime(read.next_reference_start, mcig, read.mate_is_reverse)
            ends = (min(own, mate), max(own, mate))
            return ("mc", *ends) if duplex else ("mc", *ends, r1_rev)
        left = min(read.reference_start, read.next_reference_start)
        tlen = abs(read.template_length)
        return ("tl", left, tlen) if duplex else ("tl", left, tlen, r1_rev)
    return ("se", own, read.is_reverse)


def _parse_error(
    code: int, read: pysam.AlignedSegment, bam: pysam.AlignmentFile, chrom: str, gp: GroupingParams
) -> InputError:
    from kinresist.ngs._sam import ERR_NO_UMI, ERR_ORDER

    path = bam.filename.decode() if isinstance(bam.filename, bytes) else bam.filename
    if code == ERR_ORDER:
        msg = (
            f"BAM records are out of coordinate order at {chrom}:{read.reference_start + 1}; "
            "run 'samtools sort' and 'samtools index'"
        )
        return InputError(msg, path=path)
    umi = umi_of_read(read, gp.umi_source, tag=gp.umi_tag, sep=gp.umi_sep)  # raises without UMI
    if code == ERR_NO_UMI:  # pragma: no cover - umi_of_read raised
        msg = f"read {read.query_name!r} carries no UMI"
        return InputError(msg, path=path)
    msg = f"read {read.query_name!r}: duplex strategy needs UMIs written 'A-B', got {umi!r}"
    return InputError(msg, path=path)


_FIELDS = ("start", "strand", "kind", "ka", "kb", "kc")
_RAGGED = (("seq_off", "seq", "qual"), ("cig_off", "cig_op", "cig_len"), ("name_off", "name"),
           ("umi_off", "umi"))  # fmt: skip
_PARSED = (*_FIELDS, *(name for group in _RAGGED for name in group))


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Chunks -> one set of arrays, one field at a time (the chunk copies are freed as it goes)."""
    out: dict[str, np.ndarray] = {}
    for name in _FIELDS:
        out[name] = np.concatenate([p.pop(name) for p in parts])
    for off, *data in _RAGGED:
        offs = [p.pop(off) for p in parts]
        shift = np.cumsum([0] + [int(o[-1]) for o in offs[:-1]])
        out[off] = np.concatenate(
            [offs[0][:1], *(o[1:] + s for o, s in zip(offs, shift, strict=True))]
        )
        for name in data:
            out[name] = np.concatenate([p.pop(name) for p in parts])
    return out


def _read_chunks(
    bam: pysam.AlignmentFile, chrom: str, start: int, end: int, gp: GroupingParams
) -> dict[str, np.ndarray]:
    from kinresist.ngs._sam import UMI_AUTO, UMI_NAME, UMI_TAG, parse_chunk

    if len(gp.umi_tag) != 2:
        msg = f"UMI tag must be two characters (SAM tag name, e.g. RX), got {gp.umi_tag!r}"
        raise InputError(msg)
    tag = np.frombuffer(gp.umi_tag.encode("ascii"), np.uint8)
    sep = np.frombuffer(gp.umi_sep.encode(), np.uint8)
    mode = {"auto": UMI_AUTO, "tag": UMI_TAG, "name": UMI_NAME}[gp.umi_source]
    duplex = gp.strategy == "paired"
    fmt = pysam.AlignedSegment.to_string
    it = bam.fetch(chrom, start, end)
    last = -1
    parts: list[dict[str, np.ndarray]] = []
    while True:
        # SAM lines only: the AlignedSegment objects die at once (no garbage-collector churn)
        lines = [fmt(r) for r in islice(it, CHUNK_READS)]
        if not lines:
            break
        buf = np.frombuffer(("\n".join(lines) + "\n").encode(), np.uint8)
        out = parse_chunk(buf, gp.min_mapq, mode, tag, sep, duplex, gp.family_key == "region", last)
        n, err, err_line, last = out[0], out[1], out[2], out[3]
        if err:
            read = pysam.AlignedSegment.fromstring(lines[err_line], bam.header)
            raise _parse_error(err, read, bam, chrom, gp)
        if n:
            parts.append(dict(zip(_PARSED, out[4:], strict=True)))
    if not parts:
        return {}
    return _concat(parts)


def collect_window(
    bam: pysam.AlignmentFile, chrom: str, start: int, end: int, gp: GroupingParams
) -> WindowReads:
    """Reads overlapping ``chrom:start-end`` (0-based) with their templates and UMI families."""
    from kinresist.ngs._families import (
        METHOD_CODES,
        count_templates,
        group_keys,
        intern_bytes,
        intern_rows,
    )

    cols = _read_chunks(bam, chrom, start, end, gp)
    if not cols:
        e64 = np.zeros(0, np.int64)
        return WindowReads(0, e64, np.zeros(0, np.int8), e64, e64, e64, np.zeros(1, np.int64),
                           np.zeros(0, np.uint8), np.zeros(0, np.uint8), np.zeros(1, np.int64),
                           np.zeros(0, np.uint8), e64, np.zeros(1, np.int64), e64,
                           np.zeros(1, np.int64), e64)  # fmt: skip
    n = len(cols["start"])
    template, n_t = intern_bytes(cols.pop("name"), cols.pop("name_off"))
    umi_id, _ = intern_bytes(cols["umi"], cols["umi_off"])
    key_id, _ = intern_rows(
        np.stack([cols.pop(k).astype(np.int64) for k in ("kind", "ka", "kb", "kc")], axis=1)
    )
    pair_id, n_pairs = intern_rows(np.stack([key_id, umi_id], axis=1))
    del umi_id
    counts, first = count_templates(pair_id, template, n_pairs)
    max_umis = gp.max_umis_per_position if gp.max_umis_per_position is not None else -1
    fam_of_pair, fam_size, capped = group_keys(key_id[first], counts, first, cols.pop("umi"),
                                               cols.pop("umi_off"), METHOD_CODES[gp.method],
                                               gp.threshold, max_umis)  # fmt: skip
    notes = []  # re-issued by the caller (so that they cross a Dask cluster too)
    if capped.any():
        per_key = np.bincount(key_id[first], minlength=len(capped))
        notes = [
            f"{int(per_key[k])} distinct UMIs at one position exceed the cap of "
            f"{gp.max_umis_per_position}: grouped by identity (raise "
            "GroupingParams.max_umis_per_position if memory allows)"
            for k in np.flatnonzero(capped)
        ]
    family = fam_of_pair[pair_id]
    del pair_id, key_id
    t_reads = np.argsort(template, kind="stable")
    t_ptr = np.zeros(n_t + 1, np.int64)
    np.cumsum(np.bincount(template, minlength=n_t), out=t_ptr[1:])
    ft = np.unique(family * n_t + template)
    fam_ptr = np.zeros(len(fam_size) + 1, np.int64)
    np.cumsum(np.bincount(ft // n_t, minlength=len(fam_size)), out=fam_ptr[1:])
    return WindowReads(
        n_reads=n,
        start=cols["start"],
        strand=cols["strand"],
        template=template,
        family=family,
        fam_size=fam_size,
        seq_off=cols["seq_off"],
        seq=cols["seq"],
        qual=cols["qual"],
        cig_off=cols["cig_off"],
        cig_op=cols["cig_op"],
        cig_len=cols["cig_len"],
        fam_ptr=fam_ptr,
        fam_tmpl=ft % n_t,
        t_ptr=t_ptr,
        t_reads=t_reads.astype(np.int64),
        warnings=notes,
    )
