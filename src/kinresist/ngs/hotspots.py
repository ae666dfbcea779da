"""Resistance/bypass hotspot codons and protein-change naming of calls.

The bundled table lists hotspot **codons** (gene, codon, coding strand, GRCh37 position of
the codon's first coding base c.(3k-2), reference codon). Sources:

* GRCh37 positions: ``shared/specs/knowledge-base.md`` sections 4-5 (CIViC-verified alleles,
  GENCODE exon coordinates) and ``known_positions_check.tsv``; every reference codon below was
  read from the real hg19 slices in ``ngs-data/anacore-sardine-inca-amplicons-hg19`` (ALK exon
  22 codons 1151/1152/1156/1171 are not covered there: their codon is read from the user's
  reference at run time).
* GRCh38 = GRCh37 + a gene-constant offset: ALK -222,866, EGFR -67,693, KRAS -152,934,
  MET +359,946 (knowledge-base spec, verified); PIK3CA +282,212 (consistent with the hg38 target
  BED shipped with the SiMSen-Seq data); BRAF +300,200, KIT -866,166, NRAS -542,621 (recalled,
  unverified here).

When the knowledge base (:mod:`kinresist.kb`) can be loaded, its curated alleles are added as
hotspots and its names win for exact allele matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["CODON_TABLE", "Annotation", "Hotspot", "HotspotTable", "default_hotspots", "translate"]

_COMP = str.maketrans("ACGTNacgtn", "TGCANtgcan")

_CODE = {
    a + b + c: aa
    for (a, b, c), aa in zip(
        ((x, y, z) for x in "TCAG" for y in "TCAG" for z in "TCAG"),
        "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
        strict=True,
    )
}

OFFSET_38 = {"ALK": -222_866, "EGFR": -67_693, "KRAS": -152_934, "MET": 359_946, "PIK3CA": 282_212,
             "BRAF": 300_200, "KIT": -866_166, "NRAS": -542_621}  # fmt: skip


def translate(codon: str) -> str:
    """One-letter amino acid of a coding-strand codon (``X`` when it holds N)."""
    return _CODE.get(codon.upper(), "X")


def _rc(seq: str) -> str:
    return seq.translate(_COMP)[::-1]


@dataclass(frozen=True, slots=True)
class Hotspot:
    """A hotspot codon: ``gene``, ``codon``, ``strand``, ``chrom`` and GRCh37 c.(3k-2) position."""

    gene: str
    codon: int
    strand: str
    chrom: str
    c1_grch37: int
    ref_codon: str | None  # coding strand; None: read from the reference at run time
    ref_aa: str

    def c1(self, genome: str) -> int:
        """Genomic position of the codon's first coding base in ``genome``."""
        return self.c1_grch37 + (OFFSET_38[self.gene] if genome == "GRCh38" else 0)

    def positions(self, genome: str) -> tuple[int, int, int]:
        """Genomic positions of coding bases 1, 2, 3."""
        p = self.c1(genome)
        return (p, p + 1, p + 2) if self.strand == "+" else (p, p - 1, p - 2)


