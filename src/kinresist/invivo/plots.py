"""Figures of an in vivo analysis (matplotlib Figure API, Prism-like; nothing is computed here).

* :func:`spaghetti_figure` - every animal's growth curve, one panel per arm, shared axes;
* :func:`mean_sem_figure` - mean ± SEM per arm and day (n = animals still measured);
* :func:`waterfall_figure` - best response per animal, bars coloured by mRECIST;
* the Kaplan-Meier figure of time to endpoint is the clinical module's ``km_figure``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "ARM_COLOURS",
    "MRECIST_COLOURS",
    "mean_sem_figure",
    "spaghetti_figure",
    "waterfall_figure",
]

ARM_COLOURS = (
    "#000000",
    "#c0392b",
    "#1f4e9c",
    "#2e8b57",
    "#8e44ad",
    "#d68910",
    "#17a589",
    "#5d6d7e",
)
MRECIST_COLOURS = {
    "CR": "#1a7f37",
    "PR": "#67b346",
    "SD": "#f0b429",
    "PD": "#c0392b",
    "NE": "#b0b0b0",
}
_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*")


def _prism(ax: object) -> None:
    ax.spines["top"].set_visible(False)  # type: ignore[attr-defined]
    ax.spines["right"].set_visible(False)  # type: ignore[attr-defined]
    for side in ("left", "bottom"):
        ax.spines[side].set_linewidth(1.4)  # type: ignore[attr-defined]
    ax.tick_params(direction="out", length=5, width=1.4, labelsize=9)  # type: ignore[attr-defined]


def _ylabel(quantity: str, unit: str | None) -> str:
    name = {"volume": "Tumour volume", "area": "Tumour area (L·W)", "flux": "Total flux"}.get(
        quantity, quantity
    )
    return f"{name} ({unit})" if unit else name


def spaghetti_figure(
    rows: pd.DataFrame,
    arms: Sequence[str],
    *,
    quantity: str = "volume",
    unit: str | None = None,
    log_scale: bool = False,
    x: str = "day",
) -> Figure:
    """One panel per arm; one line per animal (columns subject, arm, ``x``, value)."""
    n = len(arms)
    ncol = min(n, 4)
    nrow = math.ceil(n / ncol)
    fig = Figure(figsize=(3.0 * ncol + 0.6, 2.7 * nrow + 0.4), layout="constrained")
    axes = fig.subplots(nrow, ncol, sharex=True, sharey=True, squeeze=False)
    for k, arm in enumerate(arms):
        ax = axes[k // ncol][k % ncol]
        colour = ARM_COLOURS[k % len(ARM_COLOURS)]
        g = rows[rows["arm"] == arm]
        for _, s in g.groupby("subject", sort=False):
            s = s.sort_values(x)
            ax.plot(s[x], s["value"], "-o", color=colour, lw=1.0, ms=2.5, alpha=0.85)
        ax.set_title(f"{arm} (n={g['subject'].nunique()})", fontsize=10, fontweight="bold")
        if log_scale:
            ax.set_yscale("log")
        _prism(ax)
    for k in range(n, nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    fig.supxlabel("Day" if x == "day" else "Days since baseline", fontsize=10)
    fig.supylabel(_ylabel(quantity, unit), fontsize=10)
    return fig


def mean_sem_figure(
    curves: pd.DataFrame,
    arms: Sequence[str],
    *,
    quantity: str = "volume",
    unit: str | None = None,
    geometric: bool = False,
    day_mark: float | None = None,
    x: str = "day",
) -> Figure:
    """Mean ± SEM (or geometric mean with 95 % CI) per arm and day, n per point in the legend."""
    fig = Figure(figsize=(6.0, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for k, arm in enumerate(arms):
        g = curves[curves["arm"] == arm].sort_values(x)
        if g.empty:
            continue
        colour = ARM_COLOURS[k % len(ARM_COLOURS)]
        marker = _MARKERS[k % len(_MARKERS)]
        if geometric:
            y = g["geo_mean"].to_numpy(float)
            err = np.vstack(
                [y - g["geo_ci_low"].to_numpy(float), g["geo_ci_high"].to_numpy(float) - y]
            )
        else:
            y = g["mean"].to_numpy(float)
            err = g["sem"].to_numpy(float)
        ax.errorbar(
            g[x],
            y,
            yerr=err,
            color=colour,
            marker=marker,
            ms=5,
            lw=1.6,
            capsize=3,
            elinewidth=1.2,
            label=f"{arm} (n={int(g['n'].max())})",
        )
    if day_mark is not None:
        ax.axvline(day_mark, color="#888888", lw=0.8, ls="--")
    if geometric:
        ax.set_yscale("log")
    ax.set_xlabel("Day" if x == "day" else "Days since baseline")
    what = "geometric mean (95% CI)" if geometric else "mean ± SEM"
    ax.set_ylabel(f"{_ylabel(quantity, unit)}, {what}")
    ax.legend(frameon=False, fontsize=8)
    _prism(ax)
    return fig


def waterfall_figure(animals: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Best response (%) per animal, sorted, coloured by mRECIST; not-evaluable animals omitted."""
    a = animals[np.isfinite(animals["best_response"].to_numpy(float))]
    a = a.sort_values("best_response", ascending=False)
    fig = Figure(figsize=(min(14.0, max(4.5, 0.12 * len(a) + 2.5)), 4.2), layout="constrained")
    ax = fig.add_subplot()
    calls = a["mrecist"].fillna("NE").to_numpy(str)
    colours = [MRECIST_COLOURS.get(c, MRECIST_COLOURS["NE"]) for c in calls]
    ax.bar(np.arange(len(a)), a["best_response"].to_numpy(float), color=colours, width=0.85)
    for y in (35, -50, -95):
        ax.axhline(y, color="#666666", lw=0.7, ls=":")
    ax.axhline(0, color="black", lw=1.0)
    ax.set_xticks([])
    ax.set_xlabel("Animals (sorted by best response)")
    ax.set_ylabel("Best response, ΔV from baseline (%)")
    from matplotlib.patches import Patch

    present = [c for c in ("CR", "PR", "SD", "PD", "NE") if c in set(calls)]
    ax.legend(
        handles=[
            Patch(color=MRECIST_COLOURS[c], label=f"m{c}" if c != "NE" else c) for c in present
        ],
        frameon=False,
        fontsize=8,
        title="mRECIST",
        title_fontsize=8,
    )
    if title:
        ax.set_title(title)
    _prism(ax)
    ax.spines["bottom"].set_visible(False)
    return fig
