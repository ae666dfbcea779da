"""Read simulator: UMI-tagged cfDNA reads from reference slices, aligned by construction.

Model (one call of :func:`simulate_sample`):

1. **Molecules.** Per slice contig, cfDNA fragments of length ~ N(167, 15) bp (clipped to
   [read length, contig length]) start uniformly in the contig; the number of molecules is
   set so that the expected number of *observed* molecules (families with >= 1 read)
   covering the contig's reference position (first spike, else the midpoint) equals
   ``depth`` times the copy-number dosage ``(rho*CN + 2(1-rho))/2``.
2. **Spikes** in molecule space: each molecule covering a spike site carries the alt
   allele with probability ``vaf`` (independently per site); both strands of a duplex
   molecule carry it.
3. **Families.** Single-strand mode: one strand (top/bottom at random) per molecule is
   tagged with a random UMI (read copies carry per-base UMI sequencing errors,
   ``ErrorModel.umi_error``); duplex mode: both strands, ``RX`` = ``A-B`` on the top-strand
   family and ``B-A`` on the bottom one. Reads per family ~ negative binomial
   (mean ``family_size_mean``, shape ``family_size_shape``); empty families are lost.
4. **Errors** (:mod:`kinresist.ngs.simulate_errors`): strand-specific pre-UMI damage per
   family from a site profile shared by all samples of a panel, PCR errors through a
   perfect-doubling genealogy (shared by sub-families), quality-dependent sequencing errors.
5. **Reads.** Paired (F1R2 for top-strand families, F2R1 for bottom) or single-end reads of
   ``read_length`` from the fragment ends, ``{L}M`` CIGARs, MAPQ 60, the UMI in ``RX`` and
   the read-name suffix ``_UMI``; a coordinate-sorted BAM is written and indexed (pysam).

The truth (realised alt/depth molecules per spike) is returned with the BAM path.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np

from kinresist.errors import InputError
from kinresist.ngs.simulate_errors import (
    BASES,
    ErrorModel,
    apply_sequencing_errors,
    encode,
    pcr_error_events,
    sequencing_qualities,
    site_error_profile,
)

__all__ = [
    "DEFAULT_SPIKES",
    "PROFILE_SEED",
    "SimParams",
    "SimulatedSample",
    "SlicePanel",
    "Spike",
    "SpikeTruth",
    "simulate_sample",
]

PROFILE_SEED = 20261122


@dataclass(frozen=True, slots=True)
class Spike:
    """A substitution to spike in (GRCh37 genomic, + strand alleles)."""

    gene: str
    alteration: str
    chrom: str
    pos: int
    ref: str
    alt: str
    vaf: float = 0.0

    def with_vaf(self, vaf: float) -> Spike:
        """The same spike at another VAF."""
        return Spike(self.gene, self.alteration, self.chrom, self.pos, self.ref, self.alt, vaf)


#: Resistance hotspots of the validation suite (knowledge-base spec §4-5, GRCh37).
DEFAULT_SPIKES = (
    Spike("ALK", "G1202R", "chr2", 29443613, "C", "T"),
    Spike("ALK", "L1196M", "chr2", 29443631, "G", "T"),
    Spike("EGFR", "T790M", "chr7", 55249071, "C", "T"),
    Spike("KRAS", "G12C", "chr12", 25398285, "C", "A"),
)


@dataclass(frozen=True, slots=True)
class SpikeTruth:
    """A spike as realised in a simulated sample (molecule space)."""

    spike: Spike
    contig: str
    contig_pos: int  # 1-based
    depth_molecules: int
    alt_molecules: int


@dataclass(frozen=True, slots=True)
class SimParams:
    """Library and sequencing parameters of a simulated sample."""

    depth: int = 2000
    fragment_mean: float = 167.0
    fragment_sd: float = 15.0
    read_length: int = 100
    paired: bool = True
    duplex: bool = False
    umi_length: int = 9
    family_size_mean: float = 6.0
    family_size_shape: float = 2.5
    errors: ErrorModel = field(default_factory=ErrorModel)

    def __post_init__(self) -> None:
        if (
            self.depth < 1
            or self.read_length < 20
            or self.umi_length < 4
            or self.family_size_mean <= 0
        ):
            msg = "SimParams: depth >= 1, read_length >= 20, umi_length >= 4 and family_size_mean > 0 required"
            raise InputError(msg)


@dataclass(frozen=True, slots=True)
class SimulatedSample:
    """A simulated BAM and its truth."""

    bam: Path
    contigs: tuple[str, ...]
    molecules: int
    families: int
    read_pairs: int
    spikes: tuple[SpikeTruth, ...]


@dataclass(frozen=True, slots=True)
class SlicePanel:
    """Reference slices named ``chrN_start_end`` (1-based inclusive) with their genes."""

    fasta: Path
    contigs: tuple[str, ...]
    genes: Mapping[str, str]
    sequences: Mapping[str, str] = field(repr=False)

    @classmethod
    def load(cls, fasta: str | PathLike[str], bed: str | PathLike[str] | None = None) -> SlicePanel:
        """Read the slices; ``bed`` (chrom, start0, end, gene, fasta_contig) names the genes."""
        import pysam

        fa = Path(fasta)
        with pysam.FastaFile(str(fa)) as fh:
            seqs = {name: fh.fetch(name).upper() for name in fh.references}
        genes: dict[str, str] = {}
        if bed is not None:
            for line in Path(bed).read_text(encoding="utf-8").splitlines():
                cols = line.split("\t")
                if line.startswith("#") or len(cols) < 5:
                    continue
                genes[cols[4]] = cols[3]
        return cls(fa, tuple(seqs), genes, seqs)

    def locate(self, chrom: str, pos: int) -> tuple[str, int]:
        """(contig, 1-based contig position) of a genomic position."""
        for name in self.contigs:
            parts = name.rsplit("_", 2)
            if len(parts) == 3 and parts[0] == chrom and int(parts[1]) <= pos <= int(parts[2]):
                return name, pos - int(parts[1]) + 1
        msg = f"{chrom}:{pos} is not covered by any slice of {self.fasta}"
        raise InputError(msg, path=self.fasta)

    def write_bed(self, path: str | PathLike[str], contigs: Sequence[str] | None = None) -> Path:
        """BED of whole contigs in contig coordinates (name = gene) for callers."""
        p = Path(path)
        lines = [
            f"{c}\t0\t{len(self.sequences[c])}\t{self.genes.get(c, c)}"
            for c in (contigs or self.contigs)
        ]
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return p


def _coverage_fraction(length: int, params: SimParams, at: int) -> float:
    """Expected fraction of fragments covering 0-based offset ``at`` (fixed-seed Monte Carlo)."""
    rng = np.random.default_rng(12345)
    f = _fragment_lengths(rng, 20000, length, params)
    s = rng.integers(0, length - f + 1)
    return float(np.mean((s <= at) & (at < s + f)))


def _fragment_lengths(
    rng: np.random.Generator, n: int, length: int, params: SimParams
) -> np.ndarray:
    f = np.rint(rng.normal(params.fragment_mean, params.fragment_sd, size=n)).astype(np.int64)
    return np.clip(f, min(params.read_length, length), length)


def _nb(rng: np.random.Generator, n: int, mean: float, shape: float) -> np.ndarray:
    p = shape / (shape + mean)
    return rng.negative_binomial(shape, p, size=n)


def _read_umis(
    rng: np.random.Generator, n_mol: int, mol_of_read: np.ndarray, length: int, error: float
) -> list[str]:
    """One UMI per molecule, copied to its reads with per-base sequencing errors."""
    codes = rng.integers(0, 4, size=(n_mol, length), dtype=np.uint8)[mol_of_read]
    err = rng.random(codes.shape) < error
    codes[err] = (codes[err] + rng.integers(1, 4, size=int(err.sum()), dtype=np.uint8)) % 4
    raw = BASES[codes].tobytes()
    return [raw[i * length : (i + 1) * length].decode() for i in range(codes.shape[0])]


def _simulate_contig(
    contig: str,
    tid: str,
    seq: str,
    spikes: Sequence[tuple[int, int, Spike]],
    dosage: float,
    params: SimParams,
    profile: np.ndarray,
    rng: np.random.Generator,
) -> tuple[list[tuple[int, str]], int, int, int, list[SpikeTruth]]:
    ref = encode(seq)
    length = ref.size
    at = spikes[0][0] if spikes else length // 2
    p0 = (
        params.family_size_shape / (params.family_size_shape + params.family_size_mean)
    ) ** params.family_size_shape
    p_obs = 1.0 - (p0 * p0 if params.duplex else p0)
    n_mol = round(params.depth * dosage / max(_coverage_fraction(length, params, at), 1e-3) / p_obs)
    flen = _fragment_lengths(rng, n_mol, length, params)
    start = rng.integers(0, length - flen + 1)
    fmax = int(flen.max()) if n_mol else 0
    jj = np.arange(fmax)
    inside = jj[None, :] < flen[:, None]
    pos = np.minimum(start[:, None] + jj[None, :], length - 1)
    mol = np.where(inside, ref[pos], 4).astype(np.int8)
    alt_mol = np.zeros((len(spikes), n_mol), dtype=bool)
    for k, (off, alt_code, spike) in enumerate(spikes):
        cov = (start <= off) & (off < start + flen)
        alt_mol[k] = cov & (rng.random(n_mol) < spike.vaf)
        mol[alt_mol[k], off - start[alt_mol[k]]] = alt_code
    # families
    if params.duplex:
        fam_mol = np.repeat(np.arange(n_mol), 2)
        fam_or = np.tile(np.array([0, 1]), n_mol)
    else:
        fam_mol = np.arange(n_mol)
        fam_or = rng.integers(0, 2, size=n_mol)
    size = _nb(rng, fam_mol.size, params.family_size_mean, params.family_size_shape)
    keep = size > 0
    fam_mol, fam_or, size = fam_mol[keep], fam_or[keep], size[keep]
    n_fam = fam_mol.size
    fam = mol[fam_mol].copy()
    # pre-UMI damage, strand specific
    fpos = pos[fam_mol]
    tot = profile.sum(axis=2)
    hit = (rng.random(fam.shape) < tot[fam_or[:, None], fpos]) & inside[fam_mol] & (fam < 4)
    hi, hj = np.nonzero(hit)
    if hi.size:
        r = profile[fam_or[hi], fpos[hi, hj]]
        cum = np.cumsum(r / r.sum(axis=1, keepdims=True), axis=1)
        fam[hi, hj] = (rng.random(hi.size)[:, None] > cum).sum(axis=1).clip(0, 3)
    # reads (pairs) and PCR errors
    fam_of_read = np.repeat(np.arange(n_fam), size)
    reads = fam[fam_of_read]
    flen_r = flen[fam_mol][fam_of_read]
    for members, off, shift in pcr_error_events(fam_of_read, flen_r, params.errors, rng):
        col = reads[members, off]
        reads[members, off] = np.where(col < 4, (col + shift) % 4, col)
    observed = np.unique(fam_mol)
    truths = []
    for k, (off, _alt, spike) in enumerate(spikes):
        cov = (start[observed] <= off) & (off < start[observed] + flen[observed])
        truths.append(
            SpikeTruth(spike, contig, off + 1, int(cov.sum()), int(alt_mol[k][observed].sum()))
        )
    records = _records(contig, tid, reads, fam_of_read, fam_mol, fam_or, start, flen, params, rng)
    return records, observed.size, n_fam, int(size.sum()), truths


def _records(
    contig: str,
    tid: str,
    reads: np.ndarray,
    fam_of_read: np.ndarray,
    fam_mol: np.ndarray,
    fam_or: np.ndarray,
    start: np.ndarray,
    flen: np.ndarray,
    params: SimParams,
    rng: np.random.Generator,
) -> list[tuple[int, str]]:
    n = reads.shape[0]
    rl = params.read_length
    mol = fam_mol[fam_of_read]
    n_mol = int(fam_mol.max()) + 1 if fam_mol.size else 0
    umi_err = params.errors.umi_error
    umi_a = _read_umis(rng, n_mol, mol, params.umi_length, umi_err)
    umi_b = _read_umis(rng, n_mol, mol, params.umi_length, umi_err) if params.duplex else umi_a
    orient = fam_or[fam_of_read]
    s = start[mol]
    f = flen[mol]
    left_idx = np.arange(rl)[None, :]
    left = reads[np.arange(n)[:, None], left_idx]
    right = reads[np.arange(n)[:, None], (f - rl)[:, None] + left_idx]
    q1 = sequencing_qualities(n, rl, params.errors, rng, read2=False)
    q2 = sequencing_qualities(n, rl, params.errors, rng, read2=True)
    # reference orientation: forward reads keep cycle order, reverse reads are flipped
    top = (orient == 0)[:, None]
    q_left = np.where(top, q1, q2) if params.paired else q1
    q_right = np.where(top, q2[:, ::-1], q1[:, ::-1])
    left = apply_sequencing_errors(left, q_left, rng)
    right = apply_sequencing_errors(right, q_right, rng)
    lseq = BASES_N[left].view(f"S{rl}").ravel()
    rseq = BASES_N[right].view(f"S{rl}").ravel()
    lq = (q_left + 33).astype(np.uint8).view(f"S{rl}").ravel()
    rq = (q_right + 33).astype(np.uint8).view(f"S{rl}").ravel()
    out: list[tuple[int, str]] = []
    cigar = f"{rl}M"
    for i in range(n):
        o = int(orient[i])
        rx = (
            f"{umi_a[i]}-{umi_b[i]}"
            if params.duplex and o == 0
            else (f"{umi_b[i]}-{umi_a[i]}" if params.duplex else umi_a[i])
        )
        name = f"sim{tid}:{i}_{rx}"
        lp, rp = int(s[i]) + 1, int(s[i] + f[i] - rl) + 1
        tl = int(f[i])
        ls, rs_, lqq, rqq = lseq[i].decode(), rseq[i].decode(), lq[i].decode(), rq[i].decode()
        tag = f"RX:Z:{rx}"
        if params.paired:
            # top strand: R1 forward (left), R2 reverse (right); bottom: R1 reverse (right), R2 forward (left)
            lflag, rflag = (99, 147) if o == 0 else (163, 83)
            out.append(
                (
                    lp,
                    f"{name}\t{lflag}\t{contig}\t{lp}\t60\t{cigar}\t=\t{rp}\t{tl}\t{ls}\t{lqq}\t{tag}",
                )
            )
            out.append(
                (
                    rp,
                    f"{name}\t{rflag}\t{contig}\t{rp}\t60\t{cigar}\t=\t{lp}\t{-tl}\t{rs_}\t{rqq}\t{tag}",
                )
            )
        elif o == 0:
            out.append((lp, f"{name}\t0\t{contig}\t{lp}\t60\t{cigar}\t*\t0\t0\t{ls}\t{lqq}\t{tag}"))
        else:
            out.append(
                (rp, f"{name}\t16\t{contig}\t{rp}\t60\t{cigar}\t*\t0\t0\t{rs_}\t{rqq}\t{tag}")
            )
    return out


BASES_N = np.frombuffer(b"ACGTN", dtype=np.uint8)


def simulate_sample(
    panel: SlicePanel,
    *,
    out: str | PathLike[str],
    rng: np.random.Generator,
    params: SimParams | None = None,
    spikes: Sequence[Spike] = (),
    contigs: Sequence[str] | None = None,
    copy_numbers: Mapping[str, float] | None = None,
    tumour_fraction: float = 0.0,
    profile_seed: int = PROFILE_SEED,
    sample: str = "sim",
) -> SimulatedSample:
    """Simulate one sample's UMI reads and write a sorted, indexed BAM.

    Parameters
    ----------
    panel
        Reference slices (:meth:`SlicePanel.load`).
    out
        BAM path (``.bai`` written next to it).
    rng
        Source of randomness of this sample (the site error profile uses ``profile_seed``).
    params
        Depth, fragment, UMI, family-size and error parameters.
    spikes
        Substitutions with their VAF (molecule space).
    contigs
        Slices to simulate (default: those holding spikes, else all).
    copy_numbers, tumour_fraction
        Gene copy numbers of the tumour and its fraction: molecule dosage per contig is
        ``(rho*CN + 2(1-rho))/2``.
    """
    import pysam

    params = params or SimParams()
    located: dict[str, list[tuple[int, int, Spike]]] = {}
    for sp in spikes:
        contig, cpos = panel.locate(sp.chrom, sp.pos)
        ref_base = panel.sequences[contig][cpos - 1]
        if ref_base != sp.ref.upper():
            msg = f"spike {sp.gene} {sp.alteration}: reference base at {sp.chrom}:{sp.pos} is {ref_base}, not {sp.ref}"
            raise InputError(msg, path=panel.fasta)
        if not 0.0 <= sp.vaf <= 1.0:
            msg = f"spike {sp.gene} {sp.alteration}: VAF must be in [0, 1], got {sp.vaf}"
            raise InputError(msg)
        located.setdefault(contig, []).append((cpos - 1, int(encode(sp.alt.upper())[0]), sp))
    chosen = list(contigs) if contigs is not None else (list(located) or list(panel.contigs))
    unknown = [c for c in chosen if c not in panel.sequences]
    if unknown:
        msg = f"contigs {unknown[:3]} are not in the reference {panel.fasta}"
        raise InputError(msg)
    order = {c: i for i, c in enumerate(panel.contigs)}
    chosen.sort(key=order.__getitem__)
    cns = dict(copy_numbers or {})
    records: list[tuple[int, str]] = []
    n_mol = n_fam = n_pairs = 0
    truths: list[SpikeTruth] = []
    for contig in chosen:
        seq = panel.sequences[contig]
        profile = site_error_profile(encode(seq), params.errors, seed=profile_seed + order[contig])
        cn = cns.get(panel.genes.get(contig, ""), 2.0)
        dosage = (tumour_fraction * cn + 2.0 * (1.0 - tumour_fraction)) / 2.0
        recs, m, fa, rp, tr = _simulate_contig(
            contig, str(order[contig]), seq, located.get(contig, []), dosage, params, profile, rng
        )
        recs.sort(key=lambda r: r[0])
        records.extend(recs)
        n_mol, n_fam, n_pairs, truths = n_mol + m, n_fam + fa, n_pairs + rp, truths + tr
    outp = Path(out)
    outp.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "@HD\tVN:1.6\tSO:coordinate\n"
        + "".join(f"@SQ\tSN:{c}\tLN:{len(panel.sequences[c])}\n" for c in panel.contigs)
        + f"@RG\tID:{sample}\tSM:{sample}\n@PG\tID:kinresist-simulate\tPN:kinresist.ngs.simulate\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sam", dir=outp.parent, delete=False) as tmp:
        tmp.write(header)
        tmp.writelines(line + f"\tRG:Z:{sample}\n" for _, line in records)
    try:
        with (
            pysam.AlignmentFile(tmp.name, "r") as src,
            pysam.AlignmentFile(str(outp), "wb", template=src) as dst,
        ):
            for read in src:
                dst.write(read)
    finally:
        Path(tmp.name).unlink()
    pysam.index(str(outp))
    return SimulatedSample(outp, tuple(chosen), n_mol, n_fam, n_pairs, tuple(truths))
