"""Self-contained HTML report of one or more interpretations (cases).

Per case: classification and mechanism text, findings, a drug x finding matrix, the
evidence chain with PubMed / CIViC links, conflicts and VAF notes, ranked options,
next investigations, and an ALK signalling / resistance-pathway picture (inline SVG)
with the case's findings highlighted. Everything is inlined: the file opens offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from os import PathLike
from pathlib import Path
from typing import Any

from kinresist.interpret.contract import InterpretationResult
from kinresist.interpret.result import Interpretation
from kinresist.reports._html import render as render_template
from kinresist.reports._html import svg_markup, write_html

__all__ = [
    "PATHWAY_NODES",
    "pathway_svg",
    "render",
    "render_interpretation_report",
    "text",
    "write_interpretation_report",
]

# node id -> (label, x, y, w, h, group)
PATHWAY_NODES: dict[str, tuple[str, int, int, int, int, str]] = {
    "egfr": ("EGFR", 20, 40, 78, 34, "bypass"),
    "her2": ("HER2", 108, 40, 78, 34, "bypass"),
    "alk": ("ALK fusion", 300, 40, 130, 34, "target"),
    "met": ("MET", 530, 40, 78, 34, "bypass"),
    "kit": ("KIT", 618, 40, 78, 34, "bypass"),
    "igf1r": ("IGF-1R", 706, 40, 78, 34, "bypass"),
    "ras": ("RAS (KRAS)", 110, 150, 110, 34, "mapk"),
    "raf": ("RAF", 110, 215, 110, 34, "mapk"),
    "mek": ("MEK", 110, 280, 110, 34, "mapk"),
    "erk": ("ERK", 110, 345, 110, 34, "mapk"),
    "pi3k": ("PI3K", 310, 150, 110, 34, "pi3k"),
    "akt": ("AKT", 310, 215, 110, 34, "pi3k"),
    "mtor": ("mTOR", 310, 280, 110, 34, "pi3k"),
    "jak": ("JAK", 500, 150, 110, 34, "stat"),
    "stat3": ("STAT3", 500, 215, 110, 34, "stat"),
    "src": ("SRC", 640, 150, 100, 34, "other"),
    "fak": ("FAK (PTK2)", 640, 215, 100, 34, "other"),
    "erk5": ("ERK5", 640, 280, 100, 34, "other"),
    "prolif": ("proliferation / survival", 270, 420, 250, 34, "out"),
}
_EDGES = [
    ("alk", "ras"), ("alk", "pi3k"), ("alk", "jak"), ("egfr", "ras"), ("her2", "ras"), ("met", "ras"),
    ("met", "pi3k"), ("kit", "pi3k"), ("igf1r", "pi3k"), ("ras", "raf"), ("raf", "mek"), ("mek", "erk"),
    ("pi3k", "akt"), ("akt", "mtor"), ("jak", "stat3"), ("src", "fak"), ("fak", "erk5"),
    ("erk", "prolif"), ("mtor", "prolif"), ("stat3", "prolif"), ("erk5", "prolif"),
]  # fmt: skip
GENE_TO_NODE = {
    "ALK": "alk", "EGFR": "egfr", "ERBB2": "her2", "MET": "met", "KIT": "kit", "IGF1R": "igf1r",
    "KRAS": "ras", "NRAS": "ras", "HRAS": "ras", "BRAF": "raf", "MAP2K1": "mek", "MAPK1": "erk",
    "PIK3CA": "pi3k", "AKT1": "akt", "MTOR": "mtor", "JAK1": "jak", "JAK2": "jak", "STAT3": "stat3",
    "SRC": "src", "PTK2": "fak", "MAPK7": "erk5",
}  # fmt: skip
_FILL = {"bypass": "#ddf4ff", "target": "#fbefff", "mapk": "#f6f8fa", "pi3k": "#f6f8fa", "stat": "#f6f8fa",
         "other": "#fff8c5", "out": "#eaeef2"}  # fmt: skip


def _node_findings(it: Interpretation) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in it.findings:
        node = GENE_TO_NODE.get(f.finding.gene)
        if node is None:
            continue
        label = (
            f.finding.alteration
            if f.finding.kind != "fusion"
            else f.finding.alteration.split(" ")[-1]
        )
        if f.finding.vaf is not None:
            label += f" ({100 * f.finding.vaf:.3g}%)"
        out.setdefault(node, []).append(label)
    return out


def pathway_svg(it: Interpretation) -> str:
    """ALK signalling and resistance pathways with this case's findings highlighted (inline SVG)."""
    hits = _node_findings(it)
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 480" width="100%" role="img" '
        'aria-label="ALK signalling and resistance pathways">',
        '<defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8c959f"/></marker></defs>',
        '<rect x="5" y="28" width="790" height="58" rx="6" fill="none" stroke="#d0d7de" stroke-dasharray="4 3"/>',
        '<text x="12" y="22" font-size="11" fill="#57606a">cell membrane: ALK fusion (target) and bypass RTKs</text>',
    ]

    def centre(n: str) -> tuple[float, float, int, int]:
        _, x, y, w, h, _ = PATHWAY_NODES[n]
        return x + w / 2, y + h / 2, w, h

    for a, b in _EDGES:
        ax, ay, _, ah = centre(a)
        bx, by, _, bh = centre(b)
        y1 = ay + ah / 2 if by > ay else ay
        y2 = by - bh / 2 if by > ay else by
        parts.append(
            f'<line x1="{ax:.0f}" y1="{y1:.0f}" x2="{bx:.0f}" y2="{y2:.0f}" stroke="#8c959f" '
            'stroke-width="1.3" marker-end="url(#arr)"/>'
        )
    for node, (label, x, y, w, h, group) in PATHWAY_NODES.items():
        hit = node in hits
        stroke = "#cf222e" if hit else "#8c959f"
        fill = "#ffebe9" if hit else _FILL[group]
        width = 3 if hit else 1
        parts.append(
            f'<g id="node-{node}" class="{"hit" if hit else "node"}"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
            f'<text x="{x + w / 2:.0f}" y="{y + h / 2 + 4:.0f}" font-size="12" text-anchor="middle" '
            f'font-weight="{"700" if hit else "400"}">{escape(label)}</text></g>'
        )
        if hit:
            text = escape(", ".join(hits[node]))
            parts.append(
                f'<text x="{x + w / 2:.0f}" y="{y + h + 13}" font-size="10.5" text-anchor="middle" fill="#cf222e">{text}</text>'
            )
    parts.append(
        '<text x="12" y="474" font-size="10.5" fill="#57606a">Red: altered in this sample. '
        "Blue: bypass RTKs (EGFR, HER2, MET, KIT, IGF-1R); yellow: SRC/FAK/ERK5 (FAK-inhibitor resistance).</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _case_context(it: Interpretation, index: int) -> dict[str, Any]:
    units: list[str] = []
    for d in it.drugs:
        for label, _ in d.per_finding:
            if label not in units:
                units.append(label)
    matrix = []
    for d in it.drugs:
        cells = dict(d.per_finding)
        matrix.append({"drug": d, "cells": [cells.get(u, "") for u in units]})
    return {
        "index": index,
        "it": it,
        "units": units,
        "matrix": matrix,
        "svg": svg_markup(pathway_svg(it)),
        "with_evidence": [d for d in it.drugs if d.evidence or d.context],
    }


def render_interpretation_report(
    interpretations: Sequence[Interpretation], *, title: str | None = None
) -> str:
    """The HTML text of a report covering one or more cases."""
    if not interpretations:
        msg = "no interpretations to report"
        raise ValueError(msg)
    cases = [_case_context(it, i + 1) for i, it in enumerate(interpretations)]
    first = interpretations[0]
    return render_template(
        "interpretation.html.j2",
        title=title or "kinresist resistance interpretation",
        cases=cases,
        kb_version=first.kb_version,
        kb_release_date=first.kb_release_date,
        created=first.header.get("created", ""),
        notice=first.header.get("notice", ""),
    )


def write_interpretation_report(
    interpretations: Sequence[Interpretation],
    path: str | PathLike[str],
    *,
    title: str | None = None,
) -> Path:
    """Write the self-contained HTML report; return its path."""
    return write_html(path, render_interpretation_report(interpretations, title=title))


def render(result: InterpretationResult, *, title: str | None = None) -> str:
    """The HTML report of an ``interpret`` result (every case)."""
    return render_interpretation_report(result.interpretations, title=title)


def text(result: InterpretationResult) -> str:
    """A terminal summary of every case."""
    from kinresist.interpret.formatting import to_text

    return "\n".join(to_text(it) for it in result.interpretations)
