"""Figures of a call set (matplotlib Figure API, no pyplot): family sizes, VAF against LoD.

:func:`add_call_figures` attaches them to a :class:`~kinresist.ngs.result.CallSet` as SVG
(the ``ngs.call`` workflow's figure hook; reports only embed them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from kinresist.ngs.result import CallSet

__all__ = ["add_call_figures", "family_size_figure", "vaf_lod_figure"]


def family_size_figure(sizes: np.ndarray, min_size: int) -> Figure:
    """Bar chart of reads per UMI family; families below ``min_size`` in grey."""
    fig = Figure(figsize=(6, 2.8))
    ax = fig.add_subplot()
    sizes = np.asarray(sizes, dtype=np.int64)
    if len(sizes):
        top = int(min(sizes.max(), 60))
        counts = np.bincount(np.minimum(sizes, top), minlength=top + 1)[1:]
        xs = np.arange(1, top + 1)
        ax.bar(xs, counts, color=["#d8dde4" if x < min_size else "#0969da" for x in xs], width=0.9)
    ax.set_xlabel("family size (reads per UMI family)")
    ax.set_ylabel("families")
    return fig


def vaf_lod_figure(calls: Sequence[dict[str, Any]]) -> Figure | None:
    """Molecule VAF of each tested allele against its per-site LoD (filled = PASS)."""
    pts = [c for c in calls if c.get("lod") is not None and c.get("af") is not None]
    if not pts:
        return None
    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    for c in pts:
        ok = c["filter"] == "PASS"
        ax.scatter(100 * c["lod"], 100 * c["af"], s=36, color="#1a7f37" if ok else "none",
                   edgecolors="#1a7f37" if ok else "#57606a")  # fmt: skip
        if ok:
            ax.annotate(f"{c['gene']} {c['alteration']}", (100 * c["lod"], 100 * c["af"]),
                        fontsize=8, xytext=(4, 4), textcoords="offset points")  # fmt: skip
    hi = max(max(100 * c["lod"] for c in pts), max(100 * c["af"] for c in pts)) * 1.1
    ax.plot([0, hi], [0, hi], color="#d8dde4", lw=1)
    ax.set_xlabel("per-site LoD (% VAF)")
    ax.set_ylabel("molecule VAF (%)")
    return fig


def add_call_figures(result: CallSet) -> CallSet:
    """Attach the VAF-vs-LoD and family-size figures to ``result`` (once)."""
    from kinresist.core.result import Figure as RFigure

    if result.figures:
        return result
    vaf = vaf_lod_figure(result.body.get("calls", []))
    if vaf is not None:
        result.figures.append(
            RFigure.from_matplotlib(
                vaf,
                "vaf_lod",
                "Molecule VAF of each tested allele against its per-site LoD "
                "(95 % detection power); filled = PASS.",
            )
        )
    if result.counts is not None:
        min_size = int(result.provenance.parameters.get("min_family_size", 1))
        result.figures.append(
            RFigure.from_matplotlib(
                family_size_figure(result.counts.family_sizes, min_size),
                "family_sizes",
                "Reads (templates) per UMI family; families below the minimum size are not "
                "counted as molecules.",
            )
        )
    return result
