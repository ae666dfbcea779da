"""Frozen records the KB holds besides those of :mod:`kinresist.kb.model`.

Sources, release information, the interpretation rules of spec section 12.4, prior
rules (section 6) and per-alteration frequencies (section 12.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from kinresist.kb.model import AuditVerdict, EvidenceStatus, Frequency

__all__ = [
    "AlterationFrequency",
    "InterpretationRule",
    "Investigation",
    "KBRelease",
    "Overlay",
    "PriorRule",
    "SequenceRule",
    "SkippedImport",
    "Source",
]


@dataclass(frozen=True, slots=True)
class Source:
    """A cited source of KB content (``version.yaml`` ``sources``)."""

    id: str
    citation: str
    licence: str = ""
    url: str = ""
    pmid: str | None = None


@dataclass(frozen=True, slots=True)
class SkippedImport:
    """A CIViC row an import did not turn into evidence (reason: ``not_predictive``...)."""

    civic_eid: str
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Overlay:
    """An imported layer loaded on top of the bundled KB (e.g. a CIViC import)."""

    name: str  # "civic-2025-10"
    path: str
    source_file: str
    source_sha256: str
    schema: str
    imported_at: str
    counts: tuple[tuple[str, int], ...] = ()
    skipped: tuple[SkippedImport, ...] = ()


@dataclass(frozen=True, slots=True)
class KBRelease:
    """Version information: ``version`` includes overlays (``2026.11.0+civic-2025-10``)."""

    version: str
    base_version: str
    release_date: str
    schema_version: str
    path: str
    sources: tuple[Source, ...] = ()
    overlays: tuple[Overlay, ...] = ()


@dataclass(frozen=True, slots=True)
class InterpretationRule:
    """One rule of spec section 12.4: a finding pattern -> classification + suggestion."""

    id: str
    finding: str
    applies_to: str  # classification: on_target_mutation, on_target_amplification, ...
    interpretation: str
    suggestion: str
    status: EvidenceStatus = "SOURCE-DOC"
    source: str = ""
    #: SOURCE-DOC records: verdict of the audit against primary literature / CIViC
    audit: AuditVerdict | None = None
    audit_pmids: tuple[str, ...] = ()
    audit_note: str = ""


@dataclass(frozen=True, slots=True)
class PriorRule:
    """A prior-raising observation, e.g. EML4-ALK v3 + 2nd-generation TKI -> G1202R."""

    id: str
    given: str  # alteration id
    context: str
    raises: str  # alteration id whose prior is raised
    statement: str
    observed: tuple[tuple[str, float], ...] = ()
    pmid: str | None = None
    status: EvidenceStatus = "VERIFIED"
    source: str = ""


@dataclass(frozen=True, slots=True)
class Investigation:
    """A next investigation the troubleshooting guides call for.

    ``applies_to`` is a classification (``on_target_mutation``...), a mechanism id,
    ``cell_line`` (experiments on cell lines) or ``any``.
    """

    id: str
    applies_to: str
    text: str
    status: EvidenceStatus = "SOURCE-DOC"
    source: str = ""
    #: SOURCE-DOC records: verdict of the audit against primary literature / CIViC
    audit: AuditVerdict | None = None
    audit_pmids: tuple[str, ...] = ()
    audit_note: str = ""


@dataclass(frozen=True, slots=True)
class AlterationFrequency:
    """A reported frequency range attached to an alteration or a mechanism."""

    subject: str  # alteration id or mechanism id
    frequency: Frequency


@dataclass(frozen=True, slots=True)
class SequenceRule:
    """The guideline sequence after progression: later-generation ALK TKIs come next.

    The engine ranks next-line options by this rule (drug generations from ``drugs.yaml``):
    a later generation than the drug the tumour progressed on first, the same generation
    next, an earlier generation last unless mutation-specific evidence supports it.
    """

    id: str
    statement: str
    pmids: tuple[str, ...]
    status: EvidenceStatus = "VERIFIED"
    source: str = ""
