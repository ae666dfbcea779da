"""Molecule counts per panel position: reads -> UMI families -> consensus -> counts.

The BAM is processed one merged panel window at a time (:func:`count_window`): reads are
fetched with ``AlignmentFile.fetch`` (no depth cap: unlike ``pileup()``/``mpileup`` there is no
8,000-read limit) and held as flat arrays (:mod:`kinresist.ngs.reads`, ~300 bytes per read of
the window), families come from :mod:`kinresist.ngs.grouping` rules, and compiled code
(:mod:`kinresist.ngs._molecules`) calls one fgbio-style consensus base per family and position
(:mod:`kinresist.ngs.consensus`) and counts molecules. Memory is bounded by the deepest window,
not by the file. Overlapping mates of one template contribute one observation per position
(agreeing: the higher-quality base; disagreeing: none), so a molecule is never counted twice.

Windows are independent tasks: :func:`count_molecules_many` runs the windows of several BAMs
here or on a Dask cluster (:func:`kinresist.core.distribute.map_ordered`), with the same
results in the same order.

Family key (template position): single-end reads - contig, strand, unclipped 5' end;
paired reads - unclipped 5' ends of both mates (the mate's from its ``MC`` tag; without ``MC``
the leftmost mapped start and |TLEN|) and the read-1 strand (``paired`` duplex strategy: without
the strand, and UMI ``A-B`` of an R1-reverse template read as ``B-A``).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from kinresist.errors import DataQualityWarning, InputError, warn
from kinresist.ngs.consensus import ConsensusParams, _log_tables
from kinresist.ngs.grouping import GroupingParams
from kinresist.ngs.reads import BASE_LUT, WindowReads, collect_window
from kinresist.ngs.regions import Region, check_bam, check_regions, open_reference, read_regions

__all__ = [
    "BASES",
    "MoleculeCounts",
    "WindowCounts",
    "WindowTask",
    "count_molecules",
    "count_molecules_many",
    "count_window",
    "merge_regions",
]

BASES = "ACGT"
INDEL_COLUMNS = ["chrom", "pos", "ref", "alt", "alt_molecules", "fwd", "rev", "duplex",
                 "famsize", "depth_molecules"]  # fmt: skip


@dataclass
class MoleculeCounts:
    """Molecule-level (and raw read-level) base counts at panel positions.

    Arrays have one row per position; base columns are A, C, G, T.

    Attributes
    ----------
    chrom, pos, ref
        Contig, 1-based position, reference base (upper case; N when unknown).
    counts
        Consensus molecules per base (family-size and quality filters passed).
    fwd, rev
        The same split by template strand (read-1 strand; duplex: strand A / strand B calls).
    duplex
        Molecules whose base is supported by both strands (duplex UMIs only).
    famsize
        Sum of family sizes (read templates) of the molecules counted per base.
    raw
        Raw read bases per base (quality >= min input quality), for comparison.
    indels
        One row per indel allele: chrom, pos, ref, alt (VCF-style, anchored),
        alt_molecules, fwd, rev, duplex, famsize, depth_molecules (molecules at the anchor).
    family_sizes
        Family size (read templates) of every family overlapping the panel.
    n_reads
        Reads used (after flag/MAPQ filters).
    """

    chrom: np.ndarray
    pos: np.ndarray
    ref: np.ndarray
    counts: np.ndarray
    fwd: np.ndarray
    rev: np.ndarray
    duplex: np.ndarray
    famsize: np.ndarray
    raw: np.ndarray
    indels: pd.DataFrame
    family_sizes: np.ndarray
    n_reads: int = 0
    parameters: dict = field(default_factory=dict)

    @property
    def depth(self) -> np.ndarray:
        """Molecules with a called base (A/C/G/T) per position."""
        return self.counts.sum(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: chrom, pos, ref, depth_molecules, A..T molecules, raw depth and raw A..T."""
        df = pd.DataFrame(
            {"chrom": self.chrom, "pos": self.pos, "ref": self.ref, "depth_molecules": self.depth}
        )
        for j, b in enumerate(BASES):
            df[b] = self.counts[:, j]
        df["depth_raw"] = self.raw.sum(axis=1)
        for j, b in enumerate(BASES):
            df[f"raw_{b}"] = self.raw[:, j]
        return df

    def family_size_histogram(self) -> pd.DataFrame:
        """Families by size: columns family_size, families."""
        sizes, n = np.unique(self.family_sizes, return_counts=True)
        return pd.DataFrame({"family_size": sizes, "families": n})


