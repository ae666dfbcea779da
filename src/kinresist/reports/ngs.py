"""Self-contained HTML report of ``kinresist ngs call`` (calls, hotspot LoDs, family sizes).

Figures are matplotlib ``Figure`` objects (no pyplot) embedded as inline SVG.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from kinresist.reports._html import render, svg_markup, write_html

__all__ = ["render_ngs_report", "write_ngs_report"]


def _svg(fig: Figure) -> Any:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return svg_markup(text[text.index("<svg") :])


def _family_figure(sizes: np.ndarray, min_size: int) -> Figure:
    fig = Figure(figsize=(6, 2.8))
    ax = fig.add_subplot()
    if len(sizes):
        top = int(min(sizes.max(), 60))
        counts = np.bincount(np.minimum(sizes, top), minlength=top + 1)[1:]
        xs = np.arange(1, top + 1)
        ax.bar(xs, counts, color=["#d8dde4" if x < min_size else "#0969da" for x in xs], width=0.9)
    ax.set_xlabel("family size (reads per UMI family)")
    ax.set_ylabel("families")
    return fig


def _vaf_figure(calls: list[dict[str, Any]]) -> Figure | None:
    pts = [c for c in calls if c.get("lod") is not None and c.get("af") is not None]
    if not pts:
        return None
    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    for c in pts:
        ok = c["filter"] == "PASS"
        ax.scatter(
            100 * c["lod"],
            100 * c["af"],
            s=36,
            color="#1a7f37" if ok else "none",
            edgecolors="#1a7f37" if ok else "#57606a",
        )
        if ok:
            ax.annotate(
                f"{c['gene']} {c['alteration']}",
                (100 * c["lod"], 100 * c["af"]),
                fontsize=8,
                xytext=(4, 4),
                textcoords="offset points",
            )
    hi = max(max(100 * c["lod"] for c in pts), max(100 * c["af"] for c in pts)) * 1.1
    ax.plot([0, hi], [0, hi], color="#d8dde4", lw=1)
    ax.set_xlabel("per-site LoD (% VAF)")
    ax.set_ylabel("molecule VAF (%)")
    return fig


def render_ngs_report(payload: dict[str, Any], family_sizes: np.ndarray, *, sample: str) -> str:
    """HTML text for a ``kinresist.ngs.calls`` payload and the family sizes of the run."""
    min_size = int(payload["parameters"]["consensus"]["min_family_size"])
    vaf = _vaf_figure(payload["calls"])
    return render(
        "ngs_calls.html.j2",
        p=payload,
        sample=sample,
        vaf_svg=_svg(vaf) if vaf is not None else None,
        family_svg=_svg(_family_figure(np.asarray(family_sizes, dtype=np.int64), min_size)),
    )


def write_ngs_report(
    path: str | Path, payload: dict[str, Any], family_sizes: np.ndarray, *, sample: str
) -> Path:
    """Write the report; return its path."""
    return write_html(path, render_ngs_report(payload, family_sizes, sample=sample))
