"""Interpretation engine: findings -> matched profiles -> per-drug calls -> classification.

Pipeline (each step a small function; the rules live in :mod:`.rules`):

1. match every finding at exact / codon / exon / gene level (:mod:`.matching`);
2. find every KB profile whose components are all present; mark the most specific
   (maximal) ones; a compound profile joins its findings into one *unit*, every other
   finding is its own unit;
3. per drug and unit, take the evidence of the most specific profile that has evidence
   for that drug - a compound unit only ever uses compound profiles (never single-
   mutation rows); apply :func:`.rules.call_from_evidence`;
4. combine the units' calls per drug with the VAF rule (:func:`.rules.combine_units`);
5. classify the case (spec 12.4), rank next-line options, list next investigations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.drugcalls import (
    POINT_KINDS,
    build_units,
    call_drug,
    drug_key,
    profile_hits,
)
from kinresist.interpret.finding import Finding
from kinresist.interpret.investigations import next_investigations
from kinresist.interpret.matching import LEVEL_RANK, FindingMatch, match_finding
from kinresist.interpret.result import (
    DrugCall,
    FindingResult,
    Interpretation,
    Option,
    ProfileHit,
)
from kinresist.interpret.rules import (
    BYPASS_GENES,
    LEVEL_ORDER,
    MINOR_SUBCLONE_RATIO,
    classify,
)
from kinresist.provenance import stamp

__all__ = ["CORE_DRUGS", "SCHEMA_VERSION", "interpret_findings"]

SCHEMA_VERSION = "1.0"
#: Drugs always reported (in this order), with or without evidence.
CORE_DRUGS = (
    "crizotinib",
    "ceritinib",
    "alectinib",
    "brigatinib",
    "lorlatinib",
    "ensartinib",
    "entrectinib",
)

_CLASS_TEXT = {
    "on_target_mutation": (
        "On-target resistance: a known resistance mutation in the target kinase.",
        "Consider a 2nd/3rd-generation ALK TKI active against the mutation (see the drug calls).",
    ),
    "on_target_amplification": (
        "On-target amplification: overexpression of the fusion kinase.",
        "Higher crizotinib dose or a more potent 2nd-generation ALK TKI.",
    ),
    "off_target": (
        "Off-target (bypass) resistance: no on-target mutation or amplification; bypass or downstream alteration found.",
        "Look for EGFR/MET/KRAS alterations; consider combination therapy directed at the bypass.",
    ),
    "heterogeneous": (
        "Heterogeneous resistance: more than one mechanism present.",
        "Combination of targeted therapies directed at each mechanism.",
    ),
    "none_found": (
        "No known resistance mechanism among the findings.",
        "Look for EGFR/MET/KRAS alterations and ALK kinase-domain mutations; consider combination therapy.",
    ),
}


def _load_kb(kb: Any) -> KBIndex:
    if isinstance(kb, KBIndex):
        return kb
    if kb is None:
        from kinresist.kb import load_kb

        kb = load_kb()
    return KBIndex.from_kb(kb)


def interpret_findings(
    findings: Iterable[Finding],
    *,
    kb: Any = None,
    prior_therapy: str | None = None,
    sample_type: str | None = None,
    cell_line: bool = False,
    sample: str | None = None,
    inputs: dict[str, str] | None = None,
) -> Interpretation:
    """Interpret one sample's findings against the knowledge base.

    Parameters
    ----------
    findings
        The sample's alterations (:class:`~kinresist.interpret.finding.Finding`).
    kb
        A :class:`kinresist.kb.KnowledgeBase` (default: the bundled KB).
    prior_therapy
        The drug the sample progressed on (name or synonym), e.g. ``"alectinib"``.
    sample_type
        ``"tissue"``, ``"plasma"``, ``"cell_line"``... (shapes the investigations).
    cell_line
        The sample is a cell-line model (adds STR / mycoplasma checks).
    sample
        Sample name for the report.
    inputs
        Input name -> hash, for the provenance stamp.

    Returns
    -------
    Interpretation
        Classification, per-drug calls with evidence, options, investigations;
        ``to_dict()`` gives the versioned JSON contract.
    """
    idx = _load_kb(kb)
    findings = list(findings)
    prior_drug = None
    if prior_therapy:
        name = idx.drug_name(prior_therapy)
        prior_drug = idx.drugs.get(name) if name else None
    matches = [match_finding(f, idx) for f in findings]

    on_target = {"ALK"}
    on_target |= {m.finding.gene for m in matches if m.finding.kind == "fusion"}
    if prior_drug is not None and prior_drug.targets and "fak" not in prior_drug.drug_class.lower():
        on_target = (
            set(prior_drug.targets) & (on_target | {m.finding.gene for m in matches}) or on_target
        )
    if prior_drug is not None and "fak" in prior_drug.drug_class.lower():
        on_target = {"PTK2"}

    # VAF: dominant clone among point mutations
    point_vafs = [
        m.finding.vaf
        for m in matches
        if m.finding.kind in POINT_KINDS and m.finding.vaf is not None
    ]
    dominant = max(point_vafs) if point_vafs else None

    def is_minor(v: float | None) -> bool:
        return (
            v is not None
            and dominant is not None
            and len(point_vafs) > 1
            and v < MINOR_SUBCLONE_RATIO * dominant
        )

    hits = profile_hits(matches, idx)
    compounds, maximal, units, most_specific_ids = build_units(matches, hits)

    # drugs to report
    drugs: list[str] = list(CORE_DRUGS)
    for h in hits:
        for e in idx.evidence_by_profile.get(h.profile.id, []):
            key = drug_key(e)
            if key not in drugs:
                drugs.append(key)

    calls = [
        call_drug(
            drug,
            idx=idx,
            matches=matches,
            hits=hits,
            compounds=compounds,
            units=units,
            on_target=on_target,
            dominant=dominant if len(point_vafs) > 1 else None,
            prior_drug=prior_drug,
        )
        for drug in drugs
    ]

    # classification
    def known(m: FindingMatch) -> bool:
        return m.level in {"exact", "codon", "exon"} or (
            m.level == "gene" and m.finding.kind != "fusion"
        )

    on_mut = any(
        m.finding.gene in on_target
        and m.finding.kind in POINT_KINDS
        and m.level in {"exact", "codon"}
        for m in matches
    )
    on_amp = any(m.finding.gene in on_target and m.finding.kind == "amplification" for m in matches)
    off = any(
        m.finding.gene not in on_target
        and m.finding.kind != "fusion"
        and (known(m) or m.finding.kind in {"amplification", "expression"})
        and (
            m.finding.gene in BYPASS_GENES or idx.mechanisms_for(m.alteration_ids(), m.finding.gene)
        )
        for m in matches
    )
    classification = classify(
        on_target_mutation=on_mut, on_target_amplification=on_amp, off_target=off
    )
    rule = next((r for r in idx.rules if getattr(r, "applies_to", None) == classification), None)
    text, suggestion = _CLASS_TEXT[classification]
    if rule is not None and rule.suggestion:
        suggestion = f"{rule.suggestion[:1].upper()}{rule.suggestion[1:]} (KB rule {rule.id}, {rule.status})."

    mech_objs = []
    all_ids = {a for m in matches for a in m.alteration_ids()}
    for mech in idx.mechanisms:
        if all_ids & set(mech.alterations):
            mech_objs.append(mech)

    # ranked options
    order = {"sensitive": 0, "intermediate": 1}
    ranked = sorted(
        (
            c
            for c in calls
            if c.call in order and not c.prior_therapy and c.evidence and _clinical(idx, c.drug)
        ),
        key=lambda c: (
            order[c.call],
            c.conflict,
            min(
                (LEVEL_ORDER.get(e.level, 9) for e in c.evidence if e.effect != "resistant"),
                default=9,
            ),
            -(c.generation or 0),
            c.drug,
        ),
    )
    rank_of = {c.drug: r + 1 for r, c in enumerate(ranked)}
    calls = [_with_rank(c, rank_of.get(c.drug)) for c in calls]
    options = [
        Option(
            rank_of[c.drug], c.drug, f"{c.call}" + (" (conflicting evidence)" if c.conflict else "")
        )
        for c in ranked
    ]
    for mech in mech_objs:
        if mech.category in {"on_target_mutation", "on_target_amplification"} and not on_amp:
            continue  # on-target mutations: the per-drug ranking above is the option list
        for opt in mech.options:
            options.append(Option(len(options) + 1, opt, f"mechanism: {mech.name}"))

    minor_labels = [
        m.finding.label
        for m in matches
        if m.finding.kind in POINT_KINDS and is_minor(m.finding.vaf) and m.level != "none"
    ]
    n_on_target_points = sum(
        1 for m in matches if m.finding.gene in on_target and m.finding.kind in POINT_KINDS
    )
    investigations = next_investigations(
        classification=classification,
        matches=matches,
        on_target_genes=on_target,
        prior_drug=prior_drug,
        cell_line=cell_line,
        sample_type=sample_type,
        mechanisms=[
            mech
            for mech in mech_objs
            if mech.category != "on_target_mutation" or n_on_target_points > 1
        ],
        priors=idx.priors,
        minor_labels=minor_labels,
    )

    fresults = tuple(
        FindingResult(
            finding=m.finding,
            match_level=m.level,
            matched=tuple((am.alteration.id, am.alteration.name, am.level) for am in m.matches),
            codon=m.codon,
            exon=m.exon,
            hgvs_c=m.hgvs_c,
            related=tuple(a.id for a in m.related),
            note=m.note,
            mechanisms=tuple(
                mech.id for mech in mech_objs if m.alteration_ids() & set(mech.alterations)
            ),
            clone=None
            if m.finding.vaf is None or m.finding.kind not in POINT_KINDS or len(point_vafs) < 2
            else ("minor_subclone" if is_minor(m.finding.vaf) else "major"),
        )
        for m in matches
    )
    phits = tuple(
        ProfileHit(
            profile=h.profile.id,
            name=h.profile.name,
            components=h.profile.components,
            precision=h.precision,
            compound=h.profile.is_compound,
            findings=tuple(matches[i].finding.label for i in sorted(h.findings)),
            most_specific=h.profile.id in most_specific_ids,
        )
        for h in sorted(
            hits, key=lambda h: (-len(h.profile.components), LEVEL_RANK[h.precision], h.profile.id)
        )
    )
    notes: list[str] = []
    for m in matches:
        if m.level == "none":
            notes.append(
                f"{m.finding.label}: {m.note}; its effect is unknown (never assumed sensitive)"
            )
    for h in maximal:
        vafs = [v for v in (matches[i].finding.vaf for i in h.findings) if v is not None]
        note = f"compound profile {h.profile.name} assumed (all components present; phase not determined)"
        if len(vafs) > 1 and min(vafs) < MINOR_SUBCLONE_RATIO * max(vafs):
            note += "; component VAFs differ widely - they may be in different clones"
        notes.append(note)
    if prior_drug is None and prior_therapy:
        notes.append(f"prior therapy {prior_therapy!r} is not a drug in the KB")

    header = stamp(
        "kinresist.interpretation",
        SCHEMA_VERSION,
        inputs=inputs or {},
        parameters={
            "prior_therapy": prior_therapy,
            "sample_type": sample_type,
            "cell_line": cell_line,
            "minor_subclone_ratio": MINOR_SUBCLONE_RATIO,
        },
        kb_version=idx.version,
    )
    return Interpretation(
        header=header,
        kb_version=idx.version,
        kb_release_date=idx.release_date,
        sample=sample or next((f.sample for f in findings if f.sample), None),
        prior_therapy=prior_drug.name if prior_drug else prior_therapy,
        classification=classification,
        classification_text=text,
        suggestion=suggestion,
        findings=fresults,
        profiles=phits,
        drugs=tuple(calls),
        options=tuple(options),
        investigations=investigations,
        mechanisms=tuple(
            {
                "id": mech.id,
                "name": mech.name,
                "category": mech.category,
                "description": mech.description,
                "options": list(mech.options),
                "references": list(mech.references),
                "status": mech.status,
            }
            for mech in mech_objs
        ),
        notes=tuple(notes),
    )


def _clinical(idx: KBIndex, drug: str) -> bool:
    """Drugs that can be next-line options: approved or with a clinical generation (not tool compounds)."""
    d = idx.drugs.get(drug)
    if d is None:
        return drug in CORE_DRUGS
    return d.approved or d.generation is not None or d.drug_class == "combination"


def _with_rank(c: DrugCall, rank: int | None) -> DrugCall:
    return replace(c, rank=rank)
