"""Typed values of the knowledge base (frozen dataclasses).

The KB is curated as YAML/CSV files in ``kinresist/kb/data/`` and loaded into these
objects by :mod:`kinresist.kb.loader`. Everything here is immutable and hashable.

Evidence levels: one scale, CIViC's A-E (documented in docs/knowledge-base.md):

=====  ===================================================  ============================
level  meaning                                              crosswalk
=====  ===================================================  ============================
A      validated: guideline / regulatory / standard of care  OncoKB 1-2, CGI FDA/NCCN
B      clinical evidence (trials, cohorts, usually >5 pts)  OncoKB 3A, CGI trials
C      case study (a few patients)                          CGI case report
D      preclinical (Ba/F3, cell lines, xenografts)          OncoKB 4, CGI pre-clinical
E      inferential                                          --
=====  ===================================================  ============================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Alteration",
    "AlterationKind",
    "AuditVerdict",
    "Drug",
    "Effect",
    "Evidence",
    "EvidenceLevel",
    "EvidenceSetting",
    "EvidenceStatus",
    "Frequency",
    "Gene",
    "GenomicAllele",
    "Mechanism",
    "MechanismCategory",
    "ModelSystem",
    "Profile",
]

Effect = Literal["sensitive", "reduced", "resistant"]
EvidenceLevel = Literal["A", "B", "C", "D", "E"]
EvidenceStatus = Literal["VERIFIED", "SOURCE-DOC", "CIVIC-IMPORT"]
#: Result of auditing a SOURCE-DOC item against primary literature / CIViC:
#: ``supported`` (a cited primary source says the same), ``contradicted`` (verified sources
#: say otherwise: never votes), ``unsupported`` (no primary source found: never votes).
AuditVerdict = Literal["supported", "contradicted", "unsupported"]
#: Population an item comes from: ``any`` (preclinical, case reports, mutation-level items),
#: ``first_line`` (TKI-naive trials: not applicable after progression on an ALK TKI),
#: ``post_progression`` (patients who progressed on ``Evidence.prior_drugs``).
EvidenceSetting = Literal["any", "first_line", "post_progression"]
ModelSystem = Literal["patient", "cell_line", "ba_f3", "xenograft", "cell_free", "review", "other"]
AlterationKind = Literal[
    "substitution",  # single amino-acid change, e.g. G1202R
    "insertion",  # in-frame insertion/duplication, e.g. T1151dup (1151Tins)
    "deletion",  # in-frame deletion, e.g. G1202del, E746_A750del
    "delins",
    "splice",  # e.g. MET exon 14 skipping
    "codon",  # any change at a codon, e.g. G1202X (codon-level item)
    "exon",  # any mutation in an exon, e.g. ALK exon 23 mutation
    "gene_mutation",  # any mutation in the gene
    "amplification",  # copy-number gain / amplification
    "loss",  # gene loss: deletion, loss-of-function, inactivation (e.g. NF2 loss)
    "fusion",  # e.g. EML4-ALK (variant v1, v2, v3a...)
    "expression",  # over-expression / activation (phospho-RTK, IHC)
    "wild_type",
]
MechanismCategory = Literal[
    "on_target_mutation",
    "on_target_amplification",
    "bypass_rtk",
    "downstream",
    "microenvironment",
    "fak_specific",
    "histologic",
    "co_mutation",  # prognostic co-alteration (TP53...): annotated, never a resistance call
]


@dataclass(frozen=True, slots=True)
class GenomicAllele:
    """A VCF-style allele on the + strand, left-normalised, 1-based ``pos``."""

    chrom: str  # without "chr"
    pos: int
    ref: str
    alt: str


@dataclass(frozen=True, slots=True)
class Gene:
    symbol: str
    name: str
    chrom: str
    strand: Literal["+", "-"]
    mane_refseq: str
    mane_ensembl: str
    grch37_to_grch38_offset: int | None = None  # constant across the CDS when known
    aliases: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Drug:
    name: str  # lower-case generic name ("lorlatinib"); combinations use " + "
    drug_class: str  # e.g. "ALK TKI (3rd generation)", "FAK inhibitor"
    targets: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()  # PF-06463922, AP26113, CH5424802, VS-6063...
    generation: int | None = None
    approved: bool = False
    components: tuple[str, ...] = ()  # for combinations: the single drugs


@dataclass(frozen=True, slots=True)
class Alteration:
    """One alteration at allele, codon, exon or gene level.

    ``name`` is the short display form: ``G1202R``, ``T1151dup``, ``G1202X``,
    ``EXON 23 MUTATION``, ``MUTATION``, ``AMPLIFICATION``, ``EML4-ALK v3``.
    """

    id: str  # "ALK:G1202R"
    gene: str
    name: str
    kind: AlterationKind
    aliases: tuple[str, ...] = ()  # "1151Tins", "p.Gly1202Arg", "c.3604G>A"...
    hgvs_p: str | None = None  # "p.Gly1202Arg"
    hgvs_c: tuple[str, ...] = ()  # every cDNA change giving this protein change
    codon: int | None = None
    ref_aa: str | None = None  # one-letter
    alt_aa: str | None = None
    exon: int | None = None
    grch37: tuple[GenomicAllele, ...] = ()
    grch38: tuple[GenomicAllele, ...] = ()
    fusion_partner: str | None = None
    fusion_variant: str | None = None  # "v1", "v3a"
    status: EvidenceStatus = "VERIFIED"
    source: str = ""
    #: gene/codon/exon-level items: alterations they do NOT cover ("KRAS mutation other
    #: than G12C" excludes KRAS:G12C); a finding matching one of them exactly is not matched
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Profile:
    """A molecular profile: alterations that must all be present (CIViC AND).

    ``fusion_context`` records that the profile was studied in an ALK fusion
    background (``EML4::ALK Fusion AND ...``); it is not required for a match
    because kinase-domain mutations in ALK+ NSCLC imply the fusion.
    """

    id: str
    name: str
    components: tuple[str, ...]  # Alteration ids
    fusion_context: str | None = None

    @property
    def is_compound(self) -> bool:
        return len(self.components) > 1


@dataclass(frozen=True, slots=True)
class Evidence:
    id: str  # "KR0001" for curated items, "EID1350" for CIViC imports
    profile: str  # Profile id
    drugs: tuple[str, ...]  # Drug names; more than one = given in combination
    effect: Effect
    level: EvidenceLevel
    model_system: ModelSystem
    source: str  # citation, e.g. "Lin JJ, Riely GJ, Shaw AT. Cancer Discov 2017;7:137 (Table 2)"
    status: EvidenceStatus
    pmid: str | None = None
    civic_eid: str | None = None  # "EID1350"
    disease: str = ""
    statement: str = ""
    ic50_nm: float | None = None
    fold_vs_wt: float | None = None
    note: str = ""  # footnotes, conflicts
    #: SOURCE-DOC items: verdict of the audit against primary literature / CIViC
    audit: AuditVerdict | None = None
    audit_pmids: tuple[str, ...] = ()
    audit_note: str = ""
    setting: EvidenceSetting = "any"
    #: post_progression items: the drugs the studied patients had progressed on
    prior_drugs: tuple[str, ...] = ()
    #: items on a codon-level profile (ALK:I1171X): the alleles the source actually reports
    #: (alteration ids); ("*",) when the source states any change at the codon. A finding
    #: with another amino-acid change at the codon does not take the item's vote.
    alleles: tuple[str, ...] = ()

    @property
    def votes_eligible(self) -> bool:
        """False for audited-out SOURCE-DOC items (contradicted / unsupported / not audited)."""
        return self.status != "SOURCE-DOC" or self.audit == "supported"


@dataclass(frozen=True, slots=True)
class Frequency:
    """A reported frequency: ``n`` of ``denominator`` patients of one cohort (one PMID).

    ``parent`` names the frequency of the enclosing total in the same cohort (e.g. G1269A
    within "any ALK kinase-domain mutation"); the loader rejects a child larger than its
    parent and children that add up to more than the parent (beyond ``overlap``).
    """

    context: str  # "re-biopsy at progression on crizotinib"
    low_pct: float
    high_pct: float
    source: str
    status: EvidenceStatus = "VERIFIED"
    id: str = ""
    cohort: str = ""
    n: int | None = None
    denominator: int | None = None
    pmid: str | None = None
    parent: str | None = None
    overlap: int = 0  # patients counted under more than one child of this frequency


@dataclass(frozen=True, slots=True)
class Mechanism:
    id: str
    name: str
    category: MechanismCategory
    genes: tuple[str, ...]
    description: str
    alterations: tuple[str, ...] = ()  # Alteration ids that evidence this mechanism
    resists: tuple[str, ...] = ()  # drugs or classes it confers resistance to
    options: tuple[str, ...] = ()  # suggested strategies, e.g. "ALK + MET blockade"
    investigations: tuple[str, ...] = ()
    frequencies: tuple[Frequency, ...] = field(default_factory=tuple)
    references: tuple[str, ...] = ()  # PMIDs / citations
    status: EvidenceStatus = "SOURCE-DOC"
    #: alterations that never belong to this mechanism even when matched through a listed
    #: codon/gene item (kras_mutation "other than G12C" excludes KRAS:G12C)
    excludes: tuple[str, ...] = ()
    #: SOURCE-DOC mechanisms: verdict of the audit against primary literature (only a
    #: ``supported`` mechanism may decide a per-drug call)
    audit: AuditVerdict | None = None
    audit_pmids: tuple[str, ...] = ()
    audit_note: str = ""
