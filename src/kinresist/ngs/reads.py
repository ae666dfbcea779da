"""Reads of one panel window as flat arrays, with UMI family (molecule) ids.

Reads come from ``AlignmentFile.fetch`` (no depth cap); each CIGAR is expanded with numpy into
one observation per aligned base (reference position, base code, quality, read index), and
insertion/deletion events are listed separately. Families: UMI grouping
(:func:`kinresist.ngs.grouping.group_umis`) within each template position key (see
:func:`_family_key`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pysam

from kinresist.errors import InputError
from kinresist.ngs.consensus import N_CODE
from kinresist.ngs.grouping import GroupingParams, group_umis
from kinresist.ngs.umi import umi_of_read

__all__ = ["BASE_LUT", "WindowReads", "collect_window", "dedupe_mates"]

BASE_LUT = np.full(256, N_CODE, dtype=np.int8)
for _i, _b in enumerate("ACGT"):
    BASE_LUT[ord(_b)] = _i
    BASE_LUT[ord(_b.lower())] = _i
_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x800


@dataclass
class WindowReads:
    """Flat per-read and per-aligned-base arrays of one window."""

    n_reads: int
    template: np.ndarray  # template id per read
    family: np.ndarray  # molecule id per read
    strand: np.ndarray  # 0 = forward/A, 1 = reverse/B per read
    fam_size: np.ndarray  # templates per molecule
    obs_read: np.ndarray
    obs_pos: np.ndarray  # 0-based reference position
    obs_base: np.ndarray
    obs_qual: np.ndarray
    events: list[tuple[int, int, str]]  # (read index, anchor 0-based, "I:SEQ" / "D:n")


_CIGAR_RE = re.compile(r"(\d+)([MIDNSHP=X])")


def _unclipped_five_prime(start: int, cigar: list[tuple[str, int]], reverse: bool) -> int:
    """Unclipped 5' end (0-based) of an alignment from its start and (op, length) CIGAR."""
    if reverse:
        end = start + sum(n for op, n in cigar if op in "MDN=X")
        return end + (cigar[-1][1] if cigar and cigar[-1][0] in "SH" else 0) - 1
    return start - (cigar[0][1] if cigar and cigar[0][0] in "SH" else 0)


def _family_key(read: pysam.AlignedSegment, duplex: bool) -> tuple:
    """Template position: unclipped 5' ends of both mates (mate via its ``MC`` tag) + R1 strand.

    Without ``MC`` the pair's leftmost mapped start and |TLEN| stand in; single-end reads use
    their own strand and unclipped 5' end. ``duplex`` drops the strand (both strands of a
    molecule share the key).
    """
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


