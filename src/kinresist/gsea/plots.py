"""Enrichment plots: running enrichment score, hit positions and the ranked metric."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from kinresist.gsea.prerank import PrerankResult

__all__ = ["enrichment_figure"]


def enrichment_figure(result: PrerankResult, term: str) -> MplFigure:
    """The classic three-panel GSEA plot of one gene set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = result.running[term]
    hits = result.hits[term]
    row = result.table.set_index("term").loc[term]
    x = np.arange(res.size)
    fig, axes = plt.subplots(
        3, 1, figsize=(5.5, 4.6), sharex=True, gridspec_kw={"height_ratios": [3, 0.6, 1.4]}
    )
    ax = axes[0]
    ax.plot(x, res, color="#1a7f37", lw=1.5, rasterized=True)
    ax.axhline(0, color="#57606a", lw=0.8)
    peak = int(np.argmax(np.abs(res)))
    ax.axvline(peak, color="#cf222e", ls="--", lw=0.9)
    ax.set_ylabel("running ES", fontsize=8)
    ax.set_title(
        f"{term}\nES {row['es']:.3f}  NES {row['nes']:.3f}  FDR {row['fdr']:.3g}", fontsize=9
    )
    axes[1].vlines(hits, 0, 1, color="#1d2430", lw=0.5, rasterized=True)
    axes[1].set_yticks([])
    metric = result.ranked.to_numpy(float)
    axes[2].fill_between(x, metric, color="#8c959f", lw=0, rasterized=True)
    axes[2].set_ylabel("ranked metric", fontsize=8)
    axes[2].set_xlabel("rank in ordered list", fontsize=8)
    for a in axes:
        a.spines["top"].set_visible(False)
        a.spines["right"].set_visible(False)
        a.tick_params(labelsize=7)
    fig.tight_layout()
    return fig
