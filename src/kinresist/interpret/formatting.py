"""Plain-text and TSV renderings of an :class:`~kinresist.interpret.result.Interpretation`."""

from __future__ import annotations

from kinresist.interpret.result import Interpretation
from kinresist.provenance import tsv_header

__all__ = ["TSV_COLUMNS", "to_text", "to_tsv"]

TSV_COLUMNS = (
    "sample",
    "drug",
    "call",
    "conflict",
    "rank",
    "prior_therapy",
    "classification",
    "findings",
    "evidence_ids",
    "pmids",
    "civic_eids",
    "levels",
    "rationale",
    "vaf_note",
)


def _clean(text: object) -> str:
    return " ".join(str("" if text is None else text).replace("\t", " ").split())


def to_tsv(interpretations: list[Interpretation]) -> str:
    """One row per sample x drug, after ``## key: value`` stamp lines."""
    if not interpretations:
        return ""
    lines = [tsv_header(interpretations[0].header).rstrip("\n"), "\t".join(TSV_COLUMNS)]
    lines += ["\t".join(_clean(c) for c in row) for row in drug_rows(interpretations)]
    return "\n".join(lines) + "\n"


def drug_rows(interpretations: list[Interpretation]) -> list[list[str]]:
    """The rows of :func:`to_tsv` (one per sample x drug), as lists of cell text."""
    rows = []
    for it in interpretations:
        labels = ";".join(f"{f.finding.label}[{f.match_level}]" for f in it.findings)
        for d in it.drugs:
            row = [
                it.sample or "",
                d.drug,
                d.call,
                "yes" if d.conflict else "no",
                "" if d.rank is None else str(d.rank),
                "yes" if d.prior_therapy else "no",
                it.classification,
                labels,
                ";".join(e.id for e in d.evidence),
                ";".join(sorted({e.pmid for e in d.evidence if e.pmid})),
                ";".join(sorted({e.civic_eid for e in d.evidence if e.civic_eid})),
                ";".join(e.level for e in d.evidence),
                d.rationale,
                d.vaf_note,
            ]
            rows.append([_clean(c) for c in row])
    return rows


def to_text(it: Interpretation) -> str:
    """A short human-readable summary."""
    out = [
        f"kinresist interpretation - KB {it.kb_version}"
        + (f" - sample {it.sample}" if it.sample else ""),
        it.header.get("notice", ""),
        "",
        f"Classification: {it.classification} - {it.classification_text}",
        f"Suggestion: {it.suggestion}",
        "",
        "Findings:",
    ]
    for f in it.findings:
        vaf = "" if f.finding.vaf is None else f" VAF {100 * f.finding.vaf:.3g}%"
        note = f" ({f.note})" if f.note else ""
        out.append(f"  {f.finding.label}{vaf}: match {f.match_level}{note}")
    out += ["", "Drugs:"]
    for d in it.drugs:
        refs = ", ".join(
            dict.fromkeys(e.civic_eid or (f"PMID {e.pmid}" if e.pmid else e.id) for e in d.evidence)
        )
        flags = (" [conflict]" if d.conflict else "") + (
            " [prior therapy]" if d.prior_therapy else ""
        )
        out.append(f"  {d.drug:<24} {d.call:<12}{flags} {refs}")
        if d.vaf_note:
            out.append(f"      VAF: {d.vaf_note}")
    if it.options:
        out += ["", "Next-line options (ranked):"]
        out += [f"  {o.rank}. {o.option} - {o.basis}" for o in it.options]
    if it.investigations:
        out += ["", "Next investigations:"]
        out += [f"  - {i.text}" for i in it.investigations]
    if it.notes:
        out += ["", "Notes:"]
        out += [f"  - {n}" for n in it.notes]
    return "\n".join(out) + "\n"