# gene, codon, strand, chrom, GRCh37 c.(3k-2), reference codon (coding strand), ref aa
_ROWS = [
    ("ALK", 1151, "-", "chr2", 29445274, None, "T"), ("ALK", 1152, "-", "chr2", 29445271, None, "L"),
    ("ALK", 1156, "-", "chr2", 29445259, None, "C"), ("ALK", 1171, "-", "chr2", 29445214, None, "I"),
    ("ALK", 1174, "-", "chr2", 29443697, "TTC", "F"), ("ALK", 1180, "-", "chr2", 29443679, "GTT", "V"),
    ("ALK", 1196, "-", "chr2", 29443631, "CTG", "L"), ("ALK", 1198, "-", "chr2", 29443625, "CTC", "L"),
    ("ALK", 1202, "-", "chr2", 29443613, "GGA", "G"), ("ALK", 1203, "-", "chr2", 29443610, "GAC", "D"),
    ("ALK", 1206, "-", "chr2", 29443601, "TCC", "S"), ("ALK", 1210, "-", "chr2", 29443589, "GAG", "E"),
    ("ALK", 1269, "-", "chr2", 29432683, "GGA", "G"), ("ALK", 1275, "-", "chr2", 29432665, "CGA", "R"),
    ("EGFR", 719, "+", "chr7", 55241707, "GGC", "G"), ("EGFR", 790, "+", "chr7", 55249070, "ACG", "T"),
    ("EGFR", 797, "+", "chr7", 55249091, "TGC", "C"), ("EGFR", 858, "+", "chr7", 55259514, "CTG", "L"),
    ("EGFR", 861, "+", "chr7", 55259523, "CTG", "L"),
    ("KRAS", 12, "-", "chr12", 25398285, "GGT", "G"), ("KRAS", 13, "-", "chr12", 25398282, "GGC", "G"),
    ("KRAS", 61, "-", "chr12", 25380277, "CAA", "Q"),
    ("PIK3CA", 542, "+", "chr3", 178936082, "GAA", "E"), ("PIK3CA", 545, "+", "chr3", 178936091, "GAG", "E"),
    ("PIK3CA", 1047, "+", "chr3", 178952084, "CAT", "H"),
    ("MET", 1228, "+", "chr7", 116423407, "GAC", "D"), ("MET", 1230, "+", "chr7", 116423413, "TAT", "Y"),
    ("BRAF", 600, "-", "chr7", 140453137, "GTG", "V"), ("KIT", 816, "+", "chr4", 55599320, "GAC", "D"),
    ("NRAS", 12, "-", "chr1", 115258748, "GGT", "G"), ("NRAS", 61, "-", "chr1", 115256530, "CAA", "Q"),
]  # fmt: skip
CODON_TABLE: tuple[Hotspot, ...] = tuple(Hotspot(*row) for row in _ROWS)


@dataclass(frozen=True, slots=True)
class Annotation:
    """Naming of one allele: gene, short alteration, HGVS c., whether it is a hotspot, build."""

    gene: str
    alteration: str
    hgvs_c: str | None
    hotspot: bool
    genome: str | None
    kind: str = "substitution"


def _norm_chrom(chrom: str) -> str:
    c = chrom[3:] if chrom.lower().startswith("chr") else chrom
    return "chr" + c


