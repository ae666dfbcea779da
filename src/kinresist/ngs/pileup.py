"""Molecule counts per panel position: reads -> UMI families -> consensus -> counts.

Reads are fetched per merged panel window with ``AlignmentFile.fetch`` (no depth cap:
unlike ``pileup()``/``mpileup`` there is no 8,000-read limit), their CIGARs are expanded
with numpy into one observation per aligned base, families come from
:mod:`kinresist.ngs.grouping`, and :mod:`kinresist.ngs.consensus` calls one base per
family and position. Overlapping mates of one template contribute one observation per
position (agreeing: the higher-quality base; disagreeing: none), so a molecule is never
counted twice.

Family key (template position): single-end reads - contig, strand, unclipped 5' end;
paired reads - unclipped 5' ends of both mates (the mate's from its ``MC`` tag; without ``MC``
the leftmost mapped start and |TLEN|) and the read-1 strand (``paired`` duplex strategy: without
the strand, and UMI ``A-B`` of an R1-reverse template read as ``B-A``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from kinresist.ngs.consensus import N_CODE, ConsensusParams, combine_duplex, consensus_by_key
from kinresist.ngs.grouping import GroupingParams
from kinresist.ngs.reads import WindowReads, collect_window, dedupe_mates
from kinresist.ngs.regions import Region, check_bam, open_reference, read_regions

__all__ = ["BASES", "MoleculeCounts", "count_molecules", "merge_regions"]

BASES = "ACGT"


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


def _count_window(
    r: WindowReads, ref: str, chrom: str, wstart: int, wend: int, cp: ConsensusParams, duplex: bool
) -> tuple[np.ndarray, ...]:
    width = wend - wstart
    if len(r.obs_pos) == 0:
        kept = np.zeros(0, dtype=np.int64)
    elif len(np.unique(r.template)) < r.n_reads:  # mates present: one observation per template
        kept = dedupe_mates(r)
    else:
        kept = np.arange(len(r.obs_pos))
    rd = r.obs_read[kept]
    pos = r.obs_pos[kept]
    inside = (pos >= wstart) & (pos < wend)
    rd, pos = rd[inside], pos[inside]
    base, qual = r.obs_base[kept][inside], r.obs_qual[kept][inside]
    mol = r.family[rd]
    st = r.strand[rd].astype(np.int64) if duplex else np.zeros(len(rd), dtype=np.int64)
    key = ((mol * 2 + st) * width) + (pos - wstart)
    calls = consensus_by_key(key, base, qual, cp, fold_pre_umi=not duplex)
    cpos = calls.key % width
    cstrand = (calls.key // width) % 2
    cmol = calls.key // width // 2
    ccount = np.zeros((width, 4), dtype=np.int64)
    fwd = np.zeros((width, 4), dtype=np.int64)
    rev = np.zeros((width, 4), dtype=np.int64)
    dup = np.zeros((width, 4), dtype=np.int64)
    fsum = np.zeros((width, 4), dtype=np.int64)
    if duplex:
        mkey = cmol * width + cpos
        ukey, inv = np.unique(mkey, return_inverse=True)
        ba = np.full(len(ukey), N_CODE, dtype=np.int8)
        bb = ba.copy()
        qa = np.zeros(len(ukey))
        qb = qa.copy()
        dep = np.zeros(len(ukey))
        err = np.zeros(len(ukey))
        a = cstrand == 0
        ba[inv[a]], qa[inv[a]] = calls.base[a], calls.qual[a]
        bb[inv[~a]], qb[inv[~a]] = calls.base[~a], calls.qual[~a]
        np.add.at(dep, inv, calls.depth)
        np.add.at(err, inv, calls.errors)
        fbase, _q = combine_duplex(ba, qa, bb, qb, cp)
        fmol, fpos = ukey // width, ukey % width
        both = (ba < N_CODE) & (bb < N_CODE) & (ba == bb)
        has_a, has_b = ba == fbase, bb == fbase
    else:
        fbase, fmol, fpos, dep, err = calls.base, cmol, cpos, calls.depth, calls.errors
        both = np.zeros(len(fbase), dtype=bool)
        mstrand = np.zeros(len(r.fam_size), dtype=np.int64)
        if len(rd):
            mstrand[r.family[rd]] = r.strand[rd]
        has_b = mstrand[fmol] == 1
        has_a = ~has_b
    size = r.fam_size[fmol] if len(fmol) else np.zeros(0, dtype=np.int64)
    ok = (
        (fbase < N_CODE)
        & (size >= cp.min_family_size)
        & (err <= cp.max_base_error_rate * np.maximum(dep, 1))
    )
    idx = fpos[ok] * 4 + fbase[ok].astype(np.int64)
    m = width * 4
    ccount += np.bincount(idx, minlength=m).reshape(width, 4)
    fwd += np.bincount(idx, weights=has_a[ok], minlength=m).reshape(width, 4).astype(np.int64)
    rev += np.bincount(idx, weights=has_b[ok], minlength=m).reshape(width, 4).astype(np.int64)
    dup += np.bincount(idx, weights=both[ok], minlength=m).reshape(width, 4).astype(np.int64)
    fsum += np.bincount(idx, weights=size[ok], minlength=m).reshape(width, 4).astype(np.int64)
    good = (base < N_CODE) & (qual >= cp.min_input_base_quality)
    raw = np.bincount((pos[good] - wstart) * 4 + base[good], minlength=m).reshape(width, 4)
    # per-position molecule depth used by indel calling
    return ccount, fwd, rev, dup, fsum, raw


def _indel_rows(
    r: WindowReads,
    ref: str,
    chrom: str,
    wstart: int,
    wend: int,
    cp: ConsensusParams,
    depth: np.ndarray,
) -> list[dict]:
    """Indel alleles carried by a majority of a family's templates at the anchor."""
    if not r.events:
        return []
    # templates per family covering each anchor position
    support: dict[tuple[int, str], dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for rd, anchor, allele in r.events:
        if wstart <= anchor < wend:
            support[(anchor, allele)][int(r.family[rd])].add(int(r.template[rd]))
    if not support:
        return []
    cover_key = r.family[r.obs_read] * (wend - wstart + 1) + (r.obs_pos - wstart)
    rows = []
    for (anchor, allele), fams in support.items():
        mols = np.fromiter(fams, dtype=np.int64)
        ck = mols * (wend - wstart + 1) + (anchor - wstart)
        sel = np.isin(cover_key, ck)
        cov_t: dict[int, set[int]] = defaultdict(set)
        for f, t in zip(
            r.family[r.obs_read[sel]].tolist(), r.template[r.obs_read[sel]].tolist(), strict=True
        ):
            cov_t[f].add(t)
        alt_mols = fwd = rev = fsum = 0
        for f, ts in fams.items():
            n_cov = max(len(cov_t.get(f, ())), len(ts))
            if r.fam_size[f] >= cp.min_family_size and len(ts) / n_cov > 0.5:
                alt_mols += 1
                fsum += int(r.fam_size[f])
                strands = r.strand[np.flatnonzero(r.family == f)]
                fwd += int((strands == 0).any())
                rev += int((strands == 1).any())
        if alt_mols == 0:
            continue
        anchor_base = ref[anchor - wstart] if 0 <= anchor - wstart < len(ref) else "N"
        kind, val = allele.split(":", 1)
        if kind == "I":
            vref, valt = anchor_base, anchor_base + val
        else:
            n_del = int(val)
            deleted = ref[anchor - wstart + 1 : anchor - wstart + 1 + n_del]
            vref, valt = anchor_base + deleted, anchor_base
        rows.append(
            {
                "chrom": chrom,
                "pos": anchor + 1,
                "ref": vref,
                "alt": valt,
                "alt_molecules": alt_mols,
                "fwd": fwd,
                "rev": rev,
                "duplex": 0,
                "famsize": fsum,
                "depth_molecules": int(depth[anchor - wstart]),
            }
        )
    return rows


def count_molecules(
    bam: str | Path,
    *,
    regions: str | Path | Sequence[Region],
    reference: str | Path,
    grouping: GroupingParams | None = None,
    consensus: ConsensusParams | None = None,
    progress: Callable[[int, int], None] | None = None,
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

    Raises
    ------
    InputError
        Unsorted or unindexed BAM, contigs missing from the reference, reads without UMI.
    """
    gp = grouping or GroupingParams()
    cp = consensus or ConsensusParams()
    regs = read_regions(regions) if isinstance(regions, str | Path) else list(regions)
    fasta = open_reference(reference)
    check_bam(bam, reference=fasta, regions=regs)
    duplex = gp.strategy == "paired"
    parts: dict[str, list] = defaultdict(list)
    indel_rows: list[dict] = []
    fam_sizes: list[np.ndarray] = []
    n_reads = 0
    windows = merge_regions(regs)
    with pysam.AlignmentFile(str(bam), "rb") as fh:
        for w, (chrom, ws, we, members) in enumerate(windows):
            ref = fasta.fetch(chrom, ws, we).upper()
            r = collect_window(fh, chrom, ws, we, gp)
            n_reads += r.n_reads
            fam_sizes.append(r.fam_size)
            ccount, fwd, rev, dup, fsum, raw = _count_window(r, ref, chrom, ws, we, cp, duplex)
            mask = np.zeros(we - ws, dtype=bool)
            for m in members:
                mask[m.start - ws : m.end - ws] = True
            sel = np.flatnonzero(mask)
            parts["chrom"].append(np.full(len(sel), chrom, dtype=object))
            parts["pos"].append(sel + ws + 1)
            parts["ref"].append(
                np.array(list(ref), dtype=object)[sel] if len(ref) else np.zeros(0, dtype=object)
            )
            for name, arr in (
                ("counts", ccount),
                ("fwd", fwd),
                ("rev", rev),
                ("duplex", dup),
                ("famsize", fsum),
                ("raw", raw),
            ):
                parts[name].append(arr[sel])
            indel_rows += [
                row
                for row in _indel_rows(r, ref, chrom, ws, we, cp, ccount.sum(axis=1))
                if mask[row["pos"] - 1 - ws]
            ]
            if progress is not None:
                progress(w + 1, len(windows))
    cols = [
        "chrom",
        "pos",
        "ref",
        "alt",
        "alt_molecules",
        "fwd",
        "rev",
        "duplex",
        "famsize",
        "depth_molecules",
    ]
    return MoleculeCounts(
        chrom=np.concatenate(parts["chrom"]),
        pos=np.concatenate(parts["pos"]).astype(np.int64),
        ref=np.concatenate(parts["ref"]),
        counts=np.concatenate(parts["counts"]),
        fwd=np.concatenate(parts["fwd"]),
        rev=np.concatenate(parts["rev"]),
        duplex=np.concatenate(parts["duplex"]),
        famsize=np.concatenate(parts["famsize"]),
        raw=np.concatenate(parts["raw"]),
        indels=pd.DataFrame(indel_rows, columns=cols),
        family_sizes=np.concatenate(fam_sizes) if fam_sizes else np.zeros(0, dtype=np.int64),
        n_reads=n_reads,
        parameters={"grouping": gp, "consensus": cp},
    )
