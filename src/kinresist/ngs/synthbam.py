"""Small synthetic UMI BAMs written with pysam (tests and the benchmark).

Not the realistic simulator (that is :mod:`kinresist.ngs.simulate*`): molecules start at
random positions of one contig, each molecule yields ``family_size`` reads carrying its UMI
(``RX`` tag, or ``A-B`` duplex UMIs on read pairs from both strands), an optional variant is
present in a chosen fraction of molecules, and raw reads get i.i.d. substitution errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

__all__ = ["SyntheticSpec", "write_synthetic_bam"]

_B = np.frombuffer(b"ACGT", dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class SyntheticSpec:
    """What to simulate (positions 0-based on ``contig``)."""

    contig: str
    reference: str
    n_molecules: int
    read_length: int = 100
    family_size: float = 4.0  # Poisson mean (at least 1)
    umi_length: int = 8
    error_rate: float = 0.002
    variant_pos: int | None = None
    variant_alt: str = "T"
    variant_fraction: float = 0.0
    insertion: str = (
        ""  # if set (single-end only): mutant molecules carry this insertion after variant_pos
    )
    duplex: bool = False  # read pairs, UMI "A-B", both strands of each molecule
    fragment_length: int = 160
    start_range: tuple[int, int] | None = None


def write_synthetic_bam(
    path: str | Path, spec: SyntheticSpec, *, rng: np.random.Generator
) -> dict[str, int]:
    """Write a coordinate-sorted, indexed BAM; return {"reads": n, "molecules": m, "mutant": k}."""
    path = Path(path)
    ref = np.frombuffer(spec.reference.upper().encode(), dtype=np.uint8)
    L = spec.read_length
    frag = spec.fragment_length if spec.duplex else L
    lo, hi = spec.start_range or (0, len(ref) - frag)
    if lo < 0 or hi > len(ref) - frag or hi < lo:
        msg = f"start_range {lo}-{hi} must lie within 0-{len(ref) - frag} for {frag}-bp fragments"
        raise ValueError(msg)
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": spec.contig, "LN": len(ref)}]}
    starts = rng.integers(lo, hi + 1, size=spec.n_molecules)
    sizes = np.maximum(rng.poisson(spec.family_size, size=spec.n_molecules), 1)
    mutant = rng.random(spec.n_molecules) < spec.variant_fraction
    umis = rng.integers(0, 4, size=(spec.n_molecules, spec.umi_length * (2 if spec.duplex else 1)))
    records: list[tuple[int, pysam.AlignedSegment]] = []
    unsorted = path.with_suffix(".unsorted.bam")
    n_reads = 0
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for m in range(spec.n_molecules):
            s = int(starts[m])
            mol = ref[s : s + frag].copy()
            if (
                mutant[m]
                and not spec.insertion
                and spec.variant_pos is not None
                and s <= spec.variant_pos < s + frag
            ):
                mol[spec.variant_pos - s] = ord(spec.variant_alt)
            u = _B[umis[m]].tobytes().decode()
            strands = (0, 1) if spec.duplex else (int(rng.integers(0, 2)),)
            for strand in strands:
                n_fam = (
                    int(sizes[m])
                    if not spec.duplex
                    else max(int(rng.poisson(spec.family_size / 2)), 1)
                )
                for r in range(n_fam):
                    name = f"m{m}s{strand}r{r}"
                    if spec.duplex:
                        a, b = u[: spec.umi_length], u[spec.umi_length :]
                        umi = f"{a}-{b}" if strand == 0 else f"{b}-{a}"
                        for mate in (1, 2):
                            left = (mate == 1) == (strand == 0)
                            seg = mol[:L] if left else mol[frag - L :]
                            pos = s if left else s + frag - L
                            rec = _segment(out, name, seg, pos, not left, umi, rng, spec.error_rate)
                            rec.flag |= (
                                0x1 | 0x2 | (0x40 if mate == 1 else 0x80) | (0x20 if left else 0x10)
                            )
                            rec.next_reference_id = 0
                            rec.next_reference_start = s + frag - L if left else s
                            rec.template_length = frag if left else -frag
                            rec.set_tag("MC", f"{L}M")
                            records.append((pos, rec))
                            n_reads += 1
                    else:
                        cigar = None
                        read_seq = mol[:L]
                        if spec.insertion and mutant[m] and spec.variant_pos is not None:
                            a = spec.variant_pos - s + 1
                            if 0 < a < L - len(spec.insertion):
                                ins = np.frombuffer(spec.insertion.encode(), dtype=np.uint8)
                                read_seq = np.concatenate([mol[:a], ins, mol[a:]])[:L]
                                cigar = [(0, a), (1, len(ins)), (0, L - a - len(ins))]
                        rec = _segment(
                            out, name, read_seq, s, bool(strand), u, rng, spec.error_rate, cigar
                        )
                        records.append((s, rec))
                        n_reads += 1
        records.sort(key=lambda t: t[0])
        for _, rec in records:
            out.write(rec)
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(str(path))
    return {"reads": n_reads, "molecules": spec.n_molecules, "mutant": int(mutant.sum())}


def _segment(
    out: pysam.AlignmentFile, name: str, seq: np.ndarray, pos: int, reverse: bool, umi: str,
    rng: np.random.Generator, error_rate: float, cigar: list[tuple[int, int]] | None = None,
) -> pysam.AlignedSegment:  # fmt: skip
    seq = seq.copy()
    err = rng.random(len(seq)) < error_rate
    if err.any():
        shift = rng.integers(1, 4, size=int(err.sum()))
        idx = np.searchsorted(_B, seq[err])
        seq[err] = _B[(idx + shift) % 4]
    rec = pysam.AlignedSegment(out.header)
    rec.query_name = name
    rec.query_sequence = seq.tobytes().decode()
    rec.flag = 0x10 if reverse else 0
    rec.reference_id = 0
    rec.reference_start = pos
    rec.mapping_quality = 60
    rec.cigartuples = cigar or [(0, len(seq))]
    rec.query_qualities = pysam.qualitystring_to_array("I" * len(seq))
    rec.set_tag("RX", umi)
    return rec