def merge_regions(regions: Sequence[Region]) -> list[tuple[str, int, int, list[Region]]]:
    """Overlapping/adjacent regions merged per contig: (chrom, start, end, members)."""
    out: list[tuple[str, int, int, list[Region]]] = []
    for r in sorted(regions, key=lambda r: (r.chrom, r.start, r.end)):
        if out and out[-1][0] == r.chrom and r.start <= out[-1][2]:
            c, s, e, members = out[-1]
            out[-1] = (c, s, max(e, r.end), [*members, r])
        else:
            out.append((r.chrom, r.start, r.end, [r]))
    return out


@dataclass(frozen=True)
class WindowTask:
    """One merged panel window of one BAM: everything :func:`count_window` needs.

    ``members`` are the panel intervals (0-based, half-open) inside the window; ``ref`` the
    window's reference bases (upper case), so a worker needs the BAM but not the FASTA.
    """

    bam: str
    chrom: str
    start: int
    end: int
    members: tuple[tuple[int, int], ...]
    ref: str
    grouping: GroupingParams
    consensus: ConsensusParams
    index: int = 0  # position of the BAM in a multi-BAM run


@dataclass
class WindowCounts:
    """Counts of one window at its panel positions (what a task returns; small)."""

    index: int
    chrom: str
    pos: np.ndarray  # 1-based
    ref: str
    counts: np.ndarray
    fwd: np.ndarray
    rev: np.ndarray
    duplex: np.ndarray
    famsize: np.ndarray
    raw: np.ndarray
    indels: list[dict]
    family_sizes: np.ndarray
    n_reads: int
    width: int
    warnings: list[str]


_HANDLES = threading.local()
_MAX_OPEN = 4


def _open(path: str) -> pysam.AlignmentFile:
    """This thread's open handle on ``path`` (pysam handles are not shared between threads).

    Reused while the file's inode, size and modification time are unchanged (a rewritten
    BAM is reopened); :func:`_close_handles` closes them.
    """
    st = Path(path).stat()
    sig = (st.st_ino, st.st_size, st.st_mtime_ns)
    cache: dict[str, tuple[tuple[int, int, int], pysam.AlignmentFile]] | None
    cache = getattr(_HANDLES, "files", None)
    if cache is None:
        cache = _HANDLES.files = {}
    entry = cache.pop(path, None)
    if entry is not None and entry[0] == sig:
        cache[path] = entry  # most recently used last
        return entry[1]
    if entry is not None:
        entry[1].close()
    while len(cache) >= _MAX_OPEN:
        cache.pop(next(iter(cache)))[1].close()
    fh = pysam.AlignmentFile(path, "rb")
    cache[path] = (sig, fh)
    return fh


def _close_handles() -> None:
    cache = getattr(_HANDLES, "files", None) or {}
    while cache:
        fh = cache.popitem()[1][1]
        with contextlib.suppress(OSError):  # a damaged file also fails to close: said already
            fh.close()


