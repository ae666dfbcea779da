"""Small random UMI BAMs with everything awkward a real one can hold, for engine-vs-oracle tests.

Per molecule: a family of templates (Poisson 3) sharing a UMI (10 % of templates with a UMI
error, 2 % one base longer), single-end or paired (with or without ``MC``; duplex ``A-B`` UMIs
written ``B-A`` on the reverse strand), random CIGARs with soft/hard clips, insertions,
deletions, ``N`` skips and ``=``/``X`` blocks, N and lower-case bases, missing quality strings,
MAPQ 0-60, secondary and duplicate flags, mate-unmapped flags, reused read names, UMIs in the
``RX`` tag or the read name. Three BED intervals, two of them overlapping.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pysam

_QUALS = np.array([2, 8, 12, 20, 30, 35, 37, 40])


def _cigar(rng: np.random.Generator, length: int) -> list[tuple[int, int]]:
    """Random CIGAR consuming exactly ``length`` query bases."""
    ops: list[tuple[int, int]] = []
    q = length
    if rng.random() < 0.2:
        ops.append((5, int(rng.integers(1, 5))))
    if rng.random() < 0.3:
        s = int(rng.integers(1, min(10, q - 5)))
        ops.append((4, s))
        q -= s
    tail: list[tuple[int, int]] = []
    if rng.random() < 0.3:
        s = int(rng.integers(1, min(10, q - 5)))
        tail.append((4, s))
        q -= s
    if rng.random() < 0.15:
        tail.append((5, int(rng.integers(1, 5))))
    while q > 0:
        m = int(min(q, rng.integers(3, 40)))
        ops.append((int(rng.choice([0, 0, 0, 7, 8])), m))
        q -= m
        if q > 2 and rng.random() < 0.25:
            x = rng.random()
            if x < 0.4:
                i = int(rng.integers(1, min(4, q)))
                ops.append((1, i))
                q -= i
            elif x < 0.8:
                ops.append((2, int(rng.integers(1, 4))))
            else:
                ops.append((3, int(rng.integers(5, 30))))
    return ops + tail


def _cigar_str(ops: list[tuple[int, int]]) -> str:
    return "".join(f"{n}{'MIDNSHP=X'[o]}" for o, n in ops)


def _ref_span(ops: list[tuple[int, int]]) -> int:
    return sum(n for o, n in ops if o in (0, 2, 3, 7, 8))


def _read(rng, ref, name, start, ops, umi, flag, mate):
    a = pysam.AlignedSegment()
    qlen = sum(n for o, n in ops if o in (0, 1, 4, 7, 8))
    seq: list[str] = []
    rp = start
    for o, n in ops:
        if o in (0, 7, 8):
            seq.extend(ref[rp : rp + n])
            rp += n
        elif o in (1, 4):
            seq.extend(rng.choice(list("ACGTN"), size=n))
        elif o in (2, 3):
            rp += n
    seq += ["A"] * (qlen - len(seq))
    for i in range(len(seq)):
        x = rng.random()
        if x < 0.01:
            seq[i] = "N"
        elif x < 0.03:
            seq[i] = "ACGT"[int(rng.integers(0, 4))]
        elif x < 0.035:
            seq[i] = seq[i].lower()
    a.query_sequence = "".join(seq)
    if rng.random() < 0.05:
        a.query_qualities = None
    else:
        a.query_qualities = pysam.qualitystring_to_array(
            "".join(chr(33 + int(q)) for q in rng.choice(_QUALS, size=qlen))
        )
    a.reference_id = 0
    a.reference_start = start
    a.cigartuples = ops
    a.mapping_quality = int(rng.choice([0, 5, 20, 60, 60, 60]))
    if mate is not None:
        a.next_reference_id = 0
        a.next_reference_start, a.template_length, mc = mate
        if mc is not None:
            a.set_tag("MC", mc)
    a.flag = flag
    if rng.random() < 0.5:
        a.set_tag("RX", umi)
        a.query_name = name
    else:
        a.query_name = f"{name}_{umi}"
    return a


def write_awkward_bam(
    path: str | Path,
    rng: np.random.Generator,
    *,
    n_molecules: int = 40,
    contig_length: int = 600,
    paired: bool = False,
    mc_tags: bool = True,
    duplex: bool = False,
    umi_length: int = 6,
    p_weird: float = 0.05,
) -> tuple[Path, Path, Path]:
    """Write BAM (+ index), FASTA (+ fai) and BED; return their paths."""
    path = Path(path)
    ref = "".join(rng.choice(list("ACGT"), size=contig_length))
    fa = path.with_suffix(".fa")
    fa.write_text(f">c1\n{ref}\n")
    pysam.faidx(str(fa))
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "c1", "LN": contig_length}]}
    recs = []
    for m in range(n_molecules):
        start = int(rng.integers(5, contig_length - 250))
        frag = int(rng.integers(80, 220))
        code = "".join(
            "ACGT"[x] for x in rng.integers(0, 4, size=umi_length * (2 if duplex else 1))
        )
        umi0 = f"{code[:umi_length]}-{code[umi_length:]}" if duplex else code
        length = int(rng.integers(40, 90))
        fixed = [_cigar(rng, length), _cigar(rng, length)] if rng.random() < 0.7 else None
        for t in range(int(max(1, rng.poisson(3)))):
            name = f"m{m}t0" if rng.random() < p_weird else f"m{m}t{t}"
            umi = umi0
            if rng.random() < 0.1:
                k = int(rng.integers(0, len(umi)))
                if umi[k] != "-":
                    umi = umi[:k] + "ACGT"[int(rng.integers(0, 4))] + umi[k + 1 :]
            if rng.random() < 0.02:
                umi += "A"
            r1_rev = bool(rng.integers(0, 2))
            if duplex and r1_rev and umi.count("-") == 1:
                a_, b_ = umi.split("-")
                umi = f"{b_}-{a_}"
            n = length if fixed is not None else int(rng.integers(40, 90))
            spec: list[tuple[int, int, list[tuple[int, int]], tuple | None]] = []
            if paired:  # forward read at the start, reverse read at the end of the fragment
                ops = [fixed[k] if fixed else _cigar(rng, n) for k in (0, 1)]
                starts = [start, max(0, start + frag - _ref_span(ops[1]))]
                for k in (0, 1):
                    is_r1 = k == int(r1_rev)
                    flag = 0x1 | (0x40 if is_r1 else 0x80) | (0x10 if k == 1 else 0x20)
                    flag |= 0x8 if rng.random() < p_weird else 0
                    mc = _cigar_str(ops[1 - k]) if mc_tags and rng.random() > p_weird else None
                    spec.append((flag, starts[k], ops[k], (starts[1 - k], frag * (1 - 2 * k), mc)))
            else:
                shift = int(rng.integers(0, 3)) * (rng.random() < 0.2)
                spec.append((0x10 if r1_rev else 0, start + shift, _cigar(rng, n), None))
            for flag, s, ops_k, mate in spec:
                x = rng.random()
                flag |= 0x100 if x < p_weird else (0x400 if x < 2 * p_weird else 0)
                recs.append(_read(rng, ref, name, s, ops_k, umi, flag, mate))
    recs.sort(key=lambda a: a.reference_start)
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for a in recs:
            out.write(a)
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(str(path))
    bed = path.with_suffix(".bed")
    lo = int(rng.integers(0, 100))
    hi = int(rng.integers(lo + 50, contig_length - 10))
    mid = int(rng.integers(lo, hi))
    bed.write_text(
        f"c1\t{lo}\t{mid}\tA\nc1\t{mid - int(rng.integers(0, 20))}\t{hi}\tB\n"
        f"c1\t{min(hi + 30, contig_length - 5)}\t{contig_length - 2}\tC\n"
    )
    return path, bed, fa
