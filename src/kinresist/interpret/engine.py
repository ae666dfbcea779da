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

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.drugcalls import (
    ALLELE_KINDS,
    POINT_KINDS,
    CaseContext,
    build_units,
    call_drug,
    drug_key,
    in_resistance_region,
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
from kinresist.kb.model import Drug, Mechanism
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

_PRIOR_SPLIT = re.compile(r"\s*(?:,|;|->|=>|>|\bthen\b)\s*")

_CLASS_TEXT = {
    "on_target_mutation": (
        "On-target resistance: a known resistance mutation in the target kinase.",
        "Consider a 2nd/3rd-generation ALK TKI active against the mutation (see the drug calls).",
    ),
    "on_target_amplification": (
        "On-target amplification: overexpression of the fusion kinase.",
        "A more potent 2nd-generation ALK TKI (crizotinib inhibits ALK incompletely).",
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


def _prior_drugs(
    idx: KBIndex, prior_therapy: str | Sequence[str] | None
) -> tuple[list[Drug], list[str]]:
    """The drugs the tumour progressed on (oldest first) and the names not in the KB.

    A string may list several drugs in order: ``"crizotinib, alectinib"``,
    ``"crizotinib -> alectinib"`` (``+`` joins a combination and is not a separator).
    """
    if not prior_therapy:
        return [], []
    names = (
        [n for n in _PRIOR_SPLIT.split(prior_therapy) if n.strip()]
        if isinstance(prior_therapy, str)
        else [str(n) for n in prior_therapy if str(n).strip()]
    )
    drugs: list[Drug] = []
    unknown: list[str] = []
    for n in names:
        key = idx.drug_name(n.strip())
        d = idx.drugs.get(key) if key else None
        if d is None:
            unknown.append(n.strip())
        elif d not in drugs:
            drugs.append(d)
    return drugs, unknown


def interpret_findings(
    findings: Iterable[Finding],
    *,
    kb: Any = None,
    prior_therapy: str | Sequence[str] | None = None,
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
        The drug(s) the sample progressed on, e.g. ``"alectinib"`` or, for a sequence,
        ``"crizotinib, alectinib"`` / ``["crizotinib", "alectinib"]`` (oldest first).
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
    priors, unknown_priors = _prior_drugs(idx, prior_therapy)
    prior_drug = priors[-1] if priors else None
    matches = [match_finding(f, idx) for f in findings]

    # co-mutations: prognostic co-alterations (TP53...) are annotated, never a unit or a class
    co_genes = {g for mech in idx.mechanisms if mech.category == "co_mutation" for g in mech.genes}
    co_mut = frozenset(i for i, m in enumerate(matches) if m.finding.gene in co_genes)

    on_target = {"ALK"}
    on_target |= {m.finding.gene for m in matches if m.finding.kind == "fusion"}
    if prior_drug is not None and prior_drug.targets and "fak" not in prior_drug.drug_class.lower():
        on_target = (
            set(prior_drug.targets) & (on_target | {m.finding.gene for m in matches}) or on_target
        )
    if prior_drug is not None and "fak" in prior_drug.drug_class.lower():
        on_target = {"PTK2"}

    # VAF: dominant clone among point mutations (co-mutations do not take part)
    point_vafs = [
        m.finding.vaf
        for i, m in enumerate(matches)
        if m.finding.kind in POINT_KINDS and m.finding.vaf is not None and i not in co_mut
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
    compounds, maximal, units, most_specific_ids = build_units(matches, hits, skip=co_mut)

    exact_ids = tuple(
        frozenset(am.alteration.id for am in m.matches if am.level == "exact") for m in matches
    )
    on_target_points = frozenset(
        i
        for i, m in enumerate(matches)
        if i not in co_mut
        and m.finding.gene in on_target
        and m.finding.kind in ALLELE_KINDS
        and (m.level != "none" or in_resistance_region(idx, m))
    )
    uncharacterised: tuple[str, ...] = ()
    if len(on_target_points) > 1 and not any(on_target_points <= h.findings for h in maximal):
        uncharacterised = tuple(matches[i].finding.label for i in sorted(on_target_points))
    ctx = CaseContext(
        prior_drugs=tuple(priors),
        co_mutations=co_mut,
        uncharacterised=uncharacterised,
        on_target_points=on_target_points,
        exact_ids=exact_ids,
    )

    # drugs to report
    drugs: list[str] = list(CORE_DRUGS)
    for h in hits:
        if h.findings & co_mut:
            continue
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
            ctx=ctx,
        )
        for drug in drugs
    ]

    # classification (co-mutations never count)
    def known(m: FindingMatch) -> bool:
        return m.level in {"exact", "codon", "exon"} or (
            m.level == "gene" and m.finding.kind != "fusion"
        )

    on_mut = any(
        i not in co_mut
        and m.finding.gene in on_target
        and m.finding.kind in POINT_KINDS
        and any(
            am.level in {"exact", "codon"} and am.alteration.kind in ALLELE_KINDS
            for am in m.matches
        )
        for i, m in enumerate(matches)
    )
    on_amp = any(m.finding.gene in on_target and m.finding.kind == "amplification" for m in matches)
    off = any(
        i not in co_mut
        and m.finding.gene not in on_target
        and m.finding.kind != "fusion"
        and (known(m) or m.finding.kind in {"amplification", "expression", "loss"})
        and (
            m.finding.gene in BYPASS_GENES
            or any(mech.category != "co_mutation" for mech in _mechanisms_of(idx, m))
        )
        for i, m in enumerate(matches)
    )
    classification = classify(
        on_target_mutation=on_mut, on_target_amplification=on_amp, off_target=off
    )
    rule = next((r for r in idx.rules if getattr(r, "applies_to", None) == classification), None)
    text, suggestion = _CLASS_TEXT[classification]
    if rule is not None and rule.suggestion:
        suggestion = f"{rule.suggestion[:1].upper()}{rule.suggestion[1:]} (KB rule {rule.id}, {rule.status})."

    mech_objs = []
    for mech in idx.mechanisms:
        if any(mech in _mechanisms_of(idx, m) for m in matches):
            mech_objs.append(mech)

    # ranked options
    ranked, options = _rank_options(idx, calls, priors)
    rank_of = {c.drug: r for c, r in ranked}
    calls = [_with_rank(c, rank_of.get(c.drug)) for c in calls]
    for mech in mech_objs:
        if mech.category in {"on_target_mutation", "on_target_amplification", "co_mutation"}:
            if not (mech.category == "on_target_amplification" and on_amp):
                continue  # on-target mutations: the per-drug ranking above is the option list
        for opt in mech.options:
            options.append(
                Option(len(options) + 1, opt, f"mechanism: {mech.name}", group="mechanism")
            )

    minor_labels = [
        m.finding.label
        for i, m in enumerate(matches)
        if m.finding.kind in POINT_KINDS
        and is_minor(m.finding.vaf)
        and m.level != "none"
        and i not in co_mut
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
            mechanisms=tuple(mech.id for mech in _mechanisms_of(idx, m)),
            clone=None
            if m.finding.vaf is None
            or m.finding.kind not in POINT_KINDS
            or len(point_vafs) < 2
            or i in co_mut
            else ("minor_subclone" if is_minor(m.finding.vaf) else "major"),
            role=_role(m, i, co_mut, on_target),
        )
        for i, m in enumerate(matches)
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
    for i, m in enumerate(matches):
        if i in co_mut:
            notes.append(
                f"{m.finding.label}: prognostic co-mutation, annotated only; it does not change "
                "the classification or any drug call"
            )
        elif m.level == "none":
            notes.append(
                f"{m.finding.label}: {m.note}; its effect is unknown (never assumed sensitive)"
            )
    for h in maximal:
        vafs = [v for v in (matches[i].finding.vaf for i in h.findings) if v is not None]
        note = f"compound profile {h.profile.name} assumed (all components present; phase not determined)"
        if len(vafs) > 1 and min(vafs) < MINOR_SUBCLONE_RATIO * max(vafs):
            note += "; component VAFs differ widely - they may be in different clones"
        notes.append(note)
    if uncharacterised:
        notes.append(
            "co-occurring on-target mutations "
            + " + ".join(uncharacterised)
            + ": no curated compound profile covers them (compound not characterised); "
            "single-mutation sensitivity is not applied - phase them (same read / amplicon)"
        )
    for n in unknown_priors:
        notes.append(f"prior therapy {n!r} is not a drug in the KB")
    if priors:
        notes.append(
            "progressed on "
            + " -> ".join(d.name for d in priors)
            + ": these drugs are never called sensitive; first-line trial evidence is not applied"
        )

    header = stamp(
        "kinresist.interpretation",
        SCHEMA_VERSION,
        inputs=inputs or {},
        parameters={
            "prior_therapy": prior_therapy
            if prior_therapy is None or isinstance(prior_therapy, str)
            else list(prior_therapy),
            "sample_type": sample_type,
            "cell_line": cell_line,
            "minor_subclone_ratio": MINOR_SUBCLONE_RATIO,
        },
        kb_version=idx.version,
    )
    prior_text: str | None
    if priors:
        prior_text = ", ".join(d.name for d in priors)
    elif prior_therapy is None or isinstance(prior_therapy, str):
        prior_text = prior_therapy
    else:
        prior_text = ", ".join(prior_therapy)
    return Interpretation(
        header=header,
        kb_version=idx.version,
        kb_release_date=idx.release_date,
        sample=sample or next((f.sample for f in findings if f.sample), None),
        prior_therapy=prior_text,
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


def _mechanisms_of(idx: KBIndex, m: FindingMatch) -> list[Mechanism]:
    """KB mechanisms a matched finding belongs to (a mechanism's ``excludes`` respected)."""
    ids = m.alteration_ids()
    exact = {am.alteration.id for am in m.matches if am.level == "exact"}
    return [
        mech
        for mech in idx.mechanisms
        if ids & set(mech.alterations) and not exact & set(mech.excludes)
    ]


def _role(m: FindingMatch, i: int, co_mut: frozenset[int], on_target: set[str]) -> str:
    if i in co_mut:
        return "co_mutation"
    if m.finding.kind == "fusion" and m.finding.gene in on_target:
        return "driver"
    if m.level == "none":
        return "not_in_kb"
    return "on_target" if m.finding.gene in on_target else "off_target"


_CALL_ORDER = {"sensitive": 0, "intermediate": 1, "unknown": 2}


def _guideline_tier(d: Drug | None, priors: Sequence[Drug]) -> int:
    """0: a later generation than the latest ALK TKI progressed on; 1 same; 2 earlier."""
    gens = [p.generation for p in priors if p.generation is not None]
    if d is None or d.generation is None or not gens:
        return 0
    g = gens[-1]
    return 0 if d.generation > g else (1 if d.generation == g else 2)


def _rank_options(
    idx: KBIndex, calls: Sequence[DrugCall], priors: Sequence[Drug]
) -> tuple[list[tuple[DrugCall, int]], list[Option]]:
    """Rank next-line drugs: mutation-specific evidence, then the guideline sequence, then the rest.

    Within a group: call (sensitive, intermediate, unknown), conflict-free first, the level of
    the *matching* evidence item (``DrugCall.basis_level``), guideline tier, newer generation,
    name. Drugs the tumour progressed on and tool compounds are never options. After
    progression on an ALK TKI, later-generation ALK TKIs without a resistant call are listed
    as the guideline sequence even without evidence in this sample (said so), and an
    earlier-generation drug never ranks above them without mutation-specific evidence.
    """
    seq = idx.sequence[0] if idx.sequence else None
    seq_cite = f" ({seq.source or seq.id}; PMID {', '.join(seq.pmids)})" if seq is not None else ""
    prior_gens = [p for p in priors if p.generation is not None]
    latest = prior_gens[-1] if prior_gens else None
    entries: list[tuple[tuple[Any, ...], DrugCall, str, str]] = []
    for c in calls:
        if c.prior_therapy or not _clinical(idx, c.drug):
            continue
        d = idx.drugs.get(c.drug)
        tier = _guideline_tier(d, priors)
        in_sequence = (
            latest is not None
            and tier == 0
            and d is not None
            and d.generation is not None
            and "ALK" in d.targets
        )
        if c.call in {"sensitive", "intermediate"} and c.evidence:
            group = 0 if c.specific else (1 if in_sequence else 2)
        elif in_sequence and c.call == "unknown" and d is not None and d.approved:
            group = 1
        else:
            continue
        key = (
            group,
            _CALL_ORDER[c.call],
            c.conflict,
            LEVEL_ORDER.get(c.basis_level or "", 9),
            tier,
            -(c.generation or 0),
            c.drug,
        )
        why = _why(c, tier, latest, seq_cite)
        entries.append((key, c, why, ("mutation_specific", "guideline_sequence", "other")[group]))
    entries.sort(key=lambda e: e[0])
    ranked = [(c, r + 1) for r, (_, c, _, _) in enumerate(entries)]
    options = [
        Option(
            r + 1,
            c.drug,
            why,
            call=c.call,
            level=c.basis_level,
            evidence=tuple(dict.fromkeys(e.id for e in c.evidence)),
            group=group,
        )
        for r, (_, c, why, group) in enumerate(entries)
    ]
    return ranked, options


def _why(c: DrugCall, tier: int, latest: Drug | None, seq_cite: str) -> str:
    seq_text = ""
    if latest is not None:
        where = ("later generation than", "same generation as", "earlier generation than")[tier]
        seq_text = (
            f"guideline sequence: {where} {latest.name} (generation {latest.generation}){seq_cite}"
        )
    if c.call == "unknown":
        return (
            f"{seq_text}; no evidence in the KB for this sample's findings - "
            "confirm the mechanism (re-biopsy / plasma NGS)"
        )
    head = c.call + (" (conflicting evidence)" if c.conflict else "")
    parts = [head]
    if c.basis:
        parts.append(f"matching evidence {c.basis}")
    if "compound_not_characterised" in c.flags:
        parts.append("compound not characterised")
    if "non_lung_evidence" in c.flags:
        parts.append("evidence from another disease (flagged)")
    if seq_text:
        parts.append(seq_text)
    return "; ".join(parts)


def _clinical(idx: KBIndex, drug: str) -> bool:
    """Drugs that can be next-line options: approved or with a clinical generation (not tool compounds)."""
    d = idx.drugs.get(drug)
    if d is None:
        return drug in CORE_DRUGS
    return d.approved or d.generation is not None or d.drug_class == "combination"


def _with_rank(c: DrugCall, rank: int | None) -> DrugCall:
    return replace(c, rank=rank)
