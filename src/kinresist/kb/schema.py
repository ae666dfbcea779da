"""pydantic schemas of the KB data files (the trust boundary of the knowledge base).

Every YAML file under ``kinresist/kb/data/`` (and every CIViC import overlay) is
validated against these models before anything is turned into the frozen
dataclasses of :mod:`kinresist.kb.model`. Unknown keys are errors (``extra="forbid"``)
so that a typo in a curated file cannot silently drop a fact.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "AlterationFile",
    "AlterationRow",
    "DrugFile",
    "DrugRow",
    "EvidenceFile",
    "EvidenceRow",
    "FrequencyFile",
    "FrequencyRow",
    "GeneFile",
    "GeneRow",
    "InvestigationRow",
    "MechanismFile",
    "MechanismRow",
    "OverlayContent",
    "OverlayInfo",
    "PriorRow",
    "ProfileFile",
    "ProfileRow",
    "RuleFile",
    "RuleRow",
    "SequenceRow",
    "SkippedRow",
    "SourceRow",
    "TranscriptFile",
    "TranscriptRow",
    "VersionFile",
    "parse_allele",
]

Status = Literal["VERIFIED", "SOURCE-DOC", "CIVIC-IMPORT"]
_ALLELE = re.compile(r"^(?P<chrom>[0-9XYMT]+):(?P<pos>\d+):(?P<ref>[ACGTN]*)>(?P<alt>[ACGTN]*)$")


def parse_allele(text: str) -> tuple[str, int, str, str]:
    """Parse ``"2:29443613:C>T"`` (chrom:pos:REF>ALT, + strand; empty REF/ALT allowed)."""
    m = _ALLELE.match(text.strip())
    if m is None:
        msg = (
            f"allele {text!r} is not 'chrom:pos:REF>ALT' (e.g. '2:29443613:C>T'; "
            "chrom without 'chr'; bases ACGTN; empty REF for an insertion after pos)"
        )
        raise ValueError(msg)
    if m["ref"] == m["alt"]:
        msg = f"allele {text!r}: REF equals ALT"
        raise ValueError(msg)
    return m["chrom"], int(m["pos"]), m["ref"], m["alt"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


AuditT = Literal["supported", "contradicted", "unsupported"]


def _check_pmids(v: list[str]) -> list[str]:
    for p in v:
        if not re.fullmatch(r"\d{6,9}", p):
            msg = f"audit PMID {p!r} is not a PubMed id (6-9 digits)"
            raise ValueError(msg)
    return v


class _Audited(_Strict):
    """Audit of a SOURCE-DOC record against primary literature / CIViC (docs/knowledge-base.md)."""

    audit: AuditT | None = None
    audit_pmids: list[str] = []
    audit_note: str = ""

    @field_validator("audit_pmids")
    @classmethod
    def _pmids(cls, v: list[str]) -> list[str]:
        return _check_pmids(v)


class SourceRow(_Strict):
    id: str
    citation: str
    licence: str = ""
    url: str = ""
    pmid: str | None = None


class VersionFile(_Strict):
    kb_version: str = Field(pattern=r"^\d{4}\.\d{1,2}\.\d+([+][A-Za-z0-9._+-]+)?$")
    release_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    schema_version: str
    description: str = ""
    sources: list[SourceRow] = []


class GeneRow(_Strict):
    symbol: str
    name: str
    chrom: str
    strand: Literal["+", "-"]
    mane_refseq: str
    mane_ensembl: str
    grch37_to_grch38_offset: int | None = None
    aliases: list[str] = []
    note: str = ""


class GeneFile(_Strict):
    genes: list[GeneRow]


class TranscriptRow(_Strict):
    gene: str
    refseq: str
    chrom: str
    strand: Literal["+", "-"]
    grch37_to_grch38_offset: int
    complete: bool = False
    status: Status = "VERIFIED"
    source: str = ""
    segments: list[tuple[int | None, int, int, int, int]]


class TranscriptFile(_Strict):
    transcripts: list[TranscriptRow]


class DrugRow(_Strict):
    name: str
    drug_class: str
    targets: list[str] = []
    synonyms: list[str] = []
    generation: int | None = None
    approved: bool = False
    components: list[str] = []

    @field_validator("name")
    @classmethod
    def _lower(cls, v: str) -> str:
        if v != v.lower():
            msg = f"drug name {v!r} must be the lower-case generic name"
            raise ValueError(msg)
        return v


class DrugFile(_Strict):
    drugs: list[DrugRow]


AlterationKindT = Literal[
    "substitution",
    "insertion",
    "deletion",
    "delins",
    "splice",
    "codon",
    "exon",
    "gene_mutation",
    "amplification",
    "loss",
    "fusion",
    "expression",
    "wild_type",
]


class AlterationRow(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9-]+:\S.*$")
    gene: str
    name: str
    kind: AlterationKindT
    aliases: list[str] = []
    hgvs_p: str | None = None
    hgvs_c: list[str] = []
    codon: int | None = None
    ref_aa: str | None = None
    alt_aa: str | None = None
    exon: int | None = None
    grch37: list[str] = []
    grch38: list[str] = []
    fusion_partner: str | None = None
    fusion_variant: str | None = None
    status: Status = "VERIFIED"
    source: str = ""
    excludes: list[str] = []

    @field_validator("grch37", "grch38")
    @classmethod
    def _alleles(cls, v: list[str]) -> list[str]:
        for a in v:
            parse_allele(a)
        return v


class AlterationFile(_Strict):
    alterations: list[AlterationRow]


class ProfileRow(_Strict):
    id: str
    name: str
    components: list[str] = Field(min_length=1)
    fusion_context: str | None = None


class ProfileFile(_Strict):
    profiles: list[ProfileRow]


class EvidenceRow(_Audited):
    id: str
    profile: str
    drugs: list[str] = Field(min_length=1)
    effect: Literal["sensitive", "reduced", "resistant"]
    level: Literal["A", "B", "C", "D", "E"]
    model_system: Literal[
        "patient", "cell_line", "ba_f3", "xenograft", "cell_free", "review", "other"
    ]
    source: str
    status: Status
    pmid: str | None = Field(default=None, pattern=r"^\d{6,9}$")
    civic_eid: str | None = Field(default=None, pattern=r"^EID\d+$")
    disease: str = ""
    statement: str = ""
    ic50_nm: float | None = Field(default=None, gt=0)
    fold_vs_wt: float | None = Field(default=None, gt=0)
    note: str = ""
    setting: Literal["any", "first_line", "post_progression"] = "any"
    prior_drugs: list[str] = []
    alleles: list[str] = []


class SkippedRow(_Strict):
    """A CIViC row an import did not turn into evidence, and why."""

    civic_eid: str
    reason: str
    detail: str = ""


class OverlayInfo(_Strict):
    """Header of an import overlay (``overlay.yaml``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    source_file: str
    source_sha256: str
    source_schema: Literal["civic-2018-variant", "civic-molecular-profile"]
    imported_at: str
    kinresist_version: str
    base_kb_version: str
    counts: dict[str, int] = {}


class EvidenceFile(_Strict):
    evidence: list[EvidenceRow]


class OverlayContent(_Strict):
    """``content.yaml`` of an import overlay: new drugs, alterations, profiles, evidence."""

    drugs: list[DrugRow] = []
    alterations: list[AlterationRow] = []
    profiles: list[ProfileRow] = []
    evidence: list[EvidenceRow] = []
    skipped: list[SkippedRow] = []


class FrequencyRow(_Strict):
    """``n`` of ``denominator`` patients of one cohort, with the PMID reporting it."""

    id: str
    alteration: str | None = None
    mechanism: str | None = None
    context: str
    cohort: str
    n: int = Field(ge=0)
    denominator: int = Field(gt=0)
    pmid: str = Field(pattern=r"^\d{6,9}$")
    parent: str | None = None
    overlap: int = Field(default=0, ge=0)
    source: str
    status: Status = "VERIFIED"


class FrequencyFile(_Strict):
    frequencies: list[FrequencyRow]


class MechanismRow(_Audited):
    id: str
    name: str
    category: Literal[
        "on_target_mutation",
        "on_target_amplification",
        "bypass_rtk",
        "downstream",
        "microenvironment",
        "fak_specific",
        "histologic",
        "co_mutation",
    ]
    genes: list[str]
    description: str
    alterations: list[str] = []
    resists: list[str] = []
    options: list[str] = []
    investigations: list[str] = []
    references: list[str] = []
    status: Status = "SOURCE-DOC"
    excludes: list[str] = []


class MechanismFile(_Strict):
    mechanisms: list[MechanismRow]


class RuleRow(_Audited):
    id: str
    finding: str
    applies_to: Literal[
        "on_target_mutation",
        "on_target_amplification",
        "off_target",
        "heterogeneous",
        "none_found",
    ]
    interpretation: str
    suggestion: str
    status: Status = "SOURCE-DOC"
    source: str = ""


class PriorRow(_Strict):
    id: str
    given: str  # alteration id, e.g. "ALK:EML4-ALK v3"
    context: str
    raises: str  # alteration id, e.g. "ALK:G1202R"
    statement: str
    observed: dict[str, float] = {}
    pmid: str | None = None
    status: Status = "VERIFIED"
    source: str = ""


class InvestigationRow(_Audited):
    id: str
    applies_to: str  # a classification, a mechanism id, "cell_line" or "any"
    text: str
    status: Status = "SOURCE-DOC"
    source: str = ""


class SequenceRow(_Strict):
    """The guideline sequence of ALK TKIs after progression (by drug generation)."""

    id: str
    statement: str
    pmids: list[str] = Field(min_length=1)
    status: Status = "VERIFIED"
    source: str = ""


class RuleFile(_Strict):
    rules: list[RuleRow] = []
    priors: list[PriorRow] = []
    investigations: list[InvestigationRow] = []
    sequence: list[SequenceRow] = []
