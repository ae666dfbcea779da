"""The per-read NumPy molecule counter that the compiled hot path replaced (issue 19), frozen
as a test oracle: the compiled engine must give exactly these counts.

Copied from kinresist.ngs.reads / kinresist.ngs.pileup before issue 19 (git 50bcd05), with
one correction: the indel coverage key was ``family * (width + 1) + offset``, which let a
base of family ``f`` lying ``width + 1`` bp beyond the window alias to the anchor of family
``f + 1`` (so an indel carrier could be outvoted by templates that do not cover the anchor);
the stride is now wide enough (tests/ngs/test_ngs_hotpath.py::test_indel_cover_alias_fixed). Consensus and
grouping use the library's NumPy/Python references (consensus_by_key, combine_duplex,
group_umis), which stay in kinresist.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from kinresist.ngs.consensus import N_CODE, ConsensusParams, combine_duplex, consensus_by_key
from kinresist.ngs.grouping import GroupingParams, group_umis
from kinresist.ngs.pileup import INDEL_COLUMNS, MoleculeCounts, merge_regions
from kinresist.ngs.reads import family_key_of
from kinresist.ngs.regions import open_reference, read_regions
from kinresist.ngs.umi import umi_of_read

BASE_LUT = np.full(256, N_CODE, dtype=np.int8)
for _i, _b in enumerate("ACGT"):
    BASE_LUT[ord(_b)] = _i
    BASE_LUT[ord(_b.lower())] = _i
_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x800


@dataclass
class _Reads:
    n_reads: int
    template: np.ndarray
    family: np.ndarray
    strand: np.ndarray
    fam_size: np.ndarray
    obs_read: np.ndarray
    obs_pos: np.ndarray
    obs_base: np.ndarray
    obs_qual: np.ndarray
    events: list[tuple[int, int, str]]


def _collect(bam, chrom, start, end, gp: GroupingParams) -> _Reads:
    duplex = gp.strategy == "paired"
    seqs, quals, blk_ref, blk_q, blk_len, blk_read = [], [], [], [], [], []
    events: list[tuple[int, int, str]] = []
    templates: dict[str, int] = {}
    tmpl, keys, umis, strand = [], [], [], []
    qoff = n = 0
    for read in bam.fetch(chrom, start, end):
        if (
            read.flag & _SKIP_FLAGS
            or read.mapping_quality < gp.min_mapq
            or read.query_sequence is None
        ):
            continue
        umi = umi_of_read(read, gp.umi_source, tag=gp.umi_tag, sep=gp.umi_sep)
        r1_rev = read.is_reverse if (not read.is_paired or read.is_read1) else read.mate_is_reverse
        if duplex:
            parts = umi.split("-")
            umi = f"{parts[1]}-{parts[0]}" if r1_rev else umi
        keys.append(
            family_key_of(read, duplex) if gp.family_key == "position" else ("window", r1_rev)
        )
        umis.append(umi)
        strand.append(int(r1_rev))
        tmpl.append(templates.setdefault(read.query_name or "", len(templates)))
        seq = read.query_sequence.encode("ascii")
        q = read.query_qualities
        seqs.append(seq)
        quals.append(bytes(q) if q is not None else bytes([30]) * len(seq))
        rpos, qpos = read.reference_start, 0
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
    family, fam_size = _families(keys, umis, template, gp)
    lens = np.asarray(blk_len, dtype=np.int64)
    total = int(lens.sum()) if n else 0
    rep = np.repeat(np.arange(len(lens)), lens)
    within = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens)
    ref_pos = np.asarray(blk_ref, dtype=np.int64)[rep] + within
    qidx = np.asarray(blk_q, dtype=np.int64)[rep] + within
    all_seq = np.frombuffer(b"".join(seqs), dtype=np.uint8)
    all_q = np.frombuffer(b"".join(quals), dtype=np.uint8)
    return _Reads(
        n, template, family, np.asarray(strand, dtype=np.int8), fam_size,
        np.asarray(blk_read, dtype=np.int64)[rep], ref_pos,
        BASE_LUT[all_seq[qidx]] if total else np.zeros(0, dtype=np.int8),
        all_q[qidx] if total else np.zeros(0, dtype=np.uint8), events,
    )  # fmt: skip


def _families(keys, umis, template, gp):
    by_key: dict[tuple, dict[str, set[int]]] = defaultdict(dict)
    for k, u, t in zip(keys, umis, template.tolist(), strict=True):
        by_key[k].setdefault(u, set()).add(t)
    mol_of: dict[tuple[tuple, str], int] = {}
    sizes: list[int] = []
    for k, per_umi in by_key.items():
        names = list(per_umi)
        counts = [len(per_umi[u]) for u in names]
        for grp in group_umis(names, counts, method=gp.method, threshold=gp.threshold,
                              max_umis=gp.max_umis_per_position):  # fmt: skip
            mid = len(sizes)
            sizes.append(sum(counts[i] for i in grp))
            for i in grp:
                mol_of[(k, names[i])] = mid
    family = np.fromiter((mol_of[(k, u)] for k, u in zip(keys, umis, strict=True)),
                         dtype=np.int64, count=len(keys))  # fmt: skip
    return family, np.asarray(sizes, dtype=np.int64)


def _dedupe_mates(r: _Reads) -> np.ndarray:
    t = r.template[r.obs_read]
    order = np.lexsort((-r.obs_qual.astype(np.int64), r.obs_pos, t))
    ts, ps = t[order], r.obs_pos[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (ts[1:] != ts[:-1]) | (ps[1:] != ps[:-1])
    base = r.obs_base[order]
    grp = np.cumsum(first) - 1
    lead = base[first][grp]
    bad = np.zeros(int(grp[-1]) + 1 if len(grp) else 0, dtype=bool)
    np.logical_or.at(bad, grp, base != lead)
    kept = order[first]
    r.obs_base = r.obs_base.copy()
    r.obs_base[kept[bad]] = N_CODE
    return kept


def _count_window(r: _Reads, wstart, wend, cp: ConsensusParams, duplex: bool):
    width = wend - wstart
    if len(r.obs_pos) == 0:
        kept = np.zeros(0, dtype=np.int64)
    elif len(np.unique(r.template)) < r.n_reads:
        kept = _dedupe_mates(r)
    else:
        kept = np.arange(len(r.obs_pos))
    rd, pos = r.obs_read[kept], r.obs_pos[kept]
    inside = (pos >= wstart) & (pos < wend)
    rd, pos = rd[inside], pos[inside]
    base, qual = r.obs_base[kept][inside], r.obs_qual[kept][inside]
    mol = r.family[rd]
    st = r.strand[rd].astype(np.int64) if duplex else np.zeros(len(rd), dtype=np.int64)
    key = ((mol * 2 + st) * width) + (pos - wstart)
    calls = consensus_by_key(key, base, qual, cp, fold_pre_umi=not duplex)
    cpos, cstrand, cmol = calls.key % width, (calls.key // width) % 2, calls.key // width // 2
    if duplex:
        mkey = cmol * width + cpos
        ukey, inv = np.unique(mkey, return_inverse=True)
        ba = np.full(len(ukey), N_CODE, dtype=np.int8)
        bb = ba.copy()
        qa, qb, dep, err = (np.zeros(len(ukey)) for _ in range(4))
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

    def count(w=None):
        return np.bincount(idx, weights=w, minlength=m).reshape(width, 4).astype(np.int64)

    good = (base < N_CODE) & (qual >= cp.min_input_base_quality)
    raw = np.bincount((pos[good] - wstart) * 4 + base[good], minlength=m).reshape(width, 4)
    return count(), count(has_a[ok]), count(has_b[ok]), count(both[ok]), count(size[ok]), raw


def _indel_rows(r: _Reads, ref, chrom, wstart, wend, cp, depth, *, alias: bool = False):
    if not r.events:
        return []
    support: dict[tuple[int, str], dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for rd, anchor, allele in r.events:
        if wstart <= anchor < wend:
            support[(anchor, allele)][int(r.family[rd])].add(int(r.template[rd]))
    if not support:
        return []
    stride = (wend - wstart + 1) if alias else (1 << 40)  # alias=True: the pre-issue-19 key
    cover_key = r.family[r.obs_read] * stride + (r.obs_pos - wstart)
    rows = []
    for (anchor, allele), fams in support.items():
        mols = np.fromiter(fams, dtype=np.int64)
        sel = np.isin(cover_key, mols * stride + (anchor - wstart))
        cov_t: dict[int, set[int]] = defaultdict(set)
        for f, t in zip(r.family[r.obs_read[sel]].tolist(), r.template[r.obs_read[sel]].tolist(),
                        strict=True):  # fmt: skip
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
            deleted = ref[anchor - wstart + 1 : anchor - wstart + 1 + int(val)]
            vref, valt = anchor_base + deleted, anchor_base
        rows.append({"chrom": chrom, "pos": anchor + 1, "ref": vref, "alt": valt,
                     "alt_molecules": alt_mols, "fwd": fwd, "rev": rev, "duplex": 0,
                     "famsize": fsum, "depth_molecules": int(depth[anchor - wstart])})  # fmt: skip
    return rows


def legacy_count_molecules(bam, *, regions, reference, grouping=None, consensus=None,
                           alias: bool = False) -> MoleculeCounts:  # fmt: skip
    """``count_molecules`` as it was (``alias=True``: with the indel coverage-key aliasing)."""
    gp, cp = grouping or GroupingParams(), consensus or ConsensusParams()
    regs = read_regions(regions) if isinstance(regions, str | Path) else list(regions)
    fasta = open_reference(reference)
    parts: dict[str, list] = defaultdict(list)
    indel_rows: list[dict] = []
    fam_sizes, n_reads = [], 0
    with pysam.AlignmentFile(str(bam), "rb") as fh:
        for chrom, ws, we, members in merge_regions(regs):
            ref = fasta.fetch(chrom, ws, we).upper()
            r = _collect(fh, chrom, ws, we, gp)
            n_reads += r.n_reads
            fam_sizes.append(r.fam_size)
            arrays = _count_window(r, ws, we, cp, gp.strategy == "paired")
            mask = np.zeros(we - ws, dtype=bool)
            for m in members:
                mask[m.start - ws : m.end - ws] = True
            sel = np.flatnonzero(mask)
            parts["chrom"].append(np.full(len(sel), chrom, dtype=object))
            parts["pos"].append(sel + ws + 1)
            parts["ref"].append(np.array(list(ref), dtype=object)[sel])
            for name, arr in zip(("counts", "fwd", "rev", "duplex", "famsize", "raw"), arrays,
                                 strict=True):  # fmt: skip
                parts[name].append(arr[sel])
            indel_rows += [row for row in _indel_rows(r, ref, chrom, ws, we, cp,
                                                      arrays[0].sum(axis=1), alias=alias)
                           if mask[row["pos"] - 1 - ws]]  # fmt: skip
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return MoleculeCounts(
        chrom=cat["chrom"], pos=cat["pos"].astype(np.int64), ref=cat["ref"],
        counts=cat["counts"], fwd=cat["fwd"], rev=cat["rev"], duplex=cat["duplex"],
        famsize=cat["famsize"], raw=cat["raw"],
        indels=pd.DataFrame(indel_rows, columns=INDEL_COLUMNS),
        family_sizes=np.concatenate(fam_sizes), n_reads=n_reads,
        parameters={"grouping": gp, "consensus": cp},
    )  # fmt: skip
