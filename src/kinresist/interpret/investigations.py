"""Next investigations the troubleshooting guides call for (rules, documented).

Each rule looks at the case (classification, findings, prior therapy, cell line)
and adds one :class:`~kinresist.interpret.result.Investigation`; mechanisms matched
in the KB add their own ``investigations`` entries and prior rules (EML4-ALK v3 +
2nd-generation TKI -> G1202R) add a targeted test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kinresist.interpret.matching import FindingMatch
from kinresist.interpret.result import Investigation

__all__ = ["next_investigations"]


def _prior_summary(rule: Any, given: str, raised: str) -> str:
    """One sentence for a prior rule: ``EML4-ALK v3 + ... raises the prior for G1202R (...)``."""
    observed = dict(getattr(rule, "observed", ()) or ())
    key = raised.lower()
    pcts = [(k, v) for k, v in observed.items() if k.startswith(f"{key}_pct_")]
    detail = ", ".join(f"{v:g} % in {k.rsplit('_', 1)[-1]}" for k, v in pcts)
    pmid = getattr(rule, "pmid", None)
    cite = "; ".join(x for x in (detail, f"PMID {pmid}" if pmid else "") if x)
    text = f"{given.split(':')[-1]} + {rule.context} raises the prior for {raised}"
    return f"{text} ({cite})" if cite else text


def next_investigations(
    *,
    classification: str,
    matches: Sequence[FindingMatch],
    on_target_genes: set[str],
    prior_drug: Any,
    cell_line: bool,
    sample_type: str | None,
    mechanisms: Sequence[Any],
    priors: Sequence[Any],
    minor_labels: Sequence[str],
) -> tuple[Investigation, ...]:
    """The ordered, de-duplicated list of next investigations for a case."""
    out: list[Investigation] = []
    genes_found = {m.finding.gene for m in matches}
    kinds = {(m.finding.gene, m.finding.kind) for m in matches}
    has_point_on_target = any(
        m.finding.gene in on_target_genes
        and m.finding.kind not in {"fusion", "amplification", "expression"}
        for m in matches
    )
    has_amp_on_target = any(g in on_target_genes and k == "amplification" for g, k in kinds)
    fak = prior_drug is not None and "fak" in (prior_drug.drug_class or "").lower()
    target = "/".join(sorted(on_target_genes)) or "ALK"

    if not fak and not has_point_on_target:
        out.append(
            Investigation(
                "kinase_domain_sequencing",
                f"Sequence the {target} kinase domain (ALK exons 21-25; tissue or plasma NGS) for resistance mutations.",
                "no on-target kinase-domain mutation among the findings",
            )
        )
    if not fak and not has_amp_on_target:
        out.append(
            Investigation(
                "copy_number",
                f"Measure {target} copy number / fusion amplification (FISH or qPCR).",
                "on-target amplification not assessed or not found",
            )
        )
    if not fak and classification in {"none_found", "off_target", "heterogeneous"}:
        out.append(
            Investigation(
                "phospho_rtk_array",
                "Phospho-RTK array (EGFR, HER2/ERBB2, MET, KIT, IGF-1R, AXL) and MET/KIT FISH; NGS for KRAS, "
                "MAP2K1, PIK3CA.",
                "look for bypass signalling (off-target resistance)",
            )
        )
    if fak:
        out.append(
            Investigation(
                "fak_bypass",
                "FAK-inhibitor resistance checks: RTK (HER2/EGFR) expression and phosphorylation with FAK pY397; "
                "STAT3 activation (pY705); ERK5 (MAPK7) expression.",
                f"progression on a FAK inhibitor ({prior_drug.name})",
            )
        )
    if cell_line or (sample_type or "").lower() in {"cell_line", "cell_pellet"}:
        out.append(
            Investigation(
                "cell_line_qc",
                "Authenticate the cell line (STR profile) and test for mycoplasma before interpreting resistance.",
                "cell-line model",
            )
        )
    # prior rules: EML4-ALK v3 + 2nd-generation TKI raises the prior for G1202R
    matched_ids = {a for m in matches for a in m.alteration_ids()}
    for rule in priors:
        given = getattr(rule, "given", None)
        if given not in matched_ids:
            continue
        gen = getattr(prior_drug, "generation", None) if prior_drug is not None else None
        raised = str(getattr(rule, "raises", "")).split(":")[-1]
        found = any(
            raised in m.alteration_ids()
            or f"{m.finding.gene}:{m.finding.alteration}" == rule.raises
            for m in matches
        )
        summary = _prior_summary(rule, given, raised)
        if gen == 2:
            text = (
                f"{summary}: test specifically for {raised} (e.g. ddPCR) and consider lorlatinib."
                if not found
                else f"{raised} found, as expected: {summary}."
            )
            out.append(
                Investigation(
                    f"prior_{raised}",
                    text,
                    f"{given.split(':')[-1]} + progression on {prior_drug.name}",
                )
            )
        elif prior_drug is None and not found:
            out.append(
                Investigation(
                    f"prior_{raised}",
                    f"If the patient progressed on a 2nd-generation ALK TKI: {summary}; test for {raised}.",
                    f"{given.split(':')[-1]} present; prior therapy not given",
                )
            )
    for m in mechanisms:
        for text in getattr(m, "investigations", ()):
            if has_point_on_target and text.lower().startswith("sequence"):
                continue
            out.append(Investigation(f"mechanism_{m.id}", text, f"mechanism: {m.name}"))
    unknown = [mm for mm in matches if mm.level == "none"]
    if unknown:
        labels = ", ".join(mm.finding.label for mm in unknown)
        out.append(
            Investigation(
                "functional_test",
                f"Functional testing (e.g. Ba/F3 IC50 panel) of variants not in the KB: {labels}.",
                "effect unknown: not in KB",
            )
        )
    if minor_labels:
        out.append(
            Investigation(
                "monitor_subclone",
                f"Monitor minor subclone(s) {', '.join(minor_labels)} over time (ddPCR / plasma NGS).",
                "resistance finding at low VAF next to a dominant clone",
            )
        )
    if not genes_found:
        out.append(
            Investigation(
                "no_findings",
                "No findings given: sequence the ALK kinase domain and screen bypass genes before interpretation.",
                "empty input",
            )
        )
    seen: set[str] = set()
    unique = []
    for inv in out:
        if inv.text not in seen:
            seen.add(inv.text)
            unique.append(inv)
    return tuple(unique)