def _count_reads(
    r: WindowReads, ws: int, width: int, cp: ConsensusParams, duplex: bool
) -> tuple[np.ndarray, ...]:
    from kinresist.ngs._molecules import count_families, sure_gap

    lut_err, lut_gain = _log_tables(cp.error_rate_post_umi)
    p_pre = 10.0 ** (-cp.error_rate_pre_umi / 10.0)
    min_q = float(cp.min_consensus_base_quality)
    fam_strand = np.zeros(len(r.fam_size), np.int8)
    if r.n_reads:
        fam_strand[r.family] = r.strand
    return count_families(  # type: ignore[no-any-return]
        ws, width, r.start, r.strand, r.family, r.seq_off, r.seq, r.qual, r.cig_off, r.cig_op,
        r.cig_len, r.fam_ptr, r.fam_tmpl, r.t_ptr, r.t_reads, r.fam_size, fam_strand, BASE_LUT,
        lut_err, lut_gain, int(cp.min_input_base_quality), p_pre, min_q,
        int(cp.min_family_size), float(cp.max_base_error_rate), duplex,
        math.inf if duplex else sure_gap(p_pre, min_q),
    )  # fmt: skip


def _indel_rows(
    r: WindowReads, ref: str, chrom: str, ws: int, we: int, cp: ConsensusParams, depth: np.ndarray
) -> list[dict]:
    """Indel alleles carried by a majority of a family's templates at the anchor.

    A family carries the allele when more than half of its templates that cover the anchor
    (an aligned base there, or the event itself) carry it; rows in first-seen order.
    """
    from kinresist.ngs._families import count_templates, intern_bytes, intern_rows
    from kinresist.ngs._molecules import indel_events, templates_covering

    ev_read, anchor, kind, length, at = indel_events(
        r.start, r.seq_off, r.cig_off, r.cig_op, r.cig_len
    )
    inside = np.flatnonzero((anchor >= ws) & (anchor < we))
    if len(inside) == 0:
        return []
    ev_read, anchor, kind, length, at = (a[inside] for a in (ev_read, anchor, kind, length, at))
    ins = kind == 1
    allele = length.copy()  # deletions: the length; insertions: the inserted bases' id
    if ins.any():
        off = np.zeros(int(ins.sum()) + 1, np.int64)
        np.cumsum(length[ins], out=off[1:])
        idx = np.repeat(at[ins] - off[:-1], length[ins]) + np.arange(int(off[-1]))
        allele[ins], _ = intern_bytes(r.seq[idx], off)
    row, n_rows = intern_rows(np.stack([anchor, kind.astype(np.int64), allele], axis=1))
    fam = r.family[ev_read]
    rf, n_rf = intern_rows(np.stack([row, fam], axis=1))
    carriers, first = count_templates(rf, r.template[ev_read], n_rf)
    rf_row, rf_fam = row[first], fam[first]
    cover = templates_covering(rf_fam, anchor[first], r.family, r.start, r.cig_off, r.cig_op,
                               r.cig_len, r.fam_ptr, r.fam_tmpl, r.t_ptr, r.t_reads)  # fmt: skip
    n_cov = np.maximum(cover, carriers)
    alt = (r.fam_size[rf_fam] >= cp.min_family_size) & (carriers / n_cov > 0.5)
    has = np.zeros((len(r.fam_size), 2), dtype=bool)
    has[r.family, r.strand] = True
    alt_mols = np.bincount(rf_row[alt], minlength=n_rows)
    fsum = np.bincount(rf_row[alt], weights=r.fam_size[rf_fam[alt]], minlength=n_rows)
    fwd = np.bincount(rf_row[alt], weights=has[rf_fam[alt], 0], minlength=n_rows)
    rev = np.bincount(rf_row[alt], weights=has[rf_fam[alt], 1], minlength=n_rows)
    first_ev = np.full(n_rows, -1, np.int64)
    for e in range(len(row) - 1, -1, -1):
        first_ev[row[e]] = e
    rows = []
    for k in np.flatnonzero(alt_mols > 0):
        e = int(first_ev[k])
        a = int(anchor[e])
        anchor_base = ref[a - ws] if 0 <= a - ws < len(ref) else "N"
        if kind[e] == 1:
            seq = r.seq[at[e] : at[e] + length[e]].tobytes().decode()
            vref, valt = anchor_base, anchor_base + seq
        else:
            deleted = ref[a - ws + 1 : a - ws + 1 + int(length[e])]
            vref, valt = anchor_base + deleted, anchor_base
        rows.append({"chrom": chrom, "pos": a + 1, "ref": vref, "alt": valt,
                     "alt_molecules": int(alt_mols[k]), "fwd": int(fwd[k]), "rev": int(rev[k]),
                     "duplex": 0, "famsize": int(fsum[k]),
                     "depth_molecules": int(depth[a - ws])})  # fmt: skip
    return rows


