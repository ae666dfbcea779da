"""Per-drug calls: profile hits -> units -> evidence -> one call per drug (rules in :mod:`.rules`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.matching import LEVEL_RANK, FindingMatch
from kinresist.interpret.result import DrugCall, EvidenceRef
from kinresist.interpret.rules import UnitCall, call_from_evidence, combine_units
from kinresist.kb.model import Evidence, Profile

__all__ = [
    "POINT_KINDS",
    "Hit",
    "Unit",
    "build_units",
    "call_drug",
    "drug_key",
    "in_resistance_region",
    "profile_hits",
]

POINT_KINDS = {
    "substitution",
    "insertion",
    "deletion",
    "delins",
    "splice",
    "codon",
    "gene_mutation",
    "exon",
}


@dataclass(frozen=True, slots=True)
class Hit:
    """A KB profile all of whose components the sample carries."""

    profile: Profile
    precision: str
    findings: frozenset[int]


@dataclass(frozen=True, slots=True)
class Unit:
    """Findings judged together: a maximal compound profile, or one finding."""

    label: str
    findings: frozenset[int]
    compound: Hit | None


def profile_hits(matches: Sequence[FindingMatch], idx: KBIndex) -> list[Hit]:
    where: dict[str, list[tuple[int, str]]] = {}
    for i, m in enumerate(matches):
        for am in m.matches:
            where.setdefault(am.alteration.id, []).append((i, am.level))
    seen: set[str] = set()
    hits: list[Hit] = []
    for alt_id in where:
        for prof in idx.profiles_by_alt.get(alt_id, []):
            if prof.id in seen:
                continue
            seen.add(prof.id)
            if not all(c in where for c in prof.components):
                continue
            levels = [
                min((lv for _, lv in where[c]), key=LEVEL_RANK.__getitem__) for c in prof.components
            ]
            precision = max(levels, key=LEVEL_RANK.__getitem__)
            fidx = frozenset(i for c in prof.components for i, _ in where[c])
            if prof.is_compound and len(fidx) < len(prof.components):
                continue  # one finding cannot stand for two components
            hits.append(Hit(prof, precision, fidx))
    return hits


def _evidence_ref(ev: Evidence, prof: Profile, precision: str, drug: str) -> EvidenceRef:
    return EvidenceRef(
        id=ev.id,
        profile=prof.id,
        profile_name=prof.name,
        precision=precision,
        drug=drug,
        effect=ev.effect,
        level=ev.level,
        status=ev.status,
        source=ev.source,
        model_system=ev.model_system,
        pmid=ev.pmid,
        civic_eid=ev.civic_eid,
        disease=ev.disease,
        ic50_nm=ev.ic50_nm,
        fold_vs_wt=ev.fold_vs_wt,
        note=ev.note,
    )


_ON_TARGET_MECHANISMS = {"on_target_mutation", "on_target_amplification"}


def _resists(entry: str, drug: str, d: Any) -> bool:
    """Does a mechanism's ``resists`` entry (``"alectinib"``, ``"ALK TKIs"``) cover ``drug``?"""
    e = entry.strip().lower()
    if e == drug:
        return True
    words = e.rstrip("s").split()
    if d is not None and len(words) == 2 and words[1] in {"tki", "inhibitor"}:
        cls = d.drug_class.lower()
        return words[0].upper() in {t.upper() for t in d.targets} and (
            "tki" in cls or "inhibitor" in cls
        )
    return False


def drug_key(ev: Evidence) -> str:
    return " + ".join(ev.drugs).lower()


def _evidence_for(idx: KBIndex, hit: Hit, drug: str) -> list[EvidenceRef]:
    return [
        _evidence_ref(e, hit.profile, hit.precision, drug)
        for e in idx.evidence_by_profile.get(hit.profile.id, [])
        if drug_key(e) == drug
    ]


def _mechanism_refs(
    idx: KBIndex, alt_ids: set[str], drug: str
) -> tuple[list[EvidenceRef], list[str]]:
    """Resistance implied by a KB mechanism that lists the alteration and resists the drug."""
    d = idx.drugs.get(drug)
    refs: list[EvidenceRef] = []
    names: list[str] = []
    for mech in idx.mechanisms:
        if mech.category in _ON_TARGET_MECHANISMS or not alt_ids & set(mech.alterations):
            continue  # on-target resistance needs per-mutation evidence, never the mechanism
        if not any(_resists(r, drug, d) for r in mech.resists):
            continue
        names.append(mech.name)
        for ref in mech.references or ("",):
            pmid = ref if ref.isdigit() else None
            refs.append(
                EvidenceRef(
                    id=mech.id,
                    profile=mech.id,
                    profile_name=mech.name,
                    precision="mechanism",
                    drug=drug,
                    effect="resistant",
                    level="E" if pmid is None else "D",
                    status=mech.status,
                    source=ref or mech.description,
                    model_system="review",
                    pmid=pmid,
                    note=f"mechanism {mech.name}: confers resistance to {', '.join(mech.resists)}",
                )
            )
    return refs, names


def in_resistance_region(idx: KBIndex, m: FindingMatch) -> bool:
    """Is a finding in an exon that holds known (allele-level) resistance mutations of its gene?

    Unknown location (no exon or codon) counts as inside: the effect then stays unknown.
    """
    alts = idx.alterations_of_kind(
        m.finding.gene, "substitution", "insertion", "deletion", "delins"
    )
    exons = {a.exon for a in alts if a.exon is not None}
    if m.exon is not None and exons:
        return m.exon in exons
    codons = [a.codon for a in alts if a.codon is not None]
    if m.codon is not None and codons:
        return min(codons) <= m.codon <= max(codons)
    return True


