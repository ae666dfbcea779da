"""Figures of a blot analysis (drawing only; every number comes from the analysis).

* ``image_<name>``: the blot with lane rectangles, band rectangles (red = saturated, orange =
  near saturation, grey = low signal) and target windows;
* ``profiles_<name>``: the lane profiles with each band's background (baseline) and the
  integrated area shaded;
* ``fold_change``: fold change per condition, one point per blot, geometric mean and CI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kinresist.core.result import Figure, Result

if TYPE_CHECKING:
    from kinresist.blot.analyze import ImageAnalysis

__all__ = ["add_figures", "blot_figures"]

#: Lanes drawn in one profile figure (the table has them all).
MAX_PROFILE_LANES = 24


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.linewidth": 1.0,
            "svg.fonttype": "none",
        }
    )
    return plt


def _colour(flags: tuple[str, ...]) -> str:
    if "saturated" in flags:
        return "#d62728"
    if "near_saturation" in flags:
        return "#ff7f0e"
    if "low_signal" in flags or "not_detected" in flags:
        return "#7f7f7f"
    return "#1f77b4"


def image_figure(a: ImageAnalysis) -> Figure:
    plt = _pyplot()
    sig = a.image.signal
    step = max(1, int(np.ceil(max(sig.shape) / 800)))
    shown = sig[::step, ::step]
    lo, hi = np.percentile(shown, [1.0, 99.7])
    h, w = sig.shape
    fig, ax = plt.subplots(figsize=(min(10.0, 2.0 + w / 60), min(8.0, 1.5 + h / 60)))
    ax.imshow(
        shown,
        cmap="gray_r",
        vmin=lo,
        vmax=hi if hi > lo else lo + 1,
        extent=(0, w, h, 0),
        interpolation="nearest",
    )
    for ln in a.layout.lanes:
        ax.add_patch(
            plt.Rectangle((ln.x0, 0), ln.width, h, fill=False, lw=0.6, ec="#2ca02c", ls="--")
        )
        ax.text((ln.x0 + ln.x1) / 2, -4, str(ln.index), ha="center", va="bottom", fontsize=7)
    lanes = {ln.index: ln for ln in a.layout.lanes}
    for _target, m in a.measures:
        ln = lanes[m.lane]
        ax.add_patch(
            plt.Rectangle(
                (ln.x0, m.y_start),
                ln.width,
                m.y_end - m.y_start + 1,
                fill=False,
                lw=0.9,
                ec=_colour(m.flags),
            )
        )
    for target, (y0, y1, src) in a.windows.items():
        ax.text(w + 3, (y0 + y1) / 2, f"{target}\n({src})", va="center", fontsize=7)
    ax.set_xlim(0, w)
    ax.set_ylim(h, -12)
    ax.set_xlabel("column (px)")
    ax.set_ylabel("row (px)")
    ax.set_title(f"{a.image.name}: lanes ({a.layout.method}) and bands")
    return Figure.from_matplotlib(
        fig,
        name=f"image_{a.image.name}",
        caption=(
            "Lane rectangles (green), band rectangles between the flanking minima (blue; red "
            "saturated, orange near saturation, grey low signal), target windows at right."
        ),
    )


def profiles_figure(a: ImageAnalysis, method: str) -> Figure:
    plt = _pyplot()
    lanes = a.layout.lanes[:MAX_PROFILE_LANES]
    n = len(lanes)
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(2.6 * ncol, 1.9 * nrow), squeeze=False, sharex=True, sharey=True
    )
    by_lane: dict[int, list] = {}
    for target, m in a.measures:
        by_lane.setdefault(m.lane, []).append((target, m))
    for ax, ln in zip(axes.ravel(), lanes, strict=False):
        prof = a.profiles[ln.index]
        y = np.arange(len(prof))
        ax.plot(y, prof, lw=0.8, color="black")
        for _target, m in by_lane.get(ln.index, []):
            rows = np.arange(m.y_start, m.y_end + 1)
            base = np.asarray(m.baseline)
            if len(base) == len(rows):
                ax.fill_between(rows, base, prof[rows], color=_colour(m.flags), alpha=0.35, lw=0)
                ax.plot(rows, base, color=_colour(m.flags), lw=1.0)
            ax.axvspan(m.window[0], m.window[1], color="#cccccc", alpha=0.25, lw=0)
        ax.set_title(f"lane {ln.index}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.locator_params(nbins=4)
        ax.label_outer()
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.supxlabel("row (px; top = high MW)", fontsize=8)
    fig.supylabel("mean signal across lane", fontsize=8)
    fig.subplots_adjust(wspace=0.08, hspace=0.35)
    more = len(a.layout.lanes) - n
    return Figure.from_matplotlib(
        fig,
        name=f"profiles_{a.image.name}",
        caption=(
            f"Lane profiles of {a.image.name}; background '{method}' drawn under each band, "
            "integrated area shaded, target windows grey."
            + (f" {more} further lanes are in the tables." if more > 0 else "")
        ),
    )


def fold_change_figure(
    per_lane: pd.DataFrame, reps: pd.DataFrame, value_name: str
) -> Figure | None:
    if per_lane.empty or reps.empty:
        return None
    plt = _pyplot()
    groups = list(dict.fromkeys(zip(reps["cell_line"].fillna(""), reps["target"], strict=True)))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.2), squeeze=False)
    for ax, (cl, target) in zip(axes.ravel(), groups, strict=True):
        r = reps[(reps["cell_line"].fillna("") == cl) & (reps["target"] == target)]
        lanes = per_lane[(per_lane["cell_line"].fillna("") == cl) & (per_lane["target"] == target)]
        conds = list(r["condition"])
        x = np.arange(len(conds))
        for i, cond in enumerate(conds):
            pts = lanes[lanes["condition"] == cond]["fold_change"].to_numpy(float)
            pts = pts[np.isfinite(pts) & (pts > 0)]
            ax.scatter(np.full(len(pts), i), pts, s=14, color="#7f7f7f", zorder=2)
        fc = r["fold_change"].to_numpy(float)
        lo = r["ci_low"].to_numpy(float)
        hi = r["ci_high"].to_numpy(float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.errorbar(
            x[ok],
            fc[ok],
            yerr=[fc[ok] - lo[ok], hi[ok] - fc[ok]],
            fmt="none",
            ecolor="black",
            capsize=3,
            zorder=3,
        )
        ax.scatter(x, fc, marker="_", s=300, color="black", zorder=4)
        ax.axhline(1.0, color="#999999", lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_xticks(x, conds, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel(f"{value_name} fold change vs control")
        ax.set_title(f"{cl} {target}".strip(), fontsize=9)
    fig.tight_layout()
    return Figure.from_matplotlib(
        fig,
        name=f"fold_change_{value_name}",
        caption=(
            "Fold change vs control lanes: one grey point per blot, black bar = combined "
            "estimate with its confidence interval (log scale)."
        ),
    )


def blot_figures(analyses: list[ImageAnalysis], tables: dict[str, pd.DataFrame]) -> list[Figure]:
    """All figures of an analysis."""
    figs: list[Figure] = []
    method = str(tables["bands"]["background"].iloc[0]) if len(tables["bands"]) else ""
    for a in analyses:
        figs.append(image_figure(a))
        figs.append(profiles_figure(a, method))
    reps = tables.get("replicates")
    if reps is not None and len(reps):
        from kinresist.blot.normalise import condition_label

        for frame_name, quantity, label in (
            ("ratios", "phospho_total_ratio", "phospho_total"),
            ("normalised", "loading_normalised_intensity", "loading_normalised"),
        ):
            per_lane = tables[frame_name]
            if per_lane.empty:
                continue
            per_lane = per_lane.assign(condition=per_lane.apply(condition_label, axis=1))
            fig = fold_change_figure(per_lane, reps[reps["quantity"] == quantity], label)
            if fig is not None:
                figs.append(fig)
    return figs


def add_figures(result: Result) -> Result:
    """Draw the figures of a blot result (the registry's on-demand figure hook); idempotent."""
    from kinresist.blot.analyze import BlotResult

    if result.figures or not isinstance(result, BlotResult) or not result.analyses:
        return result
    result.figures.extend(blot_figures(result.analyses, result.tables))
    return result
