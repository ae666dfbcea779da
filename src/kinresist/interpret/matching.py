"""Match one finding against the knowledge base at allele, codon, exon or gene level.

Levels follow PCGR's ``mapping_rank`` semantics, best first:

=====  =========  ==============================================================
rank   level      the KB alteration matched
=====  =========  ==============================================================
1      exact      the same allele / protein change / fusion variant / gene amplification
2      codon      a codon-level KB item at the finding's codon (``G1202X``)
3      exon       an exon-level KB item for the finding's exon (``exon 19 deletion``)
4      gene       a gene-level KB item (``KRAS MUTATION``, ``ALK fusion`` for a variant)
--     none       nothing: the finding is "not in KB (version X)"
=====  =========  ==============================================================

Gene-level items match point mutations only when the KB lists them as a resistance
mechanism (see :func:`_gene_level`). Other KB alterations at the same codon (``G1202R`` for a finding ``G1202K``) are
reported as ``related`` for information only; they never lend their evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.finding import Finding
from kinresist.interpret.names import normalise_cdna, parse_fusion, parse_protein
from kinresist.kb.model import Alteration

__all__ = ["LEVEL_RANK", "AlterationMatch", "FindingMatch", "MatchLevel", "match_finding"]

MatchLevel = Literal["exact", "codon", "exon", "gene", "none"]
LEVEL_RANK: dict[str, int] = {"exact": 1, "codon": 2, "exon": 3, "gene": 4, "none": 5}

_POINT_KINDS = {
    "substitution",
    "insertion",
    "deletion",
    "delins",
    "splice",
    "gene_mutation",
    "codon",
}


@dataclass(frozen=True, slots=True)
class AlterationMatch:
    """One KB alteration matched by a finding, with the level of the match."""

    alteration: Alteration
    level: MatchLevel


@dataclass(frozen=True, slots=True)
class FindingMatch:
    """A finding with everything it matched in the KB."""

    finding: Finding
    matches: tuple[AlterationMatch, ...]
    codon: int | None = None
    exon: int | None = None
    hgvs_c: str | None = None
    related: tuple[Alteration, ...] = field(default_factory=tuple)
    note: str = ""

    @property
    def level(self) -> MatchLevel:
        if not self.matches:
            return "none"
        return min((m.level for m in self.matches), key=LEVEL_RANK.__getitem__)

    def alteration_ids(self) -> set[str]:
        return {m.alteration.id for m in self.matches}

    def level_of(self, alteration_id: str) -> MatchLevel:
        for m in self.matches:
            if m.alteration.id == alteration_id:
                return m.level
        return "none"


def _dedupe(matches: list[AlterationMatch]) -> tuple[AlterationMatch, ...]:
    best: dict[str, AlterationMatch] = {}
    for m in matches:
        cur = best.get(m.alteration.id)
        if cur is None or LEVEL_RANK[m.level] < LEVEL_RANK[cur.level]:
            best[m.alteration.id] = m
    return tuple(sorted(best.values(), key=lambda m: (LEVEL_RANK[m.level], m.alteration.id)))


def _gene_level(idx: KBIndex, gene: str) -> list[AlterationMatch]:
    """Gene-level items (``KRAS MUTATION``) for a point mutation.

    As in PCGR, gene-level items are ignored for point mutations unless the KB lists
    the item as a resistance mechanism itself (``KRAS MUTATION``, ``TP53 MUTATION``:
    any mutation is the biomarker). An ALK mutation absent from the KB is therefore
    "not in KB", not a gene-level match.
    """
    in_mechanism = {a for m in idx.mechanisms for a in m.alterations}
    return [
        AlterationMatch(a, "gene")
        for a in idx.alterations_of_kind(gene, "gene_mutation")
        if a.codon is None and a.id in in_mechanism
    ]


def _exon_of(idx: KBIndex, gene: str, codon: int | None) -> int | None:
    if codon is None:
        return None
    tx = idx.transcript(gene)
    if tx is not None:
        exons = tx.exon_of_codon(codon)
        if exons:
            return int(exons[0])
    for alt in idx.find_at_codon(gene, codon):
        if alt.exon is not None:
            return alt.exon
    return None


def _match_fusion(idx: KBIndex, f: Finding) -> FindingMatch:
    parsed = parse_fusion(f.alteration)
    partner = f.fusion_partner or (parsed.partner if parsed else "") or ""
    variant = f.fusion_variant or (parsed.variant if parsed else None)
    out: list[AlterationMatch] = []
    for alt in idx.alterations_of_kind(f.gene, "fusion"):
        kb_partner = (alt.fusion_partner or "").upper()
        kb_variant = alt.fusion_variant
        if kb_partner and partner and kb_partner != partner.upper():
            continue
        if kb_partner and not partner:
            continue  # KB item is partner-specific; the finding names no partner
        if kb_variant and variant:
            same = kb_variant == variant or (
                variant.startswith(kb_variant) and kb_variant[-1].isdigit()
            )
            if not same:
                continue
            out.append(AlterationMatch(alt, "exact"))
        elif kb_variant and not variant:
            continue  # a variant-specific KB item needs the variant
        elif (kb_partner or "") == (partner or "").upper() and not variant:
            out.append(AlterationMatch(alt, "exact"))
        else:
            out.append(AlterationMatch(alt, "gene"))
    return FindingMatch(f, _dedupe(out))


def _match_amplification(idx: KBIndex, f: Finding) -> FindingMatch:
    out = [AlterationMatch(a, "exact") for a in idx.alterations_of_kind(f.gene, "amplification")]
    return FindingMatch(f, _dedupe(out))


def _match_point(idx: KBIndex, f: Finding) -> FindingMatch:
    gene = f.gene
    exact: list[Alteration] = []
    hgvs_c = normalise_cdna(f.hgvs_c) if f.hgvs_c else None
    # 1. genomic allele (unannotated VCF) and cDNA
    if f.genomic is not None and f.genome is not None:
        exact += [a for a in idx.find_by_genomic(f.genome, f.genomic) if a.gene == gene]
        tx = idx.transcript(gene)
        if hgvs_c is None and tx is not None:
            hgvs_c = tx.snv_to_hgvs_c(
                f.genome, f.genomic.chrom, f.genomic.pos, f.genomic.ref, f.genomic.alt
            )
    if hgvs_c:
        exact += idx.find_by_cdna(gene, hgvs_c)
    # 2. protein change
    pc = parse_protein(f.hgvs_p or "") or parse_protein(f.alteration)
    if pc is not None:
        exact += idx.find_by_name(gene, pc.short)
    else:
        exact += idx.find_by_name(gene, f.alteration)
    codon = pc.codon if pc is not None else None
    if codon is None and exact:
        codon = next((a.codon for a in exact if a.codon is not None), None)
    if codon is None and f.genomic is not None and f.genome is not None:
        tx = idx.transcript(gene)
        if tx is not None:
            cds = tx.to_cds(f.genome, f.genomic.chrom, f.genomic.pos)
            if cds is not None:
                codon = cds.codon
    exon = _exon_of(idx, gene, codon)
    if exon is None:
        exon = next((a.exon for a in exact if a.exon is not None), None)
    matches = [AlterationMatch(a, "exact") for a in exact]
    related: list[Alteration] = []
    if codon is not None:
        for alt in idx.find_at_codon(gene, codon):
            if alt.kind == "codon":
                matches.append(AlterationMatch(alt, "codon"))
            elif alt.id not in {a.id for a in exact}:
                related.append(alt)
    if exon is not None:
        matches += [
            AlterationMatch(a, "exon")
            for a in idx.alterations_of_kind(gene, "exon")
            if a.exon == exon
        ]
    if f.kind in _POINT_KINDS or pc is not None:
        matches += _gene_level(idx, gene)
    if pc is not None and (pc.alt_aa == "*" or pc.short.endswith("fs")):
        # nonsense / frameshift: a loss of function of the gene (NF2 loss)
        matches += [AlterationMatch(a, "gene") for a in idx.alterations_of_kind(gene, "loss")]
    note = ""
    if not matches:
        note = f"not in KB (version {idx.version})"
    allele_level = [
        a for a in exact if a.kind in {"substitution", "insertion", "deletion", "delins", "splice"}
    ]
    if pc is None and len({a.id for a in allele_level}) == 1:
        # a cDNA or genomic finding named by its protein change (c.3604G>A -> G1202R)
        kb_alt = allele_level[0]
        f = replace(
            f,
            alteration=kb_alt.name,
            kind=kb_alt.kind,
            hgvs_p=f.hgvs_p or kb_alt.hgvs_p,
            hgvs_c=hgvs_c or f.hgvs_c,
        )
    if (
        hgvs_c is None
        and len({a.id for a in allele_level}) == 1
        and len(allele_level[0].hgvs_c) == 1
    ):
        hgvs_c = allele_level[0].hgvs_c[0]  # the only cDNA change giving this protein change
    return FindingMatch(
        f,
        _dedupe(matches),
        codon=codon,
        exon=exon,
        hgvs_c=hgvs_c,
        related=tuple(related),
        note=note,
    )


def _match_state(idx: KBIndex, f: Finding, kind: str) -> FindingMatch:
    """Expression / loss findings: the named item exactly, else the gene's items of that kind.

    ``EGFR activation`` is EGFR:ACTIVATION exactly; ``EGFR overexpression`` matches it at
    gene level (any activation/overexpression of the receptor); ``NF2 deletion`` is NF2:LOSS.
    """
    named = [a for a in idx.find_by_name(f.gene, f.alteration) if a.kind == kind]
    if named:
        return FindingMatch(f, _dedupe([AlterationMatch(a, "exact") for a in named]))
    same_kind = idx.alterations_of_kind(f.gene, kind)
    # one state item per gene and kind: "activation", "overexpression", "phospho-" and
    # "upregulation" all name it (ERBB2 OVEREXPRESSION = "HER2 activation" in PMC8448518)
    level: MatchLevel = "exact" if len(same_kind) == 1 else "gene"
    return FindingMatch(f, _dedupe([AlterationMatch(a, level) for a in same_kind]))


def _apply_excludes(m: FindingMatch) -> FindingMatch:
    """Drop codon/exon/gene-level items that exclude an allele the finding matches exactly."""
    exact = {am.alteration.id for am in m.matches if am.level == "exact"}
    kept = tuple(
        am for am in m.matches if am.level == "exact" or not exact & set(am.alteration.excludes)
    )
    if len(kept) == len(m.matches):
        return m
    return FindingMatch(m.finding, kept, m.codon, m.exon, m.hgvs_c, m.related, m.note)


def match_finding(finding: Finding, idx: KBIndex) -> FindingMatch:
    """Everything ``finding`` matches in the KB, each with its level.

    Gene aliases are resolved first (``HER2`` -> ERBB2, ``FAK`` -> PTK2, ``NPM`` -> NPM1 as
    a fusion partner); the returned finding carries the KB symbol.
    """
    gene = idx.canonical_gene(finding.gene)
    partner = idx.canonical_gene(finding.fusion_partner) if finding.fusion_partner else None
    if gene != finding.gene or partner != finding.fusion_partner:
        alteration = finding.alteration
        if finding.kind == "fusion" and finding.fusion_partner and partner:
            alteration = alteration.replace(finding.fusion_partner, partner, 1)
        finding = replace(finding, gene=gene, fusion_partner=partner, alteration=alteration)
    if finding.kind == "fusion":
        m = _match_fusion(idx, finding)
    elif finding.kind == "amplification":
        m = _match_amplification(idx, finding)
    elif finding.kind in {"expression", "loss"}:
        m = _match_state(idx, finding, finding.kind)
    elif finding.kind == "wild_type":
        m = FindingMatch(
            finding,
            _dedupe(
                [
                    AlterationMatch(a, "exact")
                    for a in idx.find_by_name(finding.gene, finding.alteration)
                ]
            ),
        )
    else:
        m = _apply_excludes(_match_point(idx, finding))
    if not m.matches and not m.note:
        m = FindingMatch(
            m.finding,
            m.matches,
            m.codon,
            m.exon,
            m.hgvs_c,
            m.related,
            f"not in KB (version {idx.version})",
        )
    return m
