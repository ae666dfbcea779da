"""The loaded knowledge base and its lookup API.

Build one with :func:`kinresist.kb.load_kb`; every lookup returns the frozen values of
:mod:`kinresist.kb.model` (or ``None`` / an empty tuple when the KB does not know:
"not in KB" is an answer, never a default effect).

Identifiers
-----------
* Alteration ids are ``GENE:NAME``: ``ALK:G1202R``, ``ALK:T1151dup``, ``ALK:G1202X``
  (codon level), ``ALK:EXON23`` (exon level), ``ALK:MUTATION`` (gene level),
  ``ALK:AMPLIFICATION``, ``ALK:EML4-ALK v3`` (fusion variant), ``ALK:EML4-ALK``,
  ``ALK:FUSION`` (any partner).
* Every alteration is also a single-component profile with the same id. Compound
  profiles join component ids with ``+`` in a canonical order:
  ``ALK:C1156Y+ALK:L1198F``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from kinresist.kb.aminoacids import AA3_TO_1
from kinresist.kb.coordinates import CdsPosition, Transcript, normalise_chrom, normalise_genome
from kinresist.kb.model import Alteration, Drug, Evidence, Gene, GenomicAllele, Mechanism, Profile
from kinresist.kb.records import (
    AlterationFrequency,
    InterpretationRule,
    Investigation,
    KBRelease,
    PriorRule,
    SequenceRule,
)

__all__ = ["Conflict", "KnowledgeBase", "alteration_key", "normalise_allele"]

_AA3 = AA3_TO_1
_AA3_RE = re.compile("|".join(_AA3), re.IGNORECASE)
_ALLELE_LEVEL = frozenset({"substitution", "insertion", "deletion", "delins"})


def alteration_key(text: str) -> str:
    """Normalised lookup key of an alteration name, alias or HGVS string.

    ``p.Gly1202Arg``, ``G1202R``, ``g1202r`` -> ``G1202R``; ``c.3604G>A`` -> ``3604G>A``;
    dashes/underscores/spaces are kept but case and ``p.``/``c.`` prefixes are dropped.
    """
    t = text.strip()
    if ":" in t and t.split(":", 1)[0].upper().startswith(("NM_", "NP_", "ENST", "ENSP")):
        t = t.split(":", 1)[1]
    if t[:2].lower() in {"p.", "c."}:
        t = t[2:]
    t = t.strip("()")
    t = _AA3_RE.sub(lambda m: _AA3[m.group(0).capitalize()], t)
    return " ".join(t.split()).upper()


def normalise_allele(
    pos: int, ref: str, alt: str, *, suffix_first: bool = True
) -> tuple[int, str, str]:
    """Trim bases shared by REF and ALT (VCF anchor included).

    ``(29445271, "G", "GCGT")`` -> ``(29445272, "", "CGT")``. This is the representation
    the KB stores for indels whose anchor base is not curated. ``suffix_first`` chooses
    the trimming order (they differ only inside repeats; matching tries both).
    """
    ref, alt = ref.upper(), alt.upper()

    def trim_suffix(r: str, a: str) -> tuple[str, str]:
        while r and a and r[-1] == a[-1] and r[-1] != "N":
            r, a = r[:-1], a[:-1]
        return r, a

    if suffix_first:
        ref, alt = trim_suffix(ref, alt)
    while ref and alt and ref[0] == alt[0] and ref[0] != "N":
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    if not suffix_first:
        ref, alt = trim_suffix(ref, alt)
    return pos, ref, alt


def _bases_match(query: str, stored: str) -> bool:
    return len(query) == len(stored) and all(
        s in ("N", q) for q, s in zip(query, stored, strict=True)
    )


@dataclass(frozen=True, slots=True)
class Conflict:
    """Evidence items on one profile and drug that disagree on the effect."""

    profile: str
    drug: str
    sensitive: tuple[str, ...]  # evidence ids
    resistant: tuple[str, ...]  # evidence ids (resistant or reduced)


class KnowledgeBase:
    """An immutable, indexed knowledge base (use :func:`kinresist.kb.load_kb`)."""

    def __init__(
        self,
        *,
        release: KBRelease,
        genes: Iterable[Gene],
        transcripts: Iterable[Transcript],
        drugs: Iterable[Drug],
        alterations: Iterable[Alteration],
        profiles: Iterable[Profile],
        evidence: Iterable[Evidence],
        mechanisms: Iterable[Mechanism],
        frequencies: Iterable[AlterationFrequency] = (),
        rules: Iterable[InterpretationRule] = (),
        priors: Iterable[PriorRule] = (),
        investigations: Iterable[Investigation] = (),
        sequence: Iterable[SequenceRule] = (),
    ) -> None:
        self.release = release
        self.genes: Mapping[str, Gene] = MappingProxyType({g.symbol: g for g in genes})
        self.transcripts: Mapping[str, Transcript] = MappingProxyType(
            {t.gene: t for t in transcripts}
        )
        self.drugs: Mapping[str, Drug] = MappingProxyType({d.name: d for d in drugs})
        self.alterations: Mapping[str, Alteration] = MappingProxyType(
            {a.id: a for a in alterations}
        )
        self.profiles: Mapping[str, Profile] = MappingProxyType({p.id: p for p in profiles})
        self.evidence: tuple[Evidence, ...] = tuple(evidence)
        self.mechanisms: tuple[Mechanism, ...] = tuple(mechanisms)
        self.frequencies: tuple[AlterationFrequency, ...] = tuple(frequencies)
        self.rules: tuple[InterpretationRule, ...] = tuple(rules)
        self.priors: tuple[PriorRule, ...] = tuple(priors)
        self.investigations: tuple[Investigation, ...] = tuple(investigations)
        self.sequence: tuple[SequenceRule, ...] = tuple(sequence)
        self._build_indexes()

    # ------------------------------------------------------------------ indexes
    def _build_indexes(self) -> None:
        self._gene_alias = {g.symbol.upper(): g.symbol for g in self.genes.values()}
        for g in self.genes.values():
            for alias in g.aliases:
                self._gene_alias.setdefault(alias.upper(), g.symbol)
        self._drug_alias: dict[str, str] = {}
        for drug in self.drugs.values():
            for syn in (drug.name, *drug.synonyms):
                self._drug_alias.setdefault(_drug_key(syn), drug.name)
        names: dict[tuple[str, str], list[str]] = defaultdict(list)
        codons: dict[tuple[str, int], list[str]] = defaultdict(list)
        alleles: dict[tuple[str, str], list[tuple[GenomicAllele, str]]] = defaultdict(list)
        for a in self.alterations.values():
            keys = {a.name, *a.aliases, *(h for h in a.hgvs_c)}
            if a.hgvs_p:
                keys.add(a.hgvs_p)
            for k in keys:
                lst = names[(a.gene, alteration_key(k))]
                if a.id not in lst:
                    lst.append(a.id)
            if a.codon is not None:
                codons[(a.gene, a.codon)].append(a.id)
            for genome, als in (("GRCh37", a.grch37), ("GRCh38", a.grch38)):
                for al in als:
                    alleles[(genome, al.chrom)].append((al, a.id))
        self._names = {k: tuple(v) for k, v in names.items()}
        self._codons = {k: tuple(v) for k, v in codons.items()}
        self._alleles = dict(alleles)
        by_component: dict[str, list[str]] = defaultdict(list)
        for p in self.profiles.values():
            for c in p.components:
                by_component[c].append(p.id)
        self._profiles_by_component = {k: tuple(v) for k, v in by_component.items()}
        by_profile: dict[str, list[Evidence]] = defaultdict(list)
        by_drug: dict[str, list[Evidence]] = defaultdict(list)
        by_eid: dict[str, list[Evidence]] = defaultdict(list)
        for e in self.evidence:
            by_profile[e.profile].append(e)
            for dname in e.drugs:
                by_drug[dname].append(e)
            if e.civic_eid:
                by_eid[e.civic_eid].append(e)
        self._ev_profile = {k: tuple(v) for k, v in by_profile.items()}
        self._ev_drug = {k: tuple(v) for k, v in by_drug.items()}
        self._ev_eid = {k: tuple(v) for k, v in by_eid.items()}

    # ------------------------------------------------------------------ release
    @property
    def version(self) -> str:
        """KB version, including imported overlays (``2026.11.0+civic-2025-10``)."""
        return self.release.version

    @property
    def release_date(self) -> str:
        return self.release.release_date

    # ------------------------------------------------------------------ genes & drugs
    def gene(self, symbol: str) -> Gene | None:
        """Gene by HGNC symbol or alias (case-insensitive: ``FAK`` -> PTK2)."""
        key = self._gene_alias.get(symbol.strip().upper())
        return None if key is None else self.genes[key]

    def transcript(self, gene: str) -> Transcript | None:
        """Curated CDS coordinate frame of a gene (whole CDS for ALK), or None."""
        g = self.gene(gene)
        return None if g is None else self.transcripts.get(g.symbol)

    def drug(self, name: str) -> Drug | None:
        """Drug by generic name or synonym (``PF-06463922`` -> lorlatinib), case-insensitive.

        Combinations are looked up by their name, e.g. ``"alectinib + capmatinib"`` or by
        a class combination such as ``"alk inhibitor + met inhibitor"``.
        """
        key = self._drug_alias.get(_drug_key(name))
        return None if key is None else self.drugs[key]

    # ------------------------------------------------------------------ alterations
    def alteration(self, alteration_id: str) -> Alteration | None:
        """Alteration by id (``ALK:G1202R``)."""
        return self.alterations.get(alteration_id)

    def find_alterations(self, gene: str, name: str) -> tuple[Alteration, ...]:
        """Alterations of ``gene`` whose name, alias, ``p.`` or ``c.`` form equals ``name``.

        Accepts ``G1202R``, ``p.Gly1202Arg``, ``p.G1202R``, ``c.3604G>A``, ``1151Tins``,
        ``T1151dup``, ``G1202X``/``G1202`` (codon level), ``AMPLIFICATION``, ``EML4-ALK v3``.
        Every F1174L cDNA change (c.3522C>A, c.3522C>G, c.3520T>C) finds ALK:F1174L.
        """
        g = self.gene(gene)
        if g is None:
            return ()
        key = alteration_key(name)
        ids = self._names.get((g.symbol, key), ())
        if not ids:
            m = re.fullmatch(r"([A-Z])(\d+)", key)  # bare codon "G1202" -> "G1202X"
            if m:
                ids = self._names.get((g.symbol, key + "X"), ())
        return tuple(self.alterations[i] for i in ids)

    def alterations_at_codon(self, gene: str, codon: int) -> tuple[Alteration, ...]:
        """Allele-level alterations (substitutions, indels) at a codon, by name."""
        g = self.gene(gene)
        if g is None:
            return ()
        ids = self._codons.get((g.symbol, int(codon)), ())
        alts = [self.alterations[i] for i in ids if self.alterations[i].kind in _ALLELE_LEVEL]
        return tuple(sorted(alts, key=lambda a: a.name))

    def codon_alteration(self, gene: str, codon: int) -> Alteration | None:
        """The codon-level item (``ALK:G1202X``: any change at codon 1202), if curated."""
        g = self.gene(gene)
        if g is None:
            return None
        for i in self._codons.get((g.symbol, int(codon)), ()):
            if self.alterations[i].kind == "codon":
                return self.alterations[i]
        return None

    def exon_alterations(self, gene: str, exon: int) -> tuple[Alteration, ...]:
        """Exon-level items: ``EXON 23 MUTATION`` or exon classes (``EXON 19 DELETION``)."""
        g = self.gene(gene)
        if g is None:
            return ()
        return tuple(
            a
            for a in self.alterations.values()
            if a.gene == g.symbol and a.exon == exon and a.codon is None and a.kind != "fusion"
        )

    def gene_alterations(self, gene: str, kind: str = "gene_mutation") -> tuple[Alteration, ...]:
        """Gene-level items of a kind: ``gene_mutation`` (default), ``amplification``,
        ``expression``, ``fusion``, ``wild_type``."""
        g = self.gene(gene)
        if g is None:
            return ()
        return tuple(a for a in self.alterations.values() if a.gene == g.symbol and a.kind == kind)

    def amplification(self, gene: str) -> Alteration | None:
        """The ``GENE:AMPLIFICATION`` item, or None."""
        amps = self.gene_alterations(gene, "amplification")
        return amps[0] if amps else None

    def fusions(
        self, gene: str, *, partner: str | None = None, variant: str | None = None
    ) -> tuple[Alteration, ...]:
        """Fusion items of a (3') kinase gene, most specific first.

        ``fusions("ALK", partner="EML4", variant="v3")`` -> (EML4-ALK v3, EML4-ALK,
        ALK fusion); ``variant="v3a"`` also matches the v3 item (CIViC does not split v3a/b).
        """
        out: list[tuple[int, Alteration]] = []
        for a in self.gene_alterations(gene, "fusion"):
            if a.fusion_partner is None and a.fusion_variant is None:
                out.append((2, a))
            elif partner is not None and (a.fusion_partner or "").upper() == partner.upper():
                if a.fusion_variant is None:
                    out.append((1, a))
                elif variant is not None and _variant_matches(variant, a.fusion_variant):
                    out.append((0, a))
        return tuple(a for _, a in sorted(out, key=lambda t: (t[0], t[1].id)))

    def alterations_by_genomic(
        self, genome: str, chrom: str, pos: int, ref: str, alt: str
    ) -> tuple[Alteration, ...]:
        """Alterations whose curated allele equals this one (exact allele match).

        ``ref``/``alt`` may carry a VCF anchor base; both sides are trimmed with
        :func:`normalise_allele` before comparison, and ``N`` in a curated allele matches
        any base. Left-normalise the query first (the KB stores left-normalised alleles).
        """
        g = normalise_genome(genome)
        c = normalise_chrom(chrom)
        queries = {normalise_allele(int(pos), ref, alt, suffix_first=o) for o in (True, False)}
        hits: list[str] = []
        for al, aid in self._alleles.get((g, c), ()):
            spos, sref, salt = normalise_allele(al.pos, al.ref, al.alt)
            for qpos, qref, qalt in queries:
                if spos == qpos and _bases_match(qref, sref) and _bases_match(qalt, salt):
                    if aid not in hits:
                        hits.append(aid)
        return tuple(self.alterations[i] for i in hits)

    def locate(self, genome: str, chrom: str, pos: int) -> tuple[CdsPosition, ...]:
        """cDNA positions (gene, c., codon, exon) of a genomic position in curated CDS."""
        out = []
        for t in self.transcripts.values():
            cds = t.to_cds(genome, chrom, pos)
            if cds is not None:
                out.append(cds)
        return tuple(out)

    # ------------------------------------------------------------------ profiles & evidence
    def profile(self, profile_id: str) -> Profile | None:
        return self.profiles.get(profile_id)

    def profiles_with(self, alteration_id: str) -> tuple[Profile, ...]:
        """Every profile (single and compound) that contains an alteration."""
        return tuple(self.profiles[p] for p in self._profiles_by_component.get(alteration_id, ()))

    def profile_for(self, components: Iterable[str]) -> Profile | None:
        """The profile made of exactly these alteration ids (order-free), or None."""
        wanted = frozenset(components)
        for p in self.profiles.values():
            if frozenset(p.components) == wanted:
                return p
        return None

    def evidence_for_profile(self, profile_id: str) -> tuple[Evidence, ...]:
        """Evidence items attached to a profile (exactly that profile, not its parts)."""
        return self._ev_profile.get(profile_id, ())

    def evidence_for_drug(self, drug: str) -> tuple[Evidence, ...]:
        """Evidence items naming a drug (also inside combinations)."""
        d = self.drug(drug)
        return () if d is None else self._ev_drug.get(d.name, ())

    def evidence_by_eid(self, eid: str | int) -> tuple[Evidence, ...]:
        """Items carrying a CIViC EID (``"EID1350"`` or ``1350``)."""
        key = str(eid) if str(eid).startswith("EID") else f"EID{eid}"
        return self._ev_eid.get(key, ())

    def conflicts(self) -> tuple[Conflict, ...]:
        """Profile x drug pairs with both sensitive and resistant/reduced evidence."""
        groups: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(
            lambda: {"s": [], "r": []}
        )
        for e in self.evidence:
            key = (e.profile, " + ".join(e.drugs))
            groups[key]["s" if e.effect == "sensitive" else "r"].append(e.id)
        return tuple(
            Conflict(p, d, tuple(v["s"]), tuple(v["r"]))
            for (p, d), v in sorted(groups.items())
            if v["s"] and v["r"]
        )

    # ------------------------------------------------------------------ mechanisms
    def mechanism(self, mechanism_id: str) -> Mechanism | None:
        return next((m for m in self.mechanisms if m.id == mechanism_id), None)

    def mechanisms_for_alteration(self, alteration_id: str) -> tuple[Mechanism, ...]:
        """Mechanisms that list an alteration (e.g. ``MET:AMPLIFICATION`` -> MET bypass)."""
        return tuple(m for m in self.mechanisms if alteration_id in m.alterations)

    def mechanisms_by_category(self, category: str) -> tuple[Mechanism, ...]:
        return tuple(m for m in self.mechanisms if m.category == category)

    def investigations_for(self, applies_to: str) -> tuple[Investigation, ...]:
        """Investigations for a classification, a mechanism id, ``cell_line`` or ``any``.

        Mechanisms also carry their own list (:attr:`Mechanism.investigations`).
        """
        return tuple(i for i in self.investigations if i.applies_to == applies_to)

    def rules_for(self, classification: str) -> tuple[InterpretationRule, ...]:
        """Interpretation rules (spec 12.4) that apply to a case classification."""
        return tuple(r for r in self.rules if r.applies_to == classification)

    def frequencies_for(self, subject: str) -> tuple[AlterationFrequency, ...]:
        """Reported frequency ranges of an alteration id or mechanism id."""
        return tuple(f for f in self.frequencies if f.subject == subject)

    def __repr__(self) -> str:
        return (
            f"KnowledgeBase(version={self.version!r}, alterations={len(self.alterations)}, "
            f"profiles={len(self.profiles)}, evidence={len(self.evidence)})"
        )


def _drug_key(name: str) -> str:
    return re.sub(r"[\s\-_]+", "", name.strip().lower())


def _variant_matches(query: str, stored: str) -> bool:
    q, s = query.strip().lower(), stored.strip().lower()
    if not q.startswith("v"):
        q = "v" + q
    return q == s or (q[:-1] == s and q[-1] in "ab" and s[-1].isdigit())