def count_window(task: WindowTask) -> WindowCounts:
    """Molecule counts of one window (pure: the same task gives the same counts anywhere)."""
    gp, cp = task.grouping, task.consensus
    ws, we = task.start, task.end
    width = we - ws
    try:
        r = collect_window(_open(task.bam), task.chrom, ws, we, gp)
    except OSError as exc:  # htslib: a CRC mismatch, a block that does not inflate, a cut file
        msg = (
            f"cannot read the reads at {task.chrom}:{ws + 1}-{we} ({exc}); the BAM is damaged "
            "or truncated: copy it again, or re-create it (samtools sort + samtools index)"
        )
        raise InputError(msg, path=task.bam) from None
    ccount, fwd, rev, dup, fsum, raw = _count_reads(r, ws, width, cp, gp.strategy == "paired")
    mask = np.zeros(width, dtype=bool)
    for s, e in task.members:
        mask[s - ws : e - ws] = True
    sel = np.flatnonzero(mask)
    indels = [row for row in _indel_rows(r, task.ref, task.chrom, ws, we, cp, ccount.sum(axis=1))
              if mask[row["pos"] - 1 - ws]]  # fmt: skip
    return WindowCounts(
        index=task.index,
        chrom=task.chrom,
        pos=sel + ws + 1,
        ref="".join(np.array(list(task.ref), dtype=object)[sel]) if len(task.ref) else "",
        counts=ccount[sel],
        fwd=fwd[sel],
        rev=rev[sel],
        duplex=dup[sel],
        famsize=fsum[sel],
        raw=raw[sel],
        indels=indels,
        family_sizes=r.fam_size,
        n_reads=r.n_reads,
        width=width,
        warnings=list(r.warnings),
    )


def _assemble(parts: list[WindowCounts], gp: GroupingParams, cp: ConsensusParams) -> MoleculeCounts:
    def cat(name: str, dtype: type | None = None) -> np.ndarray:
        arrays = [getattr(p, name) for p in parts]
        if not arrays:
            return np.zeros((0, 4), dtype=np.int64)
        return np.concatenate(arrays)

    chrom = (
        np.concatenate([np.full(len(p.pos), p.chrom, dtype=object) for p in parts])
        if parts
        else np.zeros(0, dtype=object)
    )
    ref = (
        np.concatenate([np.array(list(p.ref), dtype=object) for p in parts])
        if parts
        else np.zeros(0, dtype=object)
    )
    return MoleculeCounts(
        chrom=chrom,
        pos=np.concatenate([p.pos for p in parts]).astype(np.int64)
        if parts
        else np.zeros(0, np.int64),
        ref=ref,
        counts=cat("counts"),
        fwd=cat("fwd"),
        rev=cat("rev"),
        duplex=cat("duplex"),
        famsize=cat("famsize"),
        raw=cat("raw"),
        indels=pd.DataFrame([row for p in parts for row in p.indels], columns=INDEL_COLUMNS),
        family_sizes=np.concatenate([p.family_sizes for p in parts])
        if parts
        else np.zeros(0, dtype=np.int64),
        n_reads=sum(p.n_reads for p in parts),
        parameters={"grouping": gp, "consensus": cp},
    )


