"""VCF helpers: header metadata (annotation formats, build hints) and KB allele matching.

Used by :mod:`kinresist.interpret.readers.vcf`; see its docstring for the rules.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.finding import Genome
from kinresist.kb.coordinates import normalise_chrom
from kinresist.kb.knowledge_base import normalise_allele
from kinresist.kb.model import Alteration, GenomicAllele

__all__ = ["CHROM_LENGTHS", "Near", "VcfHeader", "kb_match", "parse_meta", "rotation_equivalent"]

#: Lengths of selected chromosomes in each build (for ##contig build detection).
CHROM_LENGTHS: dict[str, dict[str, int]] = {
    "GRCh37": {
        "1": 249250621,
        "2": 243199373,
        "4": 191154276,
        "6": 171115067,
        "7": 159138663,
        "12": 133851895,
        "17": 81195210,
    },
    "GRCh38": {
        "1": 248956422,
        "2": 242193529,
        "4": 190214555,
        "6": 170805979,
        "7": 159345973,
        "12": 133275309,
        "17": 83257441,
    },
}


@dataclass
class VcfHeader:
    """What the ## lines say: CSQ/ANN field names, a build hint, the sample columns."""

    csq_fields: list[str] | None = None
    ann_fields: list[str] | None = None
    build_hint: tuple[Genome, str] | None = None  # (build, why)
    samples: list[str] | None = None
    columns: int = 0


def _build_from_text(text: str) -> Genome | None:
    t = text.lower()
    if re.search(r"grch38|hg38|b38|\bgrch38\b", t):
        return "GRCh38"
    if re.search(r"grch37|hg19|b37|hs37d5|human_g1k_v37", t):
        return "GRCh37"
    return None


def parse_meta(line: str, hdr: VcfHeader) -> None:
    if line.startswith("##INFO=<ID=CSQ"):
        m = re.search(r"Format:\s*([^\"]+)", line)
        if m:
            hdr.csq_fields = [f.strip() for f in m.group(1).split("|")]
    elif line.startswith("##INFO=<ID=ANN"):
        m = re.search(r"'([^']+)'", line)
        if m:
            hdr.ann_fields = [f.strip() for f in m.group(1).split("|")]
    elif line.startswith(("##reference=", "##assembly=")):
        b = _build_from_text(line.split("=", 1)[1])
        if b is not None and hdr.build_hint is None:
            hdr.build_hint = (b, line.strip())
    elif line.startswith("##contig=<"):
        idm = re.search(r"ID=([^,>]+)", line)
        lm = re.search(r"length=(\d+)", line)
        am = re.search(r"assembly=([^,>]+)", line)
        if am and hdr.build_hint is None:
            b = _build_from_text(am.group(1))
            if b is not None:
                hdr.build_hint = (b, line.strip())
        if idm and lm:
            chrom = normalise_chrom(idm.group(1))
            length = int(lm.group(1))
            for build, table in CHROM_LENGTHS.items():
                if table.get(chrom) == length:
                    hdr.build_hint = (build, f"##contig {idm.group(1)} length {length}")  # type: ignore[assignment]
                    return


def rotation_equivalent(q: tuple[int, str, str], s: tuple[int, str, str]) -> bool:
    """Same indel shifted along a repeat: the sequences are rotations by the shift."""
    qpos, qref, qalt = q
    spos, sref, salt = s
    if qref == "" and sref == "" and len(qalt) == len(salt) > 0:
        a, b = salt, qalt
    elif qalt == "" and salt == "" and len(qref) == len(sref) > 0:
        a, b = sref, qref
    else:
        return False
    k = qpos - spos
    n = len(a)
    if k == 0 or abs(k) > n:
        return False
    k %= n
    return b == a[k:] + a[:k]


def kb_match(
    idx: KBIndex, genome: Genome, chrom: str, pos: int, ref: str, alt: str
) -> list[Alteration]:
    hits = idx.find_by_genomic(genome, GenomicAllele(chrom, pos, ref, alt))
    if hits:
        return hits
    q = normalise_allele(pos, ref, alt)
    if q[1] and q[2]:
        return []
    out: list[Alteration] = []
    for stored, alts in idx.genomic_alleles(genome):
        if stored.chrom != chrom or abs(stored.pos - pos) > 60:
            continue
        if rotation_equivalent(q, normalise_allele(stored.pos, stored.ref, stored.alt)):
            out += [a for a in alts if a not in out]
    return out


class Near:
    """KB allele positions per build, for cheap 'is this record near a KB allele' checks."""

    def __init__(self, idx: KBIndex) -> None:
        self.ref: dict[tuple[str, str, int], set[str]] = {}
        self.pos: dict[tuple[str, str], list[int]] = {}
        for build in ("GRCh37", "GRCh38"):
            for stored, _ in idx.genomic_alleles(build):
                self.ref.setdefault((build, stored.chrom, stored.pos), set()).add(
                    stored.ref[:1].upper()
                )
                self.pos.setdefault((build, stored.chrom), []).append(stored.pos)
        for v in self.pos.values():
            v.sort()

    def ref_agrees(self, build: str, chrom: str, pos: int, ref: str) -> bool:
        """A KB allele of ``build`` sits at ``pos`` with the same reference base."""
        return ref[:1].upper() in self.ref.get((build, chrom, pos), set())

    def near(self, build: str, chrom: str, pos: int, window: int = 60) -> bool:
        ps = self.pos.get((build, chrom), [])
        i = bisect.bisect_left(ps, pos - window)
        return i < len(ps) and ps[i] <= pos + window
