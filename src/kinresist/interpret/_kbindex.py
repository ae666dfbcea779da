"""Private adapter: the lookups the engine needs, built from any KnowledgeBase object.

The engine depends only on the value types of :mod:`kinresist.kb.model` and on a KB
object exposing its collections (``alterations``, ``profiles``, ``evidence``,
``drugs``, ``mechanisms``, ``genes``; each a mapping or a sequence) and a version.
Building the indices here keeps the engine independent of the loader's query API
and lets tests pass small fixture KBs made of model dataclasses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kinresist.interpret.names import normalise_cdna, parse_fusion, parse_protein
from kinresist.kb.knowledge_base import normalise_allele
from kinresist.kb.model import (
    Alteration,
    Drug,
    Evidence,
    Gene,
    GenomicAllele,
    Mechanism,
    Profile,
)

__all__ = ["KBIndex"]


def _bases_match(query: str, stored: str) -> bool:
    return len(query) == len(stored) and all(
        s in ("N", q) for q, s in zip(query, stored, strict=True)
    )


def _values(obj: Any) -> list[Any]:
    if obj is None:
        return []
    if callable(obj) and not isinstance(obj, Mapping):
        obj = obj()
    if isinstance(obj, Mapping):
        return list(obj.values())
    return list(obj)


def _key(text: str) -> str:
    return " ".join(text.strip().upper().split())


@dataclass
class KBIndex:
    """Indices over one knowledge base (built once per interpretation)."""

    version: str
    release_date: str | None
    genes: dict[str, Gene]
    drugs: dict[str, Drug]
    alterations: dict[str, Alteration]
    profiles: dict[str, Profile]
    evidence: list[Evidence]
    mechanisms: list[Mechanism]
    kb: Any = None
    rules: list[Any] = field(default_factory=list)
    priors: list[Any] = field(default_factory=list)
    frequencies: list[Any] = field(default_factory=list)
    sequence: list[Any] = field(default_factory=list)
    by_name: dict[tuple[str, str], list[Alteration]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_cdna: dict[tuple[str, str], list[Alteration]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_codon: dict[tuple[str, int], list[Alteration]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_genomic: dict[tuple[str, GenomicAllele], list[Alteration]] = field(
        default_factory=lambda: defaultdict(list)
    )
    profiles_by_alt: dict[str, list[Profile]] = field(default_factory=lambda: defaultdict(list))
    evidence_by_profile: dict[str, list[Evidence]] = field(
        default_factory=lambda: defaultdict(list)
    )
    drug_alias: dict[str, str] = field(default_factory=dict)
    gene_alias: dict[str, str] = field(default_factory=dict)
    _trimmed: dict[tuple[str, str, int], list[tuple[str, str, list[Alteration]]]] | None = None
    _transcripts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_kb(cls, kb: Any) -> KBIndex:
        """Index a KnowledgeBase (or any object with the same collections)."""
        version = getattr(kb, "version", None)
        if callable(version):
            version = version()
        release = getattr(kb, "release_date", None) or getattr(kb, "released", None)
        idx = cls(
            version=str(version) if version is not None else "unknown",
            release_date=None if release is None else str(release),
            genes={g.symbol: g for g in _values(getattr(kb, "genes", None))},
            drugs={d.name: d for d in _values(getattr(kb, "drugs", None))},
            alterations={a.id: a for a in _values(getattr(kb, "alterations", None))},
            profiles={p.id: p for p in _values(getattr(kb, "profiles", None))},
            evidence=list(_values(getattr(kb, "evidence", None))),
            mechanisms=list(_values(getattr(kb, "mechanisms", None))),
            kb=kb,
            rules=list(_values(getattr(kb, "rules", None))),
            priors=list(_values(getattr(kb, "priors", None))),
            frequencies=list(_values(getattr(kb, "frequencies", None))),
            sequence=list(_values(getattr(kb, "sequence", None))),
        )
        idx._build()
        return idx

    def _build(self) -> None:
        for alt in self.alterations.values():
            names = {alt.name, *alt.aliases}
            if alt.hgvs_p:
                names.add(alt.hgvs_p)
            keys: set[str] = set()
            for n in names:
                keys.add(_key(n))
                pc = parse_protein(n)
                if pc is not None:
                    keys.add(_key(pc.short))
                if alt.kind == "fusion":
                    fn = parse_fusion(n)
                    if fn is not None:
                        keys.add(_key(fn.short))
            for k in keys:
                self.by_name[(alt.gene, k)].append(alt)
            for c in (*alt.hgvs_c, *(a for a in alt.aliases if a.strip().startswith("c."))):
                self.by_cdna[(alt.gene, normalise_cdna(c))].append(alt)
            if alt.codon is not None:
                self.by_codon[(alt.gene, alt.codon)].append(alt)
            for allele in alt.grch37:
                self.by_genomic[("GRCh37", allele)].append(alt)
            for allele in alt.grch38:
                self.by_genomic[("GRCh38", allele)].append(alt)
        for prof in self.profiles.values():
            for comp in prof.components:
                self.profiles_by_alt[comp].append(prof)
        for ev in self.evidence:
            self.evidence_by_profile[ev.profile].append(ev)
        for drug in self.drugs.values():
            self.drug_alias[drug.name.lower()] = drug.name
            for syn in drug.synonyms:
                self.drug_alias.setdefault(syn.lower(), drug.name)
        for gene in self.genes.values():
            self.gene_alias[gene.symbol.upper()] = gene.symbol
        for gene in self.genes.values():
            for alias in gene.aliases:
                self.gene_alias.setdefault(alias.upper(), gene.symbol)

    # ------------------------------------------------------------------ lookups
    def find_by_name(self, gene: str, name: str) -> list[Alteration]:
        """Alterations of ``gene`` called ``name`` (short form, alias or HGVS p.)."""
        return list(self.by_name.get((gene, _key(name)), []))

    def find_by_cdna(self, gene: str, hgvs_c: str) -> list[Alteration]:
        return list(self.by_cdna.get((gene, normalise_cdna(hgvs_c)), []))

    def find_at_codon(self, gene: str, codon: int) -> list[Alteration]:
        return list(self.by_codon.get((gene, codon), []))

    def find_by_genomic(self, genome: str, allele: GenomicAllele) -> list[Alteration]:
        """KB alterations with this allele, both sides trimmed of shared bases first."""
        if self._trimmed is None:
            self._trimmed = defaultdict(list)
            for (g, stored), alts in self.by_genomic.items():
                spos, sref, salt = normalise_allele(stored.pos, stored.ref, stored.alt)
                self._trimmed[(g, stored.chrom, spos)].append((sref, salt, alts))
        qpos, qref, qalt = normalise_allele(allele.pos, allele.ref, allele.alt)
        out: list[Alteration] = []
        for sref, salt, alts in self._trimmed.get((genome, allele.chrom, qpos), []):
            if _bases_match(qref, sref) and _bases_match(qalt, salt):
                out += [a for a in alts if a not in out]
        return out

    def genomic_alleles(self, genome: str) -> Iterable[tuple[GenomicAllele, list[Alteration]]]:
        for (g, allele), alts in self.by_genomic.items():
            if g == genome:
                yield allele, alts

    def alterations_of_kind(self, gene: str, *kinds: str) -> list[Alteration]:
        return [a for a in self.alterations.values() if a.gene == gene and a.kind in kinds]

    def transcript(self, gene: str) -> Any:
        """The KB's coordinate frame for ``gene`` (None when the KB has none); cached."""
        if gene in self._transcripts:
            return self._transcripts[gene]
        getter = getattr(self.kb, "transcript", None)
        tx = None
        if getter is not None:
            try:
                tx = getter(gene)
            except Exception:  # noqa: BLE001 - a KB without that transcript answers None
                tx = None
        self._transcripts[gene] = tx
        return tx

    def canonical_gene(self, symbol: str) -> str:
        """The KB's symbol for a gene name or alias (``HER2`` -> ``ERBB2``); unknown unchanged."""
        return self.gene_alias.get(symbol.strip().upper(), symbol)

    def drug_name(self, name: str) -> str | None:
        """Canonical drug name for a name or synonym (case-insensitive)."""
        return self.drug_alias.get(name.strip().lower())

    def mechanisms_for(self, alteration_ids: Iterable[str], gene: str) -> list[Mechanism]:
        ids = set(alteration_ids)
        out = [m for m in self.mechanisms if ids & set(m.alterations)]
        return out