def collect_window(
    bam: pysam.AlignmentFile, chrom: str, start: int, end: int, gp: GroupingParams
) -> WindowReads:
    duplex = gp.strategy == "paired"
    seqs: list[bytes] = []
    quals: list[bytes] = []
    blk_ref: list[int] = []
    blk_q: list[int] = []
    blk_len: list[int] = []
    blk_read: list[int] = []
    events: list[tuple[int, int, str]] = []
    templates: dict[str, int] = {}
    tmpl: list[int] = []
    keys: list[tuple] = []
    umis: list[str] = []
    strand: list[int] = []
    qoff = 0
    last = -1
    n = 0
    for read in bam.fetch(chrom, start, end):
        if (
            read.flag & _SKIP_FLAGS
            or read.mapping_quality < gp.min_mapq
            or read.query_sequence is None
        ):
            continue
        if read.reference_start < last:
            msg = (
                f"BAM records are out of coordinate order at {chrom}:{read.reference_start + 1}; "
                "run 'samtools sort' and 'samtools index'"
            )
            raise InputError(
                msg,
                path=bam.filename.decode() if isinstance(bam.filename, bytes) else bam.filename,
            )
        last = read.reference_start
        umi = umi_of_read(read, gp.umi_source, tag=gp.umi_tag, sep=gp.umi_sep)
        r1_rev = read.is_reverse if (not read.is_paired or read.is_read1) else read.mate_is_reverse
        if duplex:
            parts = umi.split("-")
            if len(parts) != 2:
                msg = f"read {read.query_name!r}: duplex strategy needs UMIs written 'A-B', got {umi!r}"
                raise InputError(
                    msg,
                    path=bam.filename.decode() if isinstance(bam.filename, bytes) else bam.filename,
                )
            umi = f"{parts[1]}-{parts[0]}" if r1_rev else umi
        keys.append(
            _family_key(read, duplex) if gp.family_key == "position" else ("window", r1_rev)
        )
        umis.append(umi)
        strand.append(int(r1_rev))
        tmpl.append(templates.setdefault(read.query_name or "", len(templates)))
        seq = read.query_sequence.encode("ascii")
        q = read.query_qualities
        seqs.append(seq)
        quals.append(bytes(q) if q is not None else bytes([30]) * len(seq))
        rpos = read.reference_start
        qpos = 0
        for op, length in read.cigartuples or ():
            if op in (0, 7, 8):
                blk_ref.append(rpos)
                blk_q.append(qoff + qpos)
                blk_len.append(length)
                blk_read.append(n)
                rpos += length
                qpos += length
            elif op == 1:
                events.append(
                    (n, rpos - 1, "I:" + read.query_sequence[qpos : qpos + length].upper())
                )
                qpos += length
            elif op == 2:
                events.append((n, rpos - 1, f"D:{length}"))
                rpos += length
            elif op == 3:
                rpos += length
            elif op == 4:
                qpos += length
        qoff += len(seq)
        n += 1
    template = np.asarray(tmpl, dtype=np.int64)
    family, fam_size = _assign_families(keys, umis, template, gp)
    lens = np.asarray(blk_len, dtype=np.int64)
    total = int(lens.sum()) if n else 0
    rep = np.repeat(np.arange(len(lens)), lens)
    within = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens)
    ref_pos = np.asarray(blk_ref, dtype=np.int64)[rep] + within
    qidx = np.asarray(blk_q, dtype=np.int64)[rep] + within
    all_seq = np.frombuffer(b"".join(seqs), dtype=np.uint8)
    all_q = np.frombuffer(b"".join(quals), dtype=np.uint8)
    return WindowReads(
        n_reads=n,
        template=template,
        family=family,
        strand=np.asarray(strand, dtype=np.int8),
        fam_size=fam_size,
        obs_read=np.asarray(blk_read, dtype=np.int64)[rep],
        obs_pos=ref_pos,
        obs_base=BASE_LUT[all_seq[qidx]] if total else np.zeros(0, dtype=np.int8),
        obs_qual=all_q[qidx] if total else np.zeros(0, dtype=np.uint8),
        events=events,
    )


def _assign_families(
    keys: list[tuple], umis: list[str], template: np.ndarray, gp: GroupingParams
) -> tuple[np.ndarray, np.ndarray]:
    """Molecule id per read and templates per molecule (UMI grouping per template position)."""
    by_key: dict[tuple, dict[str, set[int]]] = defaultdict(dict)
    for k, u, t in zip(keys, umis, template.tolist(), strict=True):
        by_key[k].setdefault(u, set()).add(t)
    mol_of: dict[tuple[tuple, str], int] = {}
    sizes: list[int] = []
    for k, per_umi in by_key.items():
        names = list(per_umi)
        counts = [len(per_umi[u]) for u in names]
        for grp in group_umis(
            names,
            counts,
            method=gp.method,
            threshold=gp.threshold,
            max_umis=gp.max_umis_per_position,
        ):
            mid = len(sizes)
            sizes.append(sum(counts[i] for i in grp))
            for i in grp:
                mol_of[(k, names[i])] = mid
    family = np.fromiter(
        (mol_of[(k, u)] for k, u in zip(keys, umis, strict=True)), dtype=np.int64, count=len(keys)
    )
    return family, np.asarray(sizes, dtype=np.int64)


def dedupe_mates(r: WindowReads) -> np.ndarray:
    """Index of observations kept: one per (template, position); disagreeing mates -> N."""
    t = r.template[r.obs_read]
    order = np.lexsort((-r.obs_qual.astype(np.int64), r.obs_pos, t))
    ts, ps = t[order], r.obs_pos[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (ts[1:] != ts[:-1]) | (ps[1:] != ps[:-1])
    base = r.obs_base[order]
    grp = np.cumsum(first) - 1
    # a group disagrees when any base differs from the group's first (highest-quality) base
    lead = base[first][grp]
    bad = np.zeros(int(grp[-1]) + 1 if len(grp) else 0, dtype=bool)
    np.logical_or.at(bad, grp, base != lead)
    kept = order[first]
    r.obs_base = r.obs_base.copy()
    r.obs_base[kept[bad]] = N_CODE
    return kept
