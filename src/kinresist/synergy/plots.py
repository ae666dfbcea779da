"""Figures (matplotlib ``Figure`` API, no pyplot state) and the plotly 3-D surface."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from kinresist.synergy.combination_index import CIResult
from kinresist.synergy.engine import BlockScores

__all__ = [
    "plot_contour",
    "plot_fa_ci",
    "plot_heatmap",
    "plot_single_agents",
    "surface_figure",
]


def _labels(c: np.ndarray) -> list[str]:
    return [f"{v:.3g}" for v in c]


def plot_heatmap(scores: BlockScores, method: str = "zip") -> Figure:
    """Per-cell synergy (observed − expected, %) as an annotated heatmap."""
    b = scores.block
    s = scores.synergy[method]
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    lim = max(float(np.nanmax(np.abs(s))), 1e-9)
    im = ax.imshow(s, cmap="RdBu_r", vmin=-lim, vmax=lim, origin="lower")
    for i in range(s.shape[0]):
        for j in range(s.shape[1]):
            txt = "NA" if not np.isfinite(s[i, j]) else f"{s[i, j]:.1f}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(b.conc2.size), _labels(b.conc2), rotation=45)
    ax.set_yticks(range(b.conc1.size), _labels(b.conc1))
    unit = f" ({b.conc_unit})" if b.conc_unit else ""
    ax.set_xlabel(f"{b.drug2}{unit}")
    ax.set_ylabel(f"{b.drug1}{unit}")
    mean = scores.summary[method]["mean"]
    ax.set_title(f"{method.upper()} synergy, block {b.block_id}: mean {mean:.2f}")
    fig.colorbar(im, ax=ax, label="synergy (% points)")
    return fig


def plot_contour(scores: BlockScores, method: str = "zip") -> Figure:
    """Filled contour of the synergy surface on the dose-index grid (log-spaced doses)."""
    b = scores.block
    s = np.nan_to_num(scores.synergy[method], nan=0.0)
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    lim = max(float(np.max(np.abs(s))), 1e-9)
    levels = np.linspace(-lim, lim, 21)
    cs = ax.contourf(
        np.arange(b.conc2.size), np.arange(b.conc1.size), s, levels=levels, cmap="RdBu_r"
    )
    ax.contour(
        np.arange(b.conc2.size),
        np.arange(b.conc1.size),
        s,
        levels=[0.0],
        colors="k",
        linewidths=0.8,
    )
    ax.set_xticks(range(b.conc2.size), _labels(b.conc2), rotation=45)
    ax.set_yticks(range(b.conc1.size), _labels(b.conc1))
    ax.set_xlabel(b.drug2)
    ax.set_ylabel(b.drug1)
    ax.set_title(f"{method.upper()} synergy contour, block {b.block_id}")
    fig.colorbar(cs, ax=ax, label="synergy (% points)")
    return fig


def _curve_values(par: dict[str, Any], x: np.ndarray) -> np.ndarray:
    b, c, d, e = (float(par[k]) for k in "bcde")
    if not all(math.isfinite(v) for v in (b, c, d, e)):
        return np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        if par.get("model") == "L.4":
            return c + (d - c) / (1 + np.exp(b * (np.log(x) - e)))
        return c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e))))


def plot_single_agents(scores: BlockScores) -> Figure:
    """Monotherapy data and the fitted single-agent curves used by ZIP/Loewe."""
    b = scores.block
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    for k, (name, conc, resp) in enumerate(
        ((b.drug1, b.conc1, b.inhibition[:, 0]), (b.drug2, b.conc2, b.inhibition[0, :]))
    ):
        ax = fig.add_subplot(1, 2, k + 1)
        pos = conc > 0
        ax.scatter(conc[pos], resp[pos], color="k", zorder=3, label="observed")
        grid = np.geomspace(conc[pos].min() / 3, conc[pos].max() * 3, 200)
        par = scores.single_agents.get(name, {})
        if par:
            status = str(par.get("status", "ok"))
            note = "" if status == "ok" else f", {status}"  # at_limit / step / failed
            ax.plot(grid, _curve_values(par, grid), label=f"fit ({par.get('model', 'LL.4')}{note})")
        ax.axhline(float(resp[0]), ls=":", color="grey", label="dose 0")
        ax.set_xscale("log")
        ax.set_xlabel(f"{name} ({b.conc_unit})" if b.conc_unit else name)
        ax.set_ylabel("% inhibition")
        ax.legend(fontsize=7)
    fig.suptitle(f"Single agents, block {b.block_id}")
    return fig


def plot_fa_ci(ci: CIResult, *, title: str = "") -> Figure:
    """Fa–CI plot: CI over fraction affected for each constant-ratio ray."""
    fig = Figure(figsize=(5.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    fa = np.linspace(0.05, 0.97, 93)
    for k, row in enumerate(ci.fixed_ratio):
        ax.plot(fa, ci.fa_ci_curve(k, fa), label=f"d2:d1 = {float(row['ratio']):.3g}")  # type: ignore[arg-type]
    for cell in ci.cells:
        if math.isfinite(cell["ci"]):
            ax.scatter(cell["fa"], cell["ci"], s=10, color="k", alpha=0.5)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(1e-2, 1e2)  # CI outside [0.01, 100] is clipped from view, not from the data
    ax.set_xlabel("fraction affected (fa)")
    ax.set_ylabel("combination index (CI)")
    ax.set_title(title or "Fa–CI (Chou–Talalay)")
    if ci.fixed_ratio:
        ax.legend(fontsize=7)
    return fig


def surface_figure(scores: BlockScores, method: str = "zip") -> Any:
    """Interactive plotly 3-D surface of the synergy over log10 doses."""
    import plotly.graph_objects as go

    b = scores.block
    s = scores.synergy[method]
    x = np.log10(np.where(b.conc2 > 0, b.conc2, b.conc2[1] / 10))
    y = np.log10(np.where(b.conc1 > 0, b.conc1, b.conc1[1] / 10))
    fig = go.Figure(
        go.Surface(
            z=s,
            x=x,
            y=y,
            colorscale="RdBu",
            reversescale=True,
            cmid=0.0,
            colorbar={"title": "synergy"},
        )
    )
    fig.update_layout(
        title=f"{method.upper()} synergy surface, block {b.block_id}",
        scene={
            "xaxis_title": f"log10 {b.drug2}",
            "yaxis_title": f"log10 {b.drug1}",
            "zaxis_title": "synergy (% points)",
        },
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        height=480,
    )
    return fig