def window_tasks(
    bams: Sequence[str | Path],
    regions: Sequence[Region],
    fasta: pysam.FastaFile,
    grouping: GroupingParams,
    consensus: ConsensusParams,
) -> list[WindowTask]:
    """One task per (BAM, merged window), BAMs in the given order, windows sorted."""
    windows = [(c, s, e, tuple((m.start, m.end) for m in members), fasta.fetch(c, s, e).upper())
               for c, s, e, members in merge_regions(regions)]  # fmt: skip
    return [WindowTask(str(Path(bam).absolute()), c, s, e, members, ref, grouping, consensus, i)
            for i, bam in enumerate(bams) for c, s, e, members, ref in windows]  # fmt: skip


def count_molecules_many(
    bams: Sequence[str | Path],
    *,
    regions: str | Path | Sequence[Region],
    reference: str | Path,
    grouping: GroupingParams | None = None,
    consensus: ConsensusParams | None = None,
    progress: Callable[[int, int], None] | None = None,
    dask: str | None = None,
    on_connect: Callable[[str], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> list[MoleculeCounts]:
    """:func:`count_molecules` of several BAMs (same panel), windows of all BAMs as one stream.

    ``dask``: address of a ``dask.distributed`` scheduler whose workers run the windows (they
    must read the BAMs at the same paths); None runs here. The counts are the same either way.
    ``progress(done, total)`` is called per window; ``on_connect`` gets a one-line description
    of the cluster; ``notice`` is told when the compiled kernels have to be compiled first
    (once after installation, see :mod:`kinresist.ngs._jit`).
    """
    from kinresist.core.distribute import map_ordered
    from kinresist.ngs._jit import COMPILE_NOTICE, compile_pending

    gp = grouping or GroupingParams()
    cp = consensus or ConsensusParams()
    regs = read_regions(regions) if isinstance(regions, str | Path) else list(regions)
    fasta = open_reference(reference)
    for bam in bams:
        check_bam(bam, reference=fasta, regions=regs)
    check_regions(regs, fasta, regions if isinstance(regions, str | Path) else None)
    tasks = window_tasks(bams, regs, fasta, gp, cp)
    if notice is not None and tasks and compile_pending():
        notice(COMPILE_NOTICE)
    from kinresist.ngs._htslib import quiet_open

    parts: list[list[WindowCounts]] = [[] for _ in bams]
    done = 0
    # htslib quiet while reading: a damaged block is reported once, by count_window's error
    with quiet_open():
        try:
            for wc in map_ordered(count_window, tasks, dask=dask, on_connect=on_connect):
                for message in wc.warnings:
                    warn(message, DataQualityWarning)
                parts[wc.index].append(wc)
                done += 1
                if progress is not None:
                    progress(done, len(tasks))
        finally:
            _close_handles()
    return [_assemble(p, gp, cp) for p in parts]


def count_molecules(
    bam: str | Path,
    *,
    regions: str | Path | Sequence[Region],
    reference: str | Path,
    grouping: GroupingParams | None = None,
    consensus: ConsensusParams | None = None,
    progress: Callable[[int, int], None] | None = None,
    dask: str | None = None,
) -> MoleculeCounts:
    """Count consensus molecules per base at every position of the panel regions.

    Parameters
    ----------
    bam
        Coordinate-sorted, indexed BAM whose reads carry UMIs.
    regions
        BED path or list of :class:`Region`.
    reference
        Indexed FASTA the reads were aligned to.
    grouping, consensus
        UMI grouping and consensus settings.
    progress
        Called with (windows done, windows total).
    dask
        Scheduler address to run the windows on a Dask cluster (None: here).

    Raises
    ------
    InputError
        Unsorted or unindexed BAM, contigs missing from the reference, reads without UMI.
    """
    return count_molecules_many([bam], regions=regions, reference=reference, grouping=grouping,
                                consensus=consensus, progress=progress, dask=dask)[0]  # fmt: skip
