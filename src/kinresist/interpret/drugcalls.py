"""Per-drug calls: profile hits -> units -> evidence -> one call per drug (rules in :mod:`.rules`).

The case-level facts the per-drug rules need (the drugs the tumour progressed on, the
co-mutations, whether co-occurring on-target mutations form a curated compound) are
collected once in a :class:`CaseContext` by the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.matching import LEVEL_RANK, FindingMatch
from kinresist.interpret.result import DrugCall, EvidenceRef
from kinresist.interpret.rules import (
    LEVEL_ORDER,
    UnitCall,
    audit_ok,
    call_from_evidence,
    combine_units,
    non_lung_diseases,
)
from kinresist.kb.model import Drug, Evidence, Profile

__all__ = [
    "ALLELE_KINDS",
    "POINT_KINDS",
    "CaseContext",
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
#: Alteration kinds that name one allele (or one codon): what "mutation-specific" means.
ALLELE_KINDS = frozenset({"substitution", "insertion", "deletion", "delins", "splice", "codon"})


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


@dataclass(frozen=True, slots=True)
class CaseContext:
    """Case-level facts the per-drug rules need (built once by the engine).

    ``prior_drugs`` are the drugs the tumour progressed on, oldest first;
    ``co_mutations`` the indices of findings that are prognostic co-alterations (never a
    unit); ``uncharacterised`` the labels of co-occurring on-target mutations that no
    curated compound profile covers (empty when there are fewer than two or when one
    curated compound covers them all); ``on_target_points`` the indices of the on-target
    point mutations.
    """

    prior_drugs: tuple[Drug, ...] = ()
    co_mutations: frozenset[int] = frozenset()
    uncharacterised: tuple[str, ...] = ()
    on_target_points: frozenset[int] = frozenset()
    exact_ids: tuple[frozenset[str], ...] = field(default_factory=tuple)

    @property
    def latest_prior(self) -> Drug | None:
        return self.prior_drugs[-1] if self.prior_drugs else None

    @property
    def prior_names(self) -> frozenset[str]:
        return frozenset(d.name for d in self.prior_drugs)


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
        audit=ev.audit,
        audit_pmids=ev.audit_pmids,
        setting=ev.setting,
    )


_ON_TARGET_MECHANISMS = {"on_target_mutation", "on_target_amplification", "co_mutation"}


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


def _note(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _applicability(
    idx: KBIndex, ev: Evidence, ref: EvidenceRef, hit: Hit, unit_exact: frozenset[str],
    point_unit: bool, ctx: CaseContext,
) -> EvidenceRef:  # fmt: skip
    """Mark an item that cannot vote for this sample (never for lack of agreement)."""
    latest = ctx.latest_prior
    if latest is not None and ev.setting == "first_line":
        return replace(
            ref,
            exclusion="setting",
            note=_note(
                ref.note,
                f"first-line (ALK-TKI-naive) trial: not applicable after progression on {latest.name}",
            ),
        )
    if (
        latest is not None
        and ev.setting == "post_progression"
        and latest.name not in ev.prior_drugs
    ):
        return replace(
            ref,
            exclusion="setting",
            note=_note(
                ref.note,
                f"studied after progression on {', '.join(ev.prior_drugs)}, not after {latest.name}",
            ),
        )
    comps = hit.profile.components
    codon_profile = (
        len(comps) == 1 and getattr(idx.alterations.get(comps[0]), "kind", "") == "codon"
    )
    if codon_profile and "*" not in ev.alleles:
        if not set(ev.alleles) & unit_exact:
            return replace(
                ref,
                exclusion="codon_scope",
                note=_note(
                    ref.note,
                    f"codon-level item whose source reports {', '.join(a.split(':')[-1] for a in ev.alleles) or 'no specific allele'}: "
                    "not applied to another (or an unnamed) amino-acid change at the codon",
                ),
            )
    if point_unit and ev.effect == "sensitive" and hit.precision in {"exon", "gene"}:
        return replace(
            ref,
            exclusion="specificity",
            note=_note(
                ref.note,
                f"{hit.precision}-level item: sensitivity is never inferred for a specific mutation "
                "from a gene- or exon-level item",
            ),
        )
    return ref


def _evidence_for(
    idx: KBIndex, hit: Hit, drug: str, unit_exact: frozenset[str], point_unit: bool,
    ctx: CaseContext,
) -> list[EvidenceRef]:  # fmt: skip
    out = []
    for e in idx.evidence_by_profile.get(hit.profile.id, []):
        if drug_key(e) != drug:
            continue
        ref = _evidence_ref(e, hit.profile, hit.precision, drug)
        out.append(_applicability(idx, e, ref, hit, unit_exact, point_unit, ctx))
    return out


def _mechanism_refs(
    idx: KBIndex, alt_ids: set[str], drug: str
) -> tuple[list[EvidenceRef], list[str]]:
    """Resistance implied by a KB mechanism that lists the alteration and resists the drug.

    A SOURCE-DOC mechanism carries its recorded audit (verdict and PMIDs from the KB, never
    inferred from its references): only a ``supported`` one may decide a call; the others are
    marked ``audit`` by :func:`.rules.call_from_evidence` and shown without a vote.
    """
    d = idx.drugs.get(drug)
    refs: list[EvidenceRef] = []
    names: list[str] = []
    for mech in idx.mechanisms:
        if mech.category in _ON_TARGET_MECHANISMS or not alt_ids & set(mech.alterations):
            continue  # on-target resistance needs per-mutation evidence, never the mechanism
        if alt_ids & set(mech.excludes):
            continue  # "KRAS mutation other than G12C" never covers G12C
        if not any(_resists(r, drug, d) for r in mech.resists):
            continue
        names.append(mech.name)
        source_doc = mech.status == "SOURCE-DOC"
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
                    audit=mech.audit if source_doc else None,
                    audit_pmids=mech.audit_pmids if source_doc else (),
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
    matches: Sequence[FindingMatch], hits: list[Hit], *, skip: frozenset[int] = frozenset()
) -> tuple[list[Hit], list[Hit], list[Unit], set[str]]:
    """(compound hits, maximal compound hits, units, ids of the most specific profiles).

    Findings in ``skip`` (co-mutations) form no unit: they never take part in a call.
    """
    compounds = [h for h in hits if h.profile.is_compound and not h.findings & skip]
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

    units = [
        Unit(" + ".join(matches[i].finding.label for i in sorted(h.findings)), h.findings, h)
        for h in maximal
    ]
    units += [
        Unit(matches[i].finding.label, frozenset({i}), None)
        for i in range(len(matches))
        if i not in covered and i not in skip
    ]
    return compounds, maximal, units, most_specific_ids


def _selected_by(
    idx: KBIndex, prior: Drug, unit_exact: frozenset[str]
) -> list[tuple[str, list[str]]]:
    """Mutations of a unit that the prior drug selects for (verified resistance evidence)."""
    out = []
    for aid in sorted(unit_exact):
        alt = idx.alterations.get(aid)
        if alt is None or alt.kind not in ALLELE_KINDS:
            continue
        ids = [
            e.id
            for e in idx.evidence_by_profile.get(aid, [])
            if drug_key(e) == prior.name and e.effect == "resistant" and e.votes_eligible
        ]
        if ids:
            out.append((alt.name, ids))
    return out


def _unit_kind(matches: Sequence[FindingMatch], unit: Unit) -> str:
    if unit.compound is not None:
        return "compound"
    f = matches[next(iter(unit.findings))].finding
    if f.kind == "fusion":
        return "fusion"
    if f.kind == "amplification":
        return "amplification"
    if f.kind in POINT_KINDS:
        return "mutation"
    return "other"


def _is_specific(refs: Sequence[EvidenceRef], idx: KBIndex) -> bool:
    """Sensitive voting evidence from an allele-level or curated compound profile."""
    for r in refs:
        if not r.votes or r.effect != "sensitive":
            continue
        prof = idx.profiles.get(r.profile)
        if prof is None:
            continue
        comps = [idx.alterations.get(c) for c in prof.components]
        if all(c is not None and c.kind in ALLELE_KINDS for c in comps) and r.precision in {
            "exact",
            "codon",
        }:
            return True
    return False


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
    prior_drug: Any = None,
    ctx: CaseContext | None = None,
) -> DrugCall:
    """The call for one drug: each unit's evidence (most specific profile first), then combined.

    After the evidence rule (:func:`.rules.call_from_evidence`) and the VAF rule
    (:func:`.rules.combine_units`), the case rules apply, each leaving a flag:

    * co-occurring on-target mutations without a curated compound profile: no unit may
      say ``sensitive`` (-> ``intermediate``, flag ``compound_not_characterised``);
    * a drug the tumour progressed on is not ``sensitive`` to a unit containing a
      mutation it selects for (flag ``contains_mutation_selected_by_prior_drug``), and
      never ``sensitive`` at all: mutation-specific support gives at most
      ``intermediate``; first-line trial / gene-level support gives ``resistant``
      (progression is direct evidence of resistance in this tumour; flag
      ``progressed_on``).
    """
    if ctx is None:
        ctx = CaseContext(prior_drugs=(prior_drug,) if prior_drug is not None else ())
    exact_of = [
        ctx.exact_ids[i] if i < len(ctx.exact_ids) else frozenset() for i in range(len(matches))
    ]
    unit_calls: list[UnitCall] = []
    chain: list[EvidenceRef] = []
    context: list[EvidenceRef] = []
    conflict = False
    conflict_notes: list[str] = []
    flags: list[str] = []
    prior = next((p for p in ctx.prior_drugs if p.name == drug), None)
    single_sensitive: list[str] = []
    for unit in units:
        label, fidx, comp = unit.label, unit.findings, unit.compound
        vafs = [v for v in (matches[i].finding.vaf for i in fidx) if v is not None]
        uvaf = min(vafs) if vafs else None
        unit_exact = frozenset().union(*(exact_of[i] for i in fidx))
        kind = _unit_kind(matches, unit)
        point_unit = kind in {"mutation", "compound"}
        refs: list[EvidenceRef] = []
        reason = ""
        if comp is not None:
            cands = sorted(
                (h for h in compounds if h.findings <= fidx),
                key=lambda h: (-len(h.profile.components), LEVEL_RANK[h.precision]),
            )
            for h in cands:
                refs = _evidence_for(idx, h, drug, unit_exact, point_unit, ctx)
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
                        for r in _evidence_for(idx, h, drug, unit_exact, point_unit, ctx)
                    ]
                unit_calls.append(
                    UnitCall(
                        label,
                        "unknown",
                        uvaf,
                        f"compound {comp.profile.name} not tested with {drug}",
                        kind=kind,
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
            shown: list[EvidenceRef] = []
            # tiers of precision: an exact match and codon-level items whose source names this
            # very allele form the first tier (merged); then codon, exon, gene
            tiers: dict[int, list[tuple[Hit, list[EvidenceRef]]]] = {}
            for h in singles:
                found = _evidence_for(idx, h, drug, unit_exact, point_unit, ctx)
                if not found:
                    continue
                tier = LEVEL_RANK[h.precision]
                if h.precision == "codon" and any(
                    not r.exclusion for r in found
                ):  # in scope: the source reports this allele
                    tier = LEVEL_RANK["exact"]
                tiers.setdefault(tier, []).append((h, found))
            for tier in sorted(tiers):
                found = [r for _, rs in tiers[tier] for r in rs]
                if not any(not r.exclusion and audit_ok(r) for r in found):
                    shown += found  # nothing usable here: a less precise profile may decide
                    continue
                refs = found
                if tier != LEVEL_RANK["exact"]:
                    reason = f"{tiers[tier][0][0].precision}-level match ({tiers[tier][0][0].profile.name})"
                break
            if not refs:
                mrefs, mnames = _mechanism_refs(idx, m.alteration_ids(), drug)
                if any(audit_ok(r) for r in mrefs):
                    # audited-out items of this finding are shown next to it (a conflict is
                    # reported, never silently resolved)
                    refs = mrefs + shown
                    reason = "mechanism: " + ", ".join(mnames)
                else:
                    # an unaudited / unsupported / contradicted SOURCE-DOC mechanism never
                    # decides: shown and flagged like an audited-out evidence item
                    shown += mrefs
            if not refs:
                if shown:
                    _, sconf, snote, smarked = call_from_evidence(shown)
                    context += [replace(r, votes=False) for r in smarked]
                    if any(r.exclusion == "audit" for r in smarked):
                        flags.append("unverified_evidence_not_used")
                    if any(r.exclusion == "setting" and r.setting == "first_line" for r in smarked):
                        flags.append("first_line_evidence_not_applicable")
                    if sconf:
                        conflict = True
                        conflict_notes.append(f"{label}: {snote}")
                f = m.finding
                on_point = f.gene in on_target and f.kind in POINT_KINDS
                if on_point and m.level == "none" and not in_resistance_region(idx, m):
                    on_point = False  # e.g. a germline polymorphism far from the kinase domain
                if m.level == "none":
                    why = f"not in KB (version {idx.version})"
                    if not on_point and f.gene in on_target:
                        why += "; outside the exons with known resistance mutations"
                elif shown:
                    why = (
                        f"no usable evidence for {drug} (shown, not used: "
                        + ", ".join(dict.fromkeys(r.id for r in shown))
                        + ")"
                    )
                else:
                    why = f"no evidence for {drug}"
                unit_calls.append(
                    UnitCall(label, "unknown" if on_point else "no_evidence", uvaf, why, kind=kind)
                )
                continue
        ucall, uconf, unote, marked = call_from_evidence(refs)
        conflict |= uconf
        if unote:
            conflict_notes.append(f"{label}: {unote}")
        if any(r.exclusion == "audit" for r in marked):
            flags.append("unverified_evidence_not_used")
        if any(r.exclusion == "setting" and r.setting == "first_line" for r in marked):
            flags.append("first_line_evidence_not_applicable")
        diseases = non_lung_diseases(marked)
        if diseases and ucall != "unknown":
            flags.append("non_lung_evidence")
            reason = _note(
                reason,
                f"evidence from {', '.join(diseases)}, not lung cancer: flagged, not counted as "
                "lung-cancer evidence",
            )
        voting = tuple(r for r in marked if r.votes)
        specific = point_unit and _is_specific(voting, idx)
        # case rule: the drug the tumour progressed on vs a mutation it selects for
        if prior is not None and point_unit and ucall == "sensitive":
            selected = _selected_by(idx, prior, unit_exact)
            if selected and (comp is not None or len(ctx.on_target_points) > 1):
                ucall = "intermediate"
                flags.append("contains_mutation_selected_by_prior_drug")
                names = ", ".join(f"{n} ({', '.join(ids)})" for n, ids in selected)
                reason = _note(
                    reason,
                    f"contains {names}, resistance mutation(s) to {drug}, on which the tumour "
                    "progressed: not sensitive",
                )
        # the evidence chain cites PMIDs / CIViC EIDs; items without either are context
        chain += [r for r in marked if r.votes and (r.pmid or r.civic_eid)]
        context += [r for r in marked if not (r.votes and (r.pmid or r.civic_eid))]
        unit_calls.append(UnitCall(label, ucall, uvaf, reason, voting, specific, kind))
        if (
            ctx.uncharacterised
            and point_unit
            and fidx & ctx.on_target_points
            and ucall == "sensitive"
        ):
            single_sensitive.append(label)
    call, rationale, vaf_note = combine_units(unit_calls, dominant)
    deciding = [u for u in unit_calls if u.call == call and u.refs]
    specific_all = any(u.specific for u in deciding) and call in {"sensitive", "intermediate"}
    # case rule: co-occurring on-target mutations without a curated compound profile
    if single_sensitive:
        flags.append("compound_not_characterised")
        note = (
            "compound not characterised: "
            + " + ".join(ctx.uncharacterised)
            + " co-occur without a curated compound profile (sequential-TKI compounds can "
            "resist every ALK TKI: Yoda 2018, PMID 29650534); the single-mutation sensitivity of "
            + ", ".join(single_sensitive)
            + " is not applied to the compound"
        )
        if call == "sensitive":
            call = "intermediate"
            note += ": downgraded to intermediate"
        rationale = f"{note}; {rationale}"
        specific_all = False  # single-mutation evidence does not speak for the compound
    # case rule: never "sensitive" to the drug the tumour progressed on
    if prior is not None and call != "resistant":
        flags.append("progressed_on")
        if specific_all:
            call = "intermediate"
            rationale = (
                f"the tumour progressed on {drug}: mutation-level sensitivity gives at most "
                f"'intermediate' ({rationale})"
            )
        else:
            call = "resistant"
            rationale = (
                f"the tumour progressed on {drug}: progression is direct evidence of resistance; "
                f"first-line trial or gene-level support does not apply after progression ({rationale})"
            )
            deciding = []
    basis_level, basis = _basis(deciding, call, specific_all)
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
        prior_therapy=prior is not None,
        flags=tuple(dict.fromkeys(flags)),
        basis_level=basis_level,
        specific=specific_all,
        basis=basis,
    )


def _basis(deciding: Sequence[UnitCall], call: str, specific: bool) -> tuple[str | None, str]:
    """The level and a sentence for the evidence that decided the call."""
    if not deciding:
        return None, ""
    preferred = [u for u in deciding if u.specific] if specific else list(deciding)
    refs = [
        r
        for u in preferred
        for r in u.refs
        if (r.effect == "sensitive") == (call == "sensitive") or call == "intermediate"
    ] or [r for u in preferred for r in u.refs]
    if not refs:
        return None, ""
    best = min(refs, key=lambda r: LEVEL_ORDER.get(r.level, 9))
    cite = best.civic_eid or (f"PMID {best.pmid}" if best.pmid else best.id)
    what = "mutation-specific" if specific else "not mutation-specific"
    units = ", ".join(dict.fromkeys(u.label for u in preferred))
    return best.level, (
        f"{units}: {best.profile_name} x {best.drug}, {best.effect} ({cite}, level {best.level}, "
        f"{best.precision} match; {what})"
    )
