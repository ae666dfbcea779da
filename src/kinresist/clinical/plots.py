"""Figures of clinical results (matplotlib Figure API, no pyplot; nothing is computed here).

* :func:`km_figure` - Kaplan-Meier curves with censoring ticks, the pointwise band (its transform
  in the legend title) and the number-at-risk table underneath, as survminer's ``ggsurvplot``.
* :func:`forest_figure` - subgroup hazard ratios on a log axis with their CIs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kinresist.clinical._format import fmt_ci
from kinresist.clinical._km import KaplanMeier

__all__ = ["forest_figure", "km_figure"]

_COLOURS = ("#1f4e9c", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#5d6d7e", "#17a589")


def _prism(ax: object) -> None:
    """Prism-like axes: no top/right spines, outward ticks."""
    ax.spines["top"].set_visible(False)  # type: ignore[attr-defined]
    ax.spines["right"].set_visible(False)  # type: ignore[attr-defined]
    ax.tick_params(direction="out", length=4, width=1)  # type: ignore[attr-defined]


def km_figure(
    km: KaplanMeier,
    *,
    risk_times: Sequence[float],
    time_unit: str = "",
    ylabel: str = "Survival probability",
    title: str | None = None,
    show_ci: bool = True,
) -> Figure:
    """KM curves (step functions from (0, 1)) with censor ticks and a risk table below."""
    n_groups = len(km.curves)
    fig = Figure(figsize=(6.4, 4.6 + 0.28 * n_groups))
    grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 0.6 + 0.3 * n_groups], hspace=0.35)
    ax = fig.add_subplot(grid[0])
    risk_ax = fig.add_subplot(grid[1], sharex=ax)
    xmax = max([c.max_time for c in km.curves] + [max(risk_times, default=0.0)])
    for i, c in enumerate(km.curves):
        colour = _COLOURS[i % len(_COLOURS)]
        x = np.concatenate([[0.0], c.time])
        y = np.concatenate([[1.0], c.surv])
        label = f"{c.label} (n={c.n}, events={c.events})"
        ax.step(x, y, where="post", color=colour, lw=1.8, label=label)
        if show_ci:
            lo = np.concatenate([[1.0], c.lower])
            hi = np.concatenate([[1.0], c.upper])
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(x[ok], lo[ok], hi[ok], step="post", color=colour, alpha=0.15, lw=0)
        cens = c.n_censor > 0
        ax.plot(c.time[cens], c.surv[cens], "|", color=colour, ms=7, mew=1.2)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0, xmax * 1.02 if xmax > 0 else 1)
    ax.set_ylabel(ylabel)
    band = f"{round(km.conf_level * 100)}% CI ({km.conf_type} transform)" if show_ci else None
    ax.legend(frameon=False, fontsize=8, loc="upper right", title=band, title_fontsize=7)
    if title:
        ax.set_title(title)
    _prism(ax)
    ax.tick_params(labelbottom=False)
    # risk table
    risk = km.risk_table(list(risk_times))
    for i, (_, row) in enumerate(risk.iterrows()):
        ypos = n_groups - 1 - i
        colour = _COLOURS[i % len(_COLOURS)]
        for t, v in zip(risk_times, row.iloc[1:], strict=True):
            risk_ax.text(t, ypos, str(int(v)), ha="center", va="center", fontsize=8, color=colour)
    risk_ax.set_yticks(range(n_groups))
    risk_ax.set_yticklabels([c.label for c in reversed(km.curves)], fontsize=8)
    risk_ax.set_ylim(-0.6, n_groups - 0.4)
    risk_ax.set_xticks(list(risk_times))
    risk_ax.set_xlabel(f"Time ({time_unit})" if time_unit else "Time")
    risk_ax.set_title("Number at risk", fontsize=8, loc="left")
    for side in ("top", "right", "left"):
        risk_ax.spines[side].set_visible(False)
    risk_ax.tick_params(axis="y", length=0)
    return fig


def _val(v: object) -> float | None:
    """A finite number, or None for None/NaN/inf (pandas turns None into NaN)."""
    if v is None or not isinstance(v, float | int):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def forest_figure(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Forest plot of a subgroup table (columns: subgroup, level, n, hr, ci_low, ci_high, method).

    Rows without an estimate are listed with "not estimable"; Firth-penalised estimates are
    drawn with open markers.
    """
    rows = table.reset_index(drop=True)
    n = len(rows)
    fig = Figure(figsize=(7.2, 0.9 + 0.32 * max(n, 1)))
    ax = fig.add_axes((0.36, 0.12, 0.38, 0.8))
    finite = [
        v
        for col in ("ci_low", "ci_high", "hr")
        for v in (_val(x) for x in rows[col].tolist())
        if v is not None and v > 0
    ]
    lo = min([*finite, 0.5])
    hi = max([*finite, 2.0])
    for i, (_, r) in enumerate(rows.iterrows()):
        y = n - 1 - i
        label = f"{r['subgroup']}: {r['level']}" if r["level"] != "" else str(r["subgroup"])
        ax.annotate(
            f"{label} (n={int(r['n'])})",
            xy=(0, y),
            xycoords=("axes fraction", "data"),
            xytext=(-8, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=8,
        )
        hr, c_lo, c_hi = _val(r["hr"]), _val(r["ci_low"]), _val(r["ci_high"])
        if hr is None:
            text = "not estimable"
        else:
            firth = str(r.get("method", "")) == "firth"
            ax.plot([c_lo or lo, c_hi or hi], [y, y], color="#333333", lw=1.2)
            ax.plot(
                [hr], [y], marker="s", ms=6, color="#1f4e9c", mfc="white" if firth else "#1f4e9c"
            )
            text = fmt_ci(hr, c_lo, c_hi, 2) + (" (Firth)" if firth else "")
        ax.annotate(
            text,
            xy=(1, y),
            xycoords=("axes fraction", "data"),
            xytext=(8, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=8,
        )
    ax.axvline(1.0, color="#888888", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlim(lo / 1.3, hi * 1.3)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_yticks([])
    ax.set_xlabel("Hazard ratio (95% CI)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    return fig