def build_units(
    matches: Sequence[FindingMatch], hits: list[Hit]
) -> tuple[list[Hit], list[Hit], list[Unit], set[str]]:
    """(compound hits, maximal compound hits, units, ids of the most specific profiles)."""
    compounds = [h for h in hits if h.profile.is_compound]
    maximal = [
        h
        for h in compounds
        if not any(set(h.profile.components) < set(o.profile.components) for o in compounds)
    ]
    covered = {i for h in maximal for i in h.findings}
    most_specific_ids = {h.profile.id for h in maximal}
    for i in range(len(matches)):
        if i not in covered:
            for h in hits:
                if h.findings == frozenset({i}) and not h.profile.is_compound:
                    most_specific_ids.add(h.profile.id)
                    break

    # units: maximal compounds + the remaining findings
    units = [
        Unit(" + ".join(matches[i].finding.label for i in sorted(h.findings)), h.findings, h)
        for h in maximal
    ]
    units += [
        Unit(matches[i].finding.label, frozenset({i}), None)
        for i in range(len(matches))
        if i not in covered
    ]
    return compounds, maximal, units, most_specific_ids


def call_drug(
    drug: str,
    *,
    idx: KBIndex,
    matches: Sequence[FindingMatch],
    hits: list[Hit],
    compounds: list[Hit],
    units: list[Unit],
    on_target: set[str],
    dominant: float | None,
    prior_drug: Any,
) -> DrugCall:
    """The call for one drug: each unit's evidence (most specific profile first), then combined."""
    unit_calls: list[UnitCall] = []
    chain: list[EvidenceRef] = []
    context: list[EvidenceRef] = []
    conflict = False
    conflict_notes: list[str] = []
    for unit in units:
        label, fidx, comp = unit.label, unit.findings, unit.compound
        vafs = [v for v in (matches[i].finding.vaf for i in fidx) if v is not None]
        uvaf = min(vafs) if vafs else None
        refs: list[EvidenceRef] = []
        reason = ""
        if comp is not None:
            cands = sorted(
                (h for h in compounds if h.findings <= fidx),
                key=lambda h: (-len(h.profile.components), LEVEL_RANK[h.precision]),
            )
            for h in cands:
                refs = _evidence_for(idx, h, drug)
                if refs:
                    if h is not comp:
                        reason = f"from {h.profile.name} ({len(h.profile.components)} of {len(comp.profile.components)} components)"
                    break
            if not refs:
                singles = [h for h in hits if not h.profile.is_compound and h.findings <= fidx]
                for h in singles:
                    context += [
                        replace(
                            r,
                            votes=False,
                            note=f"single-mutation row, not used for the compound {comp.profile.name}",
                        )
                        for r in _evidence_for(idx, h, drug)
                    ]
                unit_calls.append(
                    UnitCall(
                        label,
                        "unknown",
                        uvaf,
                        f"compound {comp.profile.name} not tested with {drug}",
                    )
                )
                continue
        else:
            i = next(iter(fidx))
            m = matches[i]
            singles = sorted(
                (h for h in hits if not h.profile.is_compound and h.findings == fidx),
                key=lambda h: LEVEL_RANK[h.precision],
            )
            for h in singles:
                refs = _evidence_for(idx, h, drug)
                if refs:
                    if h.precision != "exact":
                        reason = f"{h.precision}-level match ({h.profile.name})"
                    break
            if not refs:
                mrefs, mnames = _mechanism_refs(idx, m.alteration_ids(), drug)
                if mrefs:
                    refs = mrefs
                    reason = "mechanism: " + ", ".join(mnames)
            if not refs:
                f = m.finding
                on_point = f.gene in on_target and f.kind in POINT_KINDS
                if on_point and m.level == "none" and not in_resistance_region(idx, m):
                    on_point = False  # e.g. a germline polymorphism far from the kinase domain
                if m.level == "none":
                    why = f"not in KB (version {idx.version})"
                    if not on_point and f.gene in on_target:
                        why += "; outside the exons with known resistance mutations"
                else:
                    why = f"no evidence for {drug}"
                unit_calls.append(
                    UnitCall(label, "unknown" if on_point else "no_evidence", uvaf, why)
                )
                continue
        ucall, uconf, unote, marked = call_from_evidence(refs)
        conflict |= uconf
        if unote:
            conflict_notes.append(f"{label}: {unote}")
        # the evidence chain cites PMIDs / CIViC EIDs; items without either are context
        chain += [r for r in marked if r.votes and (r.pmid or r.civic_eid)]
        context += [r for r in marked if not (r.votes and (r.pmid or r.civic_eid))]
        unit_calls.append(UnitCall(label, ucall, uvaf, reason))
    call, rationale, vaf_note = combine_units(unit_calls, dominant)
    d = idx.drugs.get(drug)
    return DrugCall(
        drug=drug,
        call=call,
        drug_class=d.drug_class if d else "",
        generation=d.generation if d else None,
        conflict=conflict,
        rationale=rationale,
        evidence=tuple(chain),
        context=tuple(context),
        conflict_note=" | ".join(conflict_notes),
        vaf_note=vaf_note,
        per_finding=tuple((u.label, u.call) for u in unit_calls),
        prior_therapy=prior_drug is not None and prior_drug.name == drug,
    )