@dataclass
class HotspotTable:
    """Hotspot codons plus extra hotspot alleles (e.g. from the knowledge base).

    ``extra`` maps ``(genome, chrom, pos, ref, alt)`` to ``(gene, alteration)``.
    """

    codons: tuple[Hotspot, ...] = CODON_TABLE
    extra: dict[tuple[str, str, int, str, str], tuple[str, str]] = field(default_factory=dict)
    source: str = "kinresist bundled hotspot codons"

    def __post_init__(self) -> None:
        self._index: dict[tuple[str, str, int], tuple[Hotspot, int]] = {}
        for h in self.codons:
            for genome in ("GRCh37", "GRCh38"):
                for i, p in enumerate(h.positions(genome)):
                    self._index[(genome, _norm_chrom(h.chrom), p)] = (h, i)
        self._extra_pos = {(g, _norm_chrom(c), p) for (g, c, p, _r, _a) in self.extra}

    def genomes_at(self, chrom: str, pos: int, genome: str | None = None) -> list[str]:
        """Builds in which ``chrom:pos`` is a hotspot base."""
        builds = [genome] if genome else ["GRCh37", "GRCh38"]
        c = _norm_chrom(chrom)
        return [g for g in builds if (g, c, pos) in self._index or (g, c, pos) in self._extra_pos]

    def is_hotspot(self, chrom: str, pos: int, genome: str | None = None) -> bool:
        """Whether a genomic position lies in a hotspot codon (or is a listed hotspot allele)."""
        return bool(self.genomes_at(chrom, pos, genome))

    def annotate(
        self,
        chrom: str,
        pos: int,
        ref: str,
        alt: str,
        *,
        genome: str | None = None,
        fetch: Callable[[int, int], str | None] | None = None,
    ) -> Annotation | None:
        """Gene and protein change of a genomic SNV/indel at a hotspot, or None.

        ``fetch(start, end)`` returns the + strand reference bases at genomic 1-based inclusive
        ``start..end`` (used for codons whose sequence is not bundled and to check the build).
        """
        c = _norm_chrom(chrom)
        if len(ref) != 1 or len(alt) != 1:
            return self._extra_match(c, pos, ref, alt, genome) or self._annotate_indel(
                c, pos, ref, alt, genome
            )
        for g in [genome] if genome else ["GRCh37", "GRCh38"]:
            hit = self._index.get((g, c, pos))
            if hit is None:
                continue
            h, i = hit
            codon = h.ref_codon
            p = h.positions(g)
            if fetch is not None:
                lo, hi = min(p), max(p)
                plus = fetch(lo, hi)
                if plus is not None and len(plus) == 3:
                    codon = plus.upper() if h.strand == "+" else _rc(plus.upper())
            if codon is None or translate(codon) != h.ref_aa:
                continue  # other build, or codon unknown
            base = alt if h.strand == "+" else alt.translate(_COMP)
            ref_c = ref if h.strand == "+" else ref.translate(_COMP)
            if codon[i] != ref_c.upper():
                continue
            new = codon[:i] + base.upper() + codon[i + 1 :]
            aa = translate(new)
            c_pos = 3 * h.codon - 2 + i
            hgvs_c = f"c.{c_pos}{ref_c.upper()}>{base.upper()}"
            if aa == h.ref_aa:
                return Annotation(h.gene, f"{h.ref_aa}{h.codon}=", hgvs_c, True, g, "substitution")
            return Annotation(h.gene, f"{h.ref_aa}{h.codon}{aa}", hgvs_c, True, g)
        return self._extra_match(c, pos, ref, alt, genome)

    def _extra_match(
        self, c: str, pos: int, ref: str, alt: str, genome: str | None
    ) -> Annotation | None:
        """Exact match against the extra (knowledge-base) alleles, VCF-anchored or trimmed."""
        keys = [(pos, ref, alt)]
        if ref and alt and ref[0] == alt[0] and len(ref) != len(alt):
            keys.append((pos + 1, ref[1:], alt[1:]))  # the KB stores indels without the anchor base
        for g in [genome] if genome else ["GRCh37", "GRCh38"]:
            for p, r, a in keys:
                if (g, c, p, r, a) in self.extra:
                    gene, alteration = self.extra[(g, c, p, r, a)]
                    kind = (
                        "substitution"
                        if len(r) == len(a) == 1
                        else ("insertion" if len(a) > len(r) else "deletion")
                    )
                    return Annotation(gene, alteration, None, True, g, kind)
        return None

    def _annotate_indel(
        self, c: str, pos: int, ref: str, alt: str, genome: str | None
    ) -> Annotation | None:
        # in-frame insertion in ALK codons 1151-1152 (T1151dup, "1151Tins")
        if len(alt) - len(ref) != 3 or ref[0] != alt[0]:
            return None
        for g in [genome] if genome else ["GRCh37", "GRCh38"]:
            for h in self.codons:
                if h.gene == "ALK" and h.codon == 1151 and _norm_chrom(h.chrom) == c:
                    lo = h.c1(g) - 6
                    if lo <= pos <= h.c1(g) + 1:
                        return Annotation("ALK", "T1151dup", None, True, g, "insertion")
        return None

    def is_indel_hotspot(self, chrom: str, pos: int, genome: str | None = None) -> bool:
        """Whether an insertion anchored at ``pos`` falls in a hotspot insertion window."""
        return self._annotate_indel(_norm_chrom(chrom), pos, "N", "NNNN", genome) is not None


@lru_cache(maxsize=1)
def _kb_alleles() -> dict[tuple[str, str, int, str, str], tuple[str, str]]:
    """Curated alleles from the knowledge base, when it can be loaded."""
    try:
        from kinresist.kb import load_kb  # type: ignore[attr-defined]

        kb = load_kb()
        alterations: Iterable = kb.alterations.values()
    except Exception:  # noqa: BLE001 - the KB is optional here; the bundled table stands alone
        return {}
    out: dict[tuple[str, str, int, str, str], tuple[str, str]] = {}
    for a in alterations:
        for genome, alleles in (
            ("GRCh37", getattr(a, "grch37", ())),
            ("GRCh38", getattr(a, "grch38", ())),
        ):
            for al in alleles:
                if "N" in al.ref or "N" in al.alt:
                    continue
                out[(genome, _norm_chrom(al.chrom), int(al.pos), al.ref, al.alt)] = (a.gene, a.name)
    return out


def default_hotspots(*, use_kb: bool = True) -> HotspotTable:
    """The bundled hotspot codons, plus the knowledge base's curated alleles when available."""
    extra = dict(_kb_alleles()) if use_kb else {}
    source = "kinresist bundled hotspot codons" + (" + knowledge-base alleles" if extra else "")
    return HotspotTable(extra=extra, source=source)
