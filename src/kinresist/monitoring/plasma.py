"""Pre-analytical plasma QC of a draw: tube and time to processing, cfDNA input and its LoD.

Rules (the liquid-biopsy seed's, as the monitoring issue states them):

* **EDTA tubes** must be processed within 4 h of the draw; later processing is flagged
  ``edta_processing_over_4h`` (leukocytes lyse and dilute the tumour fraction with wild-type
  genomic DNA).
* **Streck Cell-Free DNA BCT** tubes hold for days. The seed does not give a number; kinresist
  flags processing after :data:`STRECK_MAX_HOURS` (7 days). The manufacturer states stability up
  to 14 days at 6-37 °C; 7 days is the shorter limit many laboratory SOPs use. Pass
  ``streck_max_hours`` to apply your own SOP.
* Any other tube type is recorded as given and flagged ``tube_rule_unknown``: kinresist does not
  know its limit, so the delay is not assessed (unknown stays unknown).

cfDNA yield is converted to haploid genome equivalents at 3.3 pg per haploid human genome
(1 ng ≈ 303 GE; ../shared/specs/ngs.md §4). The theoretical (Poisson) limit of detection of the
draw is the allele fraction at which at least one mutant copy is sampled with 95 % probability
when all of that input is analysed: ``m = -ln(0.05) = 2.996`` mutant copies, ``LoD = m/(m + GE)``
(../shared/specs/ddpcr.md §4.2: 3 copies in 3,000 GE ≈ 0.1 %). It is a best case: the assay's own
LoD (reported per well by ddPCR, per site by NGS) can only be higher.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EDTA_MAX_HOURS",
    "HAPLOID_GENOME_PG",
    "POISSON_COPIES_95",
    "STRECK_MAX_HOURS",
    "PlasmaQC",
    "normalise_tube",
    "plasma_qc",
]

#: pg of DNA in one haploid human genome.
HAPLOID_GENOME_PG = 3.3
#: EDTA tubes: hours from draw to plasma separation before the draw is flagged.
EDTA_MAX_HOURS = 4.0
#: Streck Cell-Free DNA BCT: hours from draw to processing before the draw is flagged (7 days).
STRECK_MAX_HOURS = 168.0
#: Mutant copies that must be present for P(at least one sampled) = 0.95 (Poisson): -ln(0.05).
POISSON_COPIES_95 = -math.log(0.05)

_TUBES = {
    "edta": "EDTA",
    "k2edta": "EDTA",
    "k2-edta": "EDTA",
    "k3edta": "EDTA",
    "k3-edta": "EDTA",
    "streck": "Streck",
    "streck bct": "Streck",
    "cfdna bct": "Streck",
    "cell-free dna bct": "Streck",
    "streck cell-free dna bct": "Streck",
    "streck cfdna bct": "Streck",
}


def normalise_tube(text: str | None) -> str | None:
    """``"K2EDTA"`` -> ``"EDTA"``, ``"Streck cfDNA BCT"`` -> ``"Streck"``; others kept as given."""
    if text is None or not text.strip():
        return None
    key = " ".join(text.strip().lower().replace("_", " ").split())
    return _TUBES.get(key, text.strip())


@dataclass(frozen=True, slots=True)
class PlasmaQC:
    """The pre-analytical record of one draw (what the manifest gave and what follows from it)."""

    tube: str | None
    hours_to_processing: float | None
    plasma_ml: float | None
    cfdna_ng: float | None
    haploid_genome_equivalents: float | None
    genome_equivalents_per_ml: float | None
    theoretical_lod_percent: float | None
    max_hours: float | None
    flags: tuple[str, ...]

    @property
    def given(self) -> bool:
        """Whether any QC value was given."""
        return any(
            v is not None
            for v in (self.tube, self.hours_to_processing, self.plasma_ml, self.cfdna_ng)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tube": self.tube,
            "hours_to_processing": self.hours_to_processing,
            "max_hours": self.max_hours,
            "plasma_ml": self.plasma_ml,
            "cfdna_ng": self.cfdna_ng,
            "haploid_genome_equivalents": self.haploid_genome_equivalents,
            "genome_equivalents_per_ml": self.genome_equivalents_per_ml,
            "theoretical_lod_percent": self.theoretical_lod_percent,
            "flags": list(self.flags),
        }


def plasma_qc(
    *,
    tube: str | None = None,
    hours_to_processing: float | None = None,
    plasma_ml: float | None = None,
    cfdna_ng: float | None = None,
    edta_max_hours: float = EDTA_MAX_HOURS,
    streck_max_hours: float = STRECK_MAX_HOURS,
) -> PlasmaQC:
    """Apply the tube rules and convert the cfDNA yield (see the module docstring).

    Raises
    ------
    ValueError
        A negative time or amount, or a plasma volume that is not positive (the manifest reader
        turns this into an error naming the row).
    """
    for name, value in (("hours_to_processing", hours_to_processing), ("cfdna_ng", cfdna_ng)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            msg = f"{name} must be a number >= 0, got {value!r}"
            raise ValueError(msg)
    if plasma_ml is not None and not (math.isfinite(plasma_ml) and plasma_ml > 0):
        msg = f"plasma_ml must be a volume > 0 mL, got {plasma_ml!r}"
        raise ValueError(msg)
    kind = normalise_tube(tube)
    flags: list[str] = []
    limit: float | None = None
    if kind == "EDTA":
        limit = edta_max_hours
    elif kind == "Streck":
        limit = streck_max_hours
    elif kind is not None:
        flags.append("tube_rule_unknown")
    if kind is None and hours_to_processing is not None:
        flags.append("tube_unknown")
    if limit is not None:
        if hours_to_processing is None:
            flags.append("processing_time_unknown")
        elif hours_to_processing > limit:
            flags.append(f"{kind.lower()}_processing_over_{limit:g}h")  # type: ignore[union-attr]
    ge = ge_ml = lod = None
    if cfdna_ng is not None:
        ge = cfdna_ng * 1000.0 / HAPLOID_GENOME_PG
        if plasma_ml is not None:
            ge_ml = ge / plasma_ml
        if ge > 0:
            lod = 100.0 * POISSON_COPIES_95 / (POISSON_COPIES_95 + ge)
        else:
            flags.append("no_cfdna")
    return PlasmaQC(
        tube=kind,
        hours_to_processing=hours_to_processing,
        plasma_ml=plasma_ml,
        cfdna_ng=cfdna_ng,
        haploid_genome_equivalents=ge,
        genome_equivalents_per_ml=ge_ml,
        theoretical_lod_percent=lod,
        max_hours=limit,
        flags=tuple(flags),
    )
