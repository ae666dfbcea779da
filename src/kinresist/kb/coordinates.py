"""Genomic <-> cDNA coordinate mapping for the curated transcript segments.

The KB stores, per gene, the CDS segments it has verified (``data/transcripts.yaml``):
the whole ALK CDS (29 exons, NM_004304.5) and the EGFR, KRAS, MET and ROS1 segments
the spec gives. Within a segment, cDNA position and genomic position are linear:

* + strand: ``g = g_start + (c - c_start)``
* - strand: ``g = g_end - (c - c_start)``

and GRCh38 = GRCh37 + ``offset`` (constant across the CDS for the curated genes).
Codon ``k`` covers ``c.3k-2 .. c.3k``. Positions outside every curated segment give
``None``: the KB does not guess.

Example
-------
>>> from kinresist.kb import load_kb
>>> kb = load_kb()
>>> kb.transcript("ALK").to_cds("GRCh37", "2", 29443613)
CdsPosition(gene='ALK', transcript='NM_004304.5', c_pos=3604, codon=1202, codon_pos=1, exon=23)
>>> kb.transcript("ALK").snv_to_hgvs_c("GRCh38", "chr2", 29220747, "C", "T")
'c.3604G>A'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CdsPosition",
    "CdsSegment",
    "Genome",
    "Transcript",
    "normalise_chrom",
    "normalise_genome",
    "revcomp",
]

Genome = Literal["GRCh37", "GRCh38"]

_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")

_GENOME_ALIASES = {
    "grch37": "GRCh37",
    "hg19": "GRCh37",
    "b37": "GRCh37",
    "37": "GRCh37",
    "grch38": "GRCh38",
    "hg38": "GRCh38",
    "38": "GRCh38",
}


def revcomp(seq: str) -> str:
    """Reverse complement of a DNA string (N stays N)."""
    return seq.translate(_COMPLEMENT)[::-1]


def normalise_chrom(chrom: str) -> str:
    """``chr2`` / ``Chr2`` / ``2`` -> ``2``; ``chrM``/``MT`` -> ``MT``."""
    c = str(chrom).strip()
    if c.lower().startswith("chr"):
        c = c[3:]
    if c.upper() in {"M", "MT"}:
        return "MT"
    return c.upper() if c.lower() in {"x", "y"} else c


def normalise_genome(genome: str) -> Genome:
    """``GRCh37``/``hg19``/``b37`` -> ``GRCh37``; ``GRCh38``/``hg38`` -> ``GRCh38``.

    Raises
    ------
    ValueError
        For any other build name.
    """
    key = str(genome).strip().lower()
    if key not in _GENOME_ALIASES:
        msg = f"unknown genome build {genome!r}; expected GRCh37 (hg19) or GRCh38 (hg38)"
        raise ValueError(msg)
    return _GENOME_ALIASES[key]  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class CdsSegment:
    """One curated CDS stretch (usually an exon's coding part), GRCh37 coordinates."""

    exon: int | None
    c_start: int
    c_end: int
    grch37_start: int
    grch37_end: int

    def __post_init__(self) -> None:
        if self.c_end < self.c_start or self.grch37_end < self.grch37_start:
            msg = f"segment bounds reversed: {self}"
            raise ValueError(msg)
        if self.c_end - self.c_start != self.grch37_end - self.grch37_start:
            msg = (
                f"segment c.{self.c_start}-{self.c_end} has "
                f"{self.c_end - self.c_start + 1} bases but its GRCh37 span "
                f"{self.grch37_start}-{self.grch37_end} has "
                f"{self.grch37_end - self.grch37_start + 1}"
            )
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class CdsPosition:
    """A cDNA position with its codon, position in codon (1-3) and exon."""

    gene: str
    transcript: str
    c_pos: int
    codon: int
    codon_pos: int
    exon: int | None


@dataclass(frozen=True, slots=True)
class Transcript:
    """Curated CDS segments of a gene's reference transcript.

    ``complete`` is True when the segments cover the whole CDS (ALK); otherwise
    positions outside them are simply unknown to the KB.
    """

    gene: str
    refseq: str
    chrom: str
    strand: Literal["+", "-"]
    grch37_to_grch38_offset: int
    segments: tuple[CdsSegment, ...]
    complete: bool = False
    source: str = ""
    status: str = "VERIFIED"

    # -- cDNA -> genome -------------------------------------------------
    def _segment_for_c(self, c_pos: int) -> CdsSegment | None:
        for seg in self.segments:
            if seg.c_start <= c_pos <= seg.c_end:
                return seg
        return None

    def _shift(self, genome: Genome) -> int:
        return 0 if genome == "GRCh37" else self.grch37_to_grch38_offset

    def to_genomic(self, genome: str, c_pos: int) -> int | None:
        """Genomic (+ strand, 1-based) position of ``c.<c_pos>``; None if not curated."""
        g = normalise_genome(genome)
        seg = self._segment_for_c(c_pos)
        if seg is None:
            return None
        if self.strand == "+":
            pos37 = seg.grch37_start + (c_pos - seg.c_start)
        else:
            pos37 = seg.grch37_end - (c_pos - seg.c_start)
        return pos37 + self._shift(g)

    def codon_span(self, genome: str, codon: int) -> tuple[int, int] | None:
        """Lowest and highest genomic position of a codon (None if not all curated)."""
        positions = [self.to_genomic(genome, 3 * codon - k) for k in (2, 1, 0)]
        if any(p is None for p in positions):
            return None
        ints = [p for p in positions if p is not None]
        return min(ints), max(ints)

    # -- genome -> cDNA -------------------------------------------------
    def to_cds(self, genome: str, chrom: str, pos: int) -> CdsPosition | None:
        """The cDNA position at a genomic position, or None outside the curated CDS."""
        g = normalise_genome(genome)
        if normalise_chrom(chrom) != self.chrom:
            return None
        pos37 = int(pos) - self._shift(g)
        for seg in self.segments:
            if seg.grch37_start <= pos37 <= seg.grch37_end:
                if self.strand == "+":
                    c_pos = seg.c_start + (pos37 - seg.grch37_start)
                else:
                    c_pos = seg.c_start + (seg.grch37_end - pos37)
                codon = (c_pos + 2) // 3
                return CdsPosition(
                    gene=self.gene,
                    transcript=self.refseq,
                    c_pos=c_pos,
                    codon=codon,
                    codon_pos=c_pos - 3 * (codon - 1),
                    exon=seg.exon,
                )
        return None

    def exon_of_codon(self, codon: int) -> tuple[int, ...]:
        """Exon(s) holding a codon (two when the codon spans a splice junction)."""
        exons: list[int] = []
        for c in (3 * codon - 2, 3 * codon - 1, 3 * codon):
            seg = self._segment_for_c(c)
            if seg is not None and seg.exon is not None and seg.exon not in exons:
                exons.append(seg.exon)
        return tuple(exons)

    def snv_to_hgvs_c(self, genome: str, chrom: str, pos: int, ref: str, alt: str) -> str | None:
        """``c.`` notation of a + strand SNV (``ref``/``alt`` one base each), or None.

        The bases are complemented on a minus-strand gene. Only the cDNA change is
        derived: the protein change needs the reference codon, which the KB knows only
        for curated alterations (match the returned ``c.`` against them).
        """
        if len(ref) != 1 or len(alt) != 1 or ref.upper() == alt.upper():
            return None
        cds = self.to_cds(genome, chrom, pos)
        if cds is None:
            return None
        r, a = ref.upper(), alt.upper()
        if self.strand == "-":
            r, a = revcomp(r), revcomp(a)
        return f"c.{cds.c_pos}{r}>{a}"
