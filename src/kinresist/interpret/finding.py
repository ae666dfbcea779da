"""A finding: one alteration observed in one sample (the engine's input).

Readers (VCF, MAF, tables, fusion and copy-number calls, ``--finding``) and the
ddPCR/NGS workflows produce :class:`Finding` values; the interpretation engine
(:func:`kinresist.interpret.interpret_findings`) matches them against the
knowledge base.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from kinresist.kb.model import AlterationKind, GenomicAllele

__all__ = ["Finding", "Genome"]

Genome = Literal["GRCh37", "GRCh38"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One alteration observed in one sample.

    Parameters
    ----------
    gene
        HGNC symbol of the gene carrying the alteration (``"ALK"``). For fusions
        the kinase gene (3' partner), e.g. ``"ALK"`` for EML4-ALK.
    alteration
        Short form: ``"G1202R"``, ``"T1151dup"``, ``"G1202del"``, ``"AMPLIFICATION"``,
        ``"EML4-ALK v3"`` (fusion name), or the best available description
        (``"c.3604G>A"``) when no protein form is known.
    kind
        One of :data:`kinresist.kb.model.AlterationKind`.
    vaf
        Variant allele fraction in [0, 1], or None when not measured.
    copy_number
        Absolute copy number (amplifications), or None.
    fusion_partner, fusion_variant
        For fusions: 5' partner (``"EML4"``) and variant (``"v3a"``), when known.
    hgvs_c, hgvs_p
        HGVS on the MANE transcript (``"c.3604G>A"``, ``"p.Gly1202Arg"``), when known.
    genomic, genome
        The + strand allele and its genome build, for coordinate-derived findings.
    source
        Where the finding came from (``"vcf:calls.vcf:57"``, ``"cli"``, ``"ddpcr"``).
    sample
        Sample name, when the input names one.
    """

    gene: str
    alteration: str
    kind: AlterationKind
    vaf: float | None = None
    copy_number: float | None = None
    fusion_partner: str | None = None
    fusion_variant: str | None = None
    hgvs_c: str | None = None
    hgvs_p: str | None = None
    genomic: GenomicAllele | None = None
    genome: Genome | None = None
    source: str = ""
    sample: str | None = None

    def __post_init__(self) -> None:
        if not self.gene:
            msg = "Finding.gene must be a non-empty gene symbol"
            raise ValueError(msg)
        if not self.alteration:
            msg = "Finding.alteration must be non-empty"
            raise ValueError(msg)
        if self.vaf is not None and not (math.isfinite(self.vaf) and 0.0 <= self.vaf <= 1.0):
            msg = f"Finding.vaf must be a fraction in [0, 1], got {self.vaf!r}"
            raise ValueError(msg)
        if self.copy_number is not None and not (
            math.isfinite(self.copy_number) and self.copy_number >= 0
        ):
            msg = f"Finding.copy_number must be >= 0, got {self.copy_number!r}"
            raise ValueError(msg)

    @property
    def label(self) -> str:
        """Display label, e.g. ``"ALK G1202R"`` or ``"EML4-ALK v3"``."""
        if self.kind == "fusion" and "-" in self.alteration:
            return self.alteration
        return f"{self.gene} {self.alteration}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        out = asdict(self)
        out["genomic"] = None if self.genomic is None else asdict(self.genomic)
        return out
