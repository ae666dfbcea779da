"""Figures of dose-response fits (matplotlib; Prism-like): mean ± SD points, fitted curve, the
pointwise confidence band (computed by :func:`kinresist.dose.metrics.curve_band`), IC50 marker.

Plots draw; they compute no statistic of their own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from kinresist.dose.bands import curve_band
from kinresist.dose.engine import BatchFit

__all__ = ["plot_curves"]

_COLORS = ("#1f4e9c", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#2c3e50", "#7f8c8d", "#b7950b")


def plot_curves(
    fit: BatchFit,
    dose: np.ndarray,
    response: np.ndarray,
    labels: Sequence[str],
    *,
    rows: Sequence[int] | None = None,
    ed50: np.ndarray | None = None,
    dose_unit: str = "nM",
    response_label: str = "Response (% of vehicle)",
    title: str | None = None,
) -> Figure:
    """One panel with several curves (rows of ``fit``)."""
    rows = list(range(fit.n_curves)) if rows is None else list(rows)
    fig = Figure(figsize=(5.2, 3.9), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    pos = dose[np.isfinite(dose) & (dose > 0)]
    if pos.size == 0:
        pos = np.array([1.0])
    lmin, lmax = np.log10(pos.min()), np.log10(pos.max())
    ticks = list(range(int(np.ceil(lmin - 0.3)), int(np.floor(lmax + 0.3)) + 1))
    zero_at = min(lmin - 1.0, (ticks[0] if ticks else lmin) - 1.0)
    grid = np.logspace(lmin - 0.3, lmax + 0.3, 200)
    for k, i in enumerate(rows):
        color = _COLORS[k % len(_COLORS)]
        x, y = dose[i], response[i]
        ok = np.isfinite(x) & np.isfinite(y)
        ux = np.unique(x[ok])
        means = np.array([y[ok][x[ok] == u].mean() for u in ux])
        sds = np.array(
            [y[ok][x[ok] == u].std(ddof=1) if (x[ok] == u).sum() > 1 else 0.0 for u in ux]
        )
        lx = np.where(ux > 0, np.log10(np.where(ux > 0, ux, 1.0)), zero_at)
        ax.errorbar(
            lx, means, yerr=sds, fmt="o", color=color, ms=4.5, capsize=3, lw=1, label=labels[i]
        )
        yhat, lo, hi = curve_band(fit, i, grid)
        ax.plot(np.log10(grid), yhat, color=color, lw=1.8)
        if np.isfinite(lo).all():
            ax.fill_between(np.log10(grid), lo, hi, color=color, alpha=0.15, lw=0)
        if ed50 is not None and np.isfinite(ed50[i]) and ed50[i] > 0:
            le = np.log10(ed50[i])
            ye = (
                fit.predict(np.array([[ed50[i]]]))[i, 0]
                if fit.n_curves > 1
                else fit.predict(np.array([ed50[i]]))[0, 0]
            )
            ax.axvline(le, color=color, ls=":", lw=1)
            ax.plot([le], [ye], marker="D", color=color, ms=6, mec="white")
    ax.axvline(0.5 * (zero_at + lmin - 0.3), color="#999999", lw=0.6, ls=(0, (2, 2)))
    ax.set_xticks([zero_at, *ticks])
    ax.set_xticklabels(["0", *[f"$10^{{{t}}}$" for t in ticks]])
    ax.set_xlabel(f"Dose ({dose_unit})")
    ax.set_ylabel(response_label)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
