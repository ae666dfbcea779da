"""Result values of an interpretation (frozen dataclasses with ``to_dict``).

The JSON contract (docs/formats.md) is produced by
:meth:`Interpretation.to_dict`; field names used by external checks are ``kb_version``,
``classification``, ``findings[].gene/alteration/match_level`` and
``drugs[].drug/call/evidence[].pmid|civic_eid``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from kinresist.interpret.finding import Finding

__all__ = [
    "CALLS",
    "CLASSIFICATIONS",
    "Call",
    "Classification",
    "DrugCall",
    "EvidenceRef",
    "FindingResult",
    "Interpretation",
    "Investigation",
    "Option",
    "ProfileHit",
]

Call = Literal["sensitive", "intermediate", "resistant", "unknown"]
Classification = Literal[
    "on_target_mutation", "on_target_amplification", "off_target", "heterogeneous", "none_found"
]
CALLS: tuple[Call, ...] = ("sensitive", "intermediate", "resistant", "unknown")
CLASSIFICATIONS: tuple[Classification, ...] = (
    "on_target_mutation",
    "on_target_amplification",
    "off_target",
    "heterogeneous",
    "none_found",
)

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{}/"
CIVIC_URL = "https://civicdb.org/evidence/{}"


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """One evidence item as cited in a drug call."""

    id: str
    profile: str
    profile_name: str
    precision: str  # exact / codon / exon / gene: how the sample matched this profile
    drug: str
    effect: str
    level: str
    status: str
    source: str
    model_system: str
    pmid: str | None = None
    civic_eid: str | None = None
    disease: str = ""
    ic50_nm: float | None = None
    fold_vs_wt: float | None = None
    note: str = ""
    votes: bool = True  # False: shown for context, not used for the call
    audit: str | None = None  # SOURCE-DOC items: supported / contradicted / unsupported
    audit_pmids: tuple[str, ...] = ()
    setting: str = "any"  # any / first_line / post_progression
    #: why the item cannot vote (set before the call rule runs): "audit", "setting",
    #: "codon_scope", "specificity"; "" = eligible
    exclusion: str = ""

    @property
    def pubmed_url(self) -> str | None:
        return PUBMED_URL.format(self.pmid) if self.pmid else None

    @property
    def civic_url(self) -> str | None:
        if not self.civic_eid:
            return None
        return CIVIC_URL.format(self.civic_eid.removeprefix("EID"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pmid": self.pmid,
            "civic_eid": self.civic_eid,
            "effect": self.effect,
            "level": self.level,
            "status": self.status,
            "source": self.source,
            "model_system": self.model_system,
            "profile": self.profile,
            "profile_name": self.profile_name,
            "precision": self.precision,
            "drug": self.drug,
            "disease": self.disease,
            "ic50_nm": self.ic50_nm,
            "fold_vs_wt": self.fold_vs_wt,
            "note": self.note,
            "used_for_call": self.votes,
            "audit": self.audit,
            "audit_pmids": list(self.audit_pmids),
            "setting": self.setting,
            "excluded_because": self.exclusion or None,
            "pubmed_url": self.pubmed_url,
            "civic_url": self.civic_url,
        }


@dataclass(frozen=True, slots=True)
class FindingResult:
    """A finding with its KB match."""

    finding: Finding
    match_level: str
    matched: tuple[tuple[str, str, str], ...]  # (alteration id, name, level)
    codon: int | None
    exon: int | None
    hgvs_c: str | None
    related: tuple[str, ...]
    note: str
    mechanisms: tuple[str, ...]
    clone: str | None  # "dominant", "subclonal" (see VAF rule) or None
    #: "driver" (the fusion), "on_target", "off_target", "co_mutation" (prognostic
    #: co-alteration: annotated, never a call), "not_in_kb", "other"
    role: str = "other"

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        return {
            "gene": f.gene,
            "alteration": f.alteration,
            "kind": f.kind,
            "match_level": self.match_level,
            "matched": [{"alteration_id": i, "name": n, "level": lv} for i, n, lv in self.matched],
            "note": self.note,
            "vaf": f.vaf,
            "copy_number": f.copy_number,
            "fusion_partner": f.fusion_partner,
            "fusion_variant": f.fusion_variant,
            "hgvs_c": self.hgvs_c or f.hgvs_c,
            "hgvs_p": f.hgvs_p,
            "codon": self.codon,
            "exon": self.exon,
            "genomic": None
            if f.genomic is None
            else {
                "genome": f.genome,
                "chrom": f.genomic.chrom,
                "pos": f.genomic.pos,
                "ref": f.genomic.ref,
                "alt": f.genomic.alt,
            },
            "related_in_kb": list(self.related),
            "mechanisms": list(self.mechanisms),
            "clone": self.clone,
            "role": self.role,
            "source": f.source,
            "sample": f.sample,
        }


@dataclass(frozen=True, slots=True)
class ProfileHit:
    """A KB profile all of whose components are present in the sample."""

    profile: str
    name: str
    components: tuple[str, ...]
    precision: str  # worst component match level
    compound: bool
    findings: tuple[str, ...]  # finding labels
    most_specific: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "name": self.name,
            "components": list(self.components),
            "precision": self.precision,
            "compound": self.compound,
            "findings": list(self.findings),
            "most_specific": self.most_specific,
        }


@dataclass(frozen=True, slots=True)
class DrugCall:
    """The call for one drug with its evidence chain."""

    drug: str
    call: Call
    drug_class: str
    generation: int | None
    conflict: bool
    rationale: str
    evidence: tuple[EvidenceRef, ...]
    context: tuple[EvidenceRef, ...] = ()  # shown, not used (other profiles, SOURCE-DOC)
    conflict_note: str = ""
    vaf_note: str = ""
    per_finding: tuple[tuple[str, str], ...] = ()  # (unit label, unit call)
    prior_therapy: bool = False
    rank: int | None = None
    #: named conditions on the call: "compound_not_characterised", "non_lung_evidence",
    #: "progressed_on", "contains_mutation_selected_by_prior_drug",
    #: "unverified_evidence_not_used", "first_line_evidence_not_applicable"
    flags: tuple[str, ...] = ()
    #: the evidence that decided the call: the best level among the voting items of the
    #: deciding unit(s), whether that support is mutation-specific, and a sentence
    basis_level: str | None = None
    specific: bool = False
    basis: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "call": self.call,
            "conflict": self.conflict,
            "conflict_note": self.conflict_note,
            "rationale": self.rationale,
            "vaf_note": self.vaf_note,
            "drug_class": self.drug_class,
            "generation": self.generation,
            "prior_therapy": self.prior_therapy,
            "rank": self.rank,
            "flags": list(self.flags),
            "basis_level": self.basis_level,
            "mutation_specific": self.specific,
            "basis": self.basis,
            "per_finding": [{"findings": u, "call": c} for u, c in self.per_finding],
            "evidence": [e.to_dict() for e in self.evidence],
            "context_evidence": [e.to_dict() for e in self.context],
        }


@dataclass(frozen=True, slots=True)
class Option:
    """A ranked next-line option (a single drug or a mechanism-directed strategy).

    ``basis`` starts with the call (``sensitive: ...``), ``guideline sequence: ...`` or
    ``mechanism: ...`` and says why the option is ranked where it is; ``level`` is the
    evidence level of the matching item, ``evidence`` its ids.
    """

    rank: int
    option: str
    basis: str
    call: str = ""
    level: str | None = None
    evidence: tuple[str, ...] = ()
    group: str = ""  # "mutation_specific", "guideline_sequence", "other", "mechanism"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "option": self.option,
            "basis": self.basis,
            "call": self.call or None,
            "level": self.level,
            "evidence": list(self.evidence),
            "group": self.group or None,
        }


@dataclass(frozen=True, slots=True)
class Investigation:
    """A next investigation the troubleshooting rules call for."""

    id: str
    text: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Interpretation:
    """The whole answer for one sample."""

    header: dict[str, Any]
    kb_version: str
    kb_release_date: str | None
    sample: str | None
    prior_therapy: str | None
    classification: Classification
    classification_text: str
    suggestion: str
    findings: tuple[FindingResult, ...]
    profiles: tuple[ProfileHit, ...]
    drugs: tuple[DrugCall, ...]
    options: tuple[Option, ...]
    investigations: tuple[Investigation, ...]
    mechanisms: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def drug(self, name: str) -> DrugCall:
        """The call for ``name`` (KeyError when the drug is not reported)."""
        for d in self.drugs:
            if d.drug == name.lower():
                return d
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.header)
        out.update(
            {
                "kb_version": self.kb_version,
                "kb_release_date": self.kb_release_date,
                "sample": self.sample,
                "prior_therapy": self.prior_therapy,
                "classification": self.classification,
                "classification_text": self.classification_text,
                "suggestion": self.suggestion,
                "findings": [f.to_dict() for f in self.findings],
                "profiles": [p.to_dict() for p in self.profiles],
                "drugs": [d.to_dict() for d in self.drugs],
                "options": [o.to_dict() for o in self.options],
                "investigations": [i.to_dict() for i in self.investigations],
                "mechanisms": list(self.mechanisms),
                "notes": list(self.notes),
            }
        )
        return out
