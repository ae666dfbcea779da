"""Self-contained HTML report of synergy scores (inline PNGs and inline plotly.js)."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from matplotlib.figure import Figure

from kinresist.synergy.combination_index import combination_index
from kinresist.synergy.engine import BlockScores

__all__ = ["render_report", "write_report"]

_TEMPLATE = "synergy_report.html.j2"


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(v: Any, spec: str = ".2f") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "NA" if f != f else format(f, spec)


def render_report(
    scores: Sequence[BlockScores],
    *,
    payload: Mapping[str, Any] | None = None,
    surfaces: bool = True,
) -> str:
    """The report as an HTML string (one section per block)."""
    from kinresist.synergy.plots import (
        plot_contour,
        plot_fa_ci,
        plot_heatmap,
        plot_single_agents,
        surface_figure,
    )

    sections = []
    first_plotly = True
    for s in scores:
        methods = list(s.synergy)
        figs = {f"heatmap_{m}": _png(plot_heatmap(s, m)) for m in methods}
        main = "zip" if "zip" in methods else methods[0]
        figs["contour"] = _png(plot_contour(s, main))
        figs["singles"] = _png(plot_single_agents(s))
        ci = combination_index(s.block)
        figs["fa_ci"] = _png(plot_fa_ci(ci, title=f"Fa–CI, block {s.block.block_id}"))
        surface_html = ""
        if surfaces:
            surface_html = surface_figure(s, main).to_html(
                full_html=False, include_plotlyjs=True if first_plotly else False
            )
            first_plotly = False
        sections.append(
            {
                "block": s.block,
                "mode": s.mode,
                "rows": [
                    {
                        "method": m.upper(),
                        "mean": _fmt(s.summary[m]["mean"]),
                        "area": _fmt(s.summary[m]["max_area_3x3"]),
                        "p": _fmt(s.summary[m]["p_value"], ".3g"),
                        "undefined": s.summary[m]["n_undefined"],
                    }
                    for m in methods
                ],
                "flags": s.flags,
                "figs": figs,
                "methods": methods,
                "surface": surface_html,
                "ci_rows": [
                    {
                        "ratio": _fmt(r["ratio"], ".3g"),
                        **{f"ci{int(f * 100)}": _fmt(r[f"ci_{f:g}"], ".3g") for f in ci.fa_levels},
                    }
                    for r in ci.fixed_ratio
                ],
            }
        )
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kinresist.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    head = dict(payload or {})
    return env.get_template(_TEMPLATE).render(sections=sections, head=head)


def write_report(
    scores: Sequence[BlockScores], path: str | Path, *, payload: Mapping[str, Any] | None = None
) -> Path:
    """Write the HTML report to ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(scores, payload=payload), encoding="utf-8")
    return p
