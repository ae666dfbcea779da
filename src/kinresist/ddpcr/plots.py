"""Figures (matplotlib Figure API, no pyplot): 2-D droplet scatter with gates, 1-D amplitude
plot, plate heatmap; :func:`add_figures` attaches them to a result as SVG (reports embed them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from kinresist.ddpcr.gating import Gating
from kinresist.ddpcr.plate import Plate

if TYPE_CHECKING:
    from kinresist.core.result import Figure as ResultFigure
    from kinresist.ddpcr.result import DdpcrResult

__all__ = ["add_figures", "amplitude_1d", "plate_heatmap", "result_figures", "well_scatter"]

_COLORS = {1: "#9e9e9e", 2: "#1f77b4", 3: "#ff7f0e", 4: "#2ca02c"}
_NAMES = {1: "Ch1-Ch2-", 2: "Ch1+Ch2-", 3: "Ch1+Ch2+", 4: "Ch1-Ch2+"}


def _subsample(n: int, limit: int, seed: int) -> np.ndarray:
    # QuantaSoft sorts droplets by Ch1: shuffle (seeded) before subsampling
    rng = np.random.default_rng(seed)
    idx = rng.permutation(n)
    return idx[:limit]


def well_scatter(
    plate: Plate, gating: Gating, well: str, *, max_points: int = 20000, seed: int = 0
) -> Figure:
    """Ch2 vs Ch1 amplitudes coloured by cluster, with the well's thresholds."""
    s = plate.well_slice(well)
    i = plate.wells.index(well)
    x, y, lab = plate.ch1[s], plate.ch2[s], gating.labels[s]
    pick = _subsample(x.size, max_points, seed)
    fig = Figure(figsize=(4, 3.6))
    ax = fig.add_subplot()
    for code, col in _COLORS.items():
        m = lab[pick] == code
        if m.any():
            ax.scatter(
                x[pick][m],
                y[pick][m],
                s=2,
                c=col,
                label=f"{_NAMES[code]} ({int((lab == code).sum())})",
                rasterized=True,
            )
    ax.axvline(gating.thr_ch1[i], color="k", lw=0.8, ls="--")
    if np.isfinite(gating.thr_ch2_neg[i]):
        ax.axhline(gating.thr_ch2_neg[i], color="k", lw=0.8, ls="--")
        if gating.thr_ch2_pos[i] != gating.thr_ch2_neg[i]:
            ax.axhline(gating.thr_ch2_pos[i], color="k", lw=0.8, ls=":")
    ax.set_xlabel("Ch1 amplitude (FAM)")
    ax.set_ylabel("Ch2 amplitude (HEX/VIC)")
    ax.set_title(well)
    ax.legend(fontsize=6, markerscale=3, loc="best")
    fig.tight_layout()
    return fig


def amplitude_1d(
    plate: Plate, gating: Gating, *, channel: int = 1, max_points: int = 4000, seed: int = 0
) -> Figure:
    """Amplitude vs droplet (QuantaSoft's 1-D view) for every well, thresholds as ticks."""
    fig = Figure(figsize=(max(4, 0.35 * len(plate.wells)), 3))
    ax = fig.add_subplot()
    amps = plate.ch1 if channel == 1 else plate.ch2
    thr = gating.thr_ch1 if channel == 1 else gating.thr_ch2_neg
    rng = np.random.default_rng(seed)
    for i, w in enumerate(plate.wells):
        s = plate.well_slice(w)
        a = amps[s]
        pick = rng.permutation(a.size)[:max_points]
        ax.scatter(
            i + rng.uniform(-0.35, 0.35, pick.size), a[pick], s=1, c="#1f77b4", rasterized=True
        )
        ax.plot([i - 0.4, i + 0.4], [thr[i], thr[i]], color="#d62728", lw=1)
    ax.set_xticks(range(len(plate.wells)), plate.wells, rotation=90, fontsize=6)
    ax.set_ylabel(f"Ch{channel} amplitude")
    fig.tight_layout()
    return fig


def plate_heatmap(wells: list[str], values: list[float], *, title: str = "") -> Figure:
    """8 x 12 plate map of a per-well value (NaN = empty well)."""
    grid = np.full((8, 12), np.nan)
    for w, v in zip(wells, values, strict=True):
        r, c = ord(w[0]) - 65, int(w[1:]) - 1
        if 0 <= r < 8 and 0 <= c < 12:
            grid[r, c] = v
    fig = Figure(figsize=(6, 3.4))
    ax = fig.add_subplot()
    im = ax.imshow(grid, cmap="viridis", aspect="auto")
    ax.set_xticks(range(12), [str(i + 1) for i in range(12)])
    ax.set_yticks(range(8), list("ABCDEFGH"))
    ax.set_title(title)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig


def result_figures(result: DdpcrResult, *, max_wells: int = 96) -> list[ResultFigure]:
    """The figures of a ddPCR result: plate heatmap of channel-1 copies/µL; with droplets, the
    1-D amplitude plot per channel and the 2-D droplet plot with gates of each well."""
    from kinresist.core.result import Figure as RFigure

    out = []
    wells = result.wells
    ch1 = wells[wells["channel"] == 1]
    if len(ch1) and ch1["well"].astype(str).str.fullmatch(r"[A-H]\d{2}").all():
        out.append(
            RFigure.from_matplotlib(
                plate_heatmap(
                    list(ch1["well"]),
                    list(ch1["copies_per_ul"].astype(float)),
                    title="Ch1 copies/µL",
                ),
                "plate_heatmap",
                "Channel-1 concentration per well (copies/µL; blank = no well).",
            )
        )
    plate, gating = result.plate, result.gating
    if plate is None or gating is None:
        return out
    for c in (1,) if plate.simplex else (1, 2):
        out.append(
            RFigure.from_matplotlib(
                amplitude_1d(plate, gating, channel=c),
                f"amplitude_ch{c}",
                f"Channel-{c} droplet amplitudes per well; red ticks: the thresholds used.",
            )
        )
    if not plate.simplex:
        for w in plate.wells[:max_wells]:
            out.append(
                RFigure.from_matplotlib(
                    well_scatter(plate, gating, w),
                    f"scatter_{w}",
                    f"{w}: droplets coloured by cluster, with the well's gates.",
                    png_dpi=None,  # up to 96 of them: SVG only (points are rasterised inside)
                )
            )
    return out


def add_figures(result: DdpcrResult) -> DdpcrResult:
    """Attach :func:`result_figures` to ``result`` (once); the workflow's figure hook."""
    if not result.figures:
        result.figures.extend(result_figures(result))
    return result
