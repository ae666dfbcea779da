"""Synergy report: renders a ``synergy.score`` :class:`~kinresist.core.Result` (computes nothing)."""

from __future__ import annotations

from typing import Any

from kinresist.core.result import Result
from kinresist.reports.result import _Fig, figure_markup, render_page, render_result

__all__ = ["render", "text"]


def _fmt(v: Any, spec: str = ".2f") -> str:
    if v is None:
        return "NA"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "NA" if f != f else format(f, spec)


def render(result: Result, *, title: str | None = None) -> str:
    """One section per block: score table, heat maps, contour, single agents, Fa-CI, surface."""
    if result.workflow != "synergy.score":
        return render_result(result, title=title)
    figs: dict[str, list[_Fig]] = {}
    for f in result.figures:
        block, _, name = f.name.partition(":")
        figs.setdefault(block, []).append(_Fig(name, f.caption, figure_markup(f)))
    sections = []
    for d in result.body["blocks"]:
        sections.append(
            {
                "block": d,
                "rows": [
                    {
                        "method": m.upper(),
                        "mean": _fmt(s.get("mean")),
                        "area": _fmt(s.get("max_area_3x3")),
                        "p": _fmt(s.get("p_value"), ".3g"),
                        "undefined": s.get("n_undefined"),
                    }
                    for m, s in d["summary"].items()
                ],
                "figures": figs.get(str(d["block_id"]), []),
                "ci_rows": d.get("combination_index_rays", []),
            }
        )
    return render_page(
        "synergy_report.html.j2",
        title=title or "Drug-combination synergy",
        envelope=result.envelope(),
        sections=sections,
        mode=result.provenance.parameters.get("mode", ""),
        fmt=_fmt,
    )


def text(result: Result) -> str:
    """One line per block: each method's mean score and p."""
    if result.workflow != "synergy.score":
        return result.primary_table.to_string(index=False, max_rows=200)
    lines = []
    for d in result.body["blocks"]:
        parts = ", ".join(
            f"{m.upper()} {_fmt(s.get('mean'))} (p {_fmt(s.get('p_value'), '.3g')})"
            for m, s in d["summary"].items()
        )
        flags = f" [{', '.join(d['flags'])}]" if d["flags"] else ""
        lines.append(f"block {d['block_id']}: {d['drug1']} + {d['drug2']}: {parts}{flags}")
    return "\n".join(lines)
