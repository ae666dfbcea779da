"""Gating-hierarchy figures: per gate, the parent's events as a 2-D density (or a histogram for a
1-D gate) on the gate's own (compensated, transformed) coordinates, with the gate drawn.

The coordinates are those FlowKit gates on (``GatingStrategy._preprocess_sample_events``, the one
private FlowKit call of kinresist, used only here so that plots and counts agree). No statistic
is computed here beyond the densities being drawn.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

    from kinresist.flow.gating import SampleGating

__all__ = ["gating_figure"]

_MAX_EVENTS = 60_000


def _style(ax: Axes) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=7)


def _parent_mask(sg: SampleGating, key: str) -> np.ndarray:
    from flowkit import gates as fk_gates

    parts = key.split("/")
    parent = parts[:-1]
    if isinstance(sg.gates.get(key), fk_gates.QuadrantGate):
        parent = parts[:-2]
    pkey = "/".join(parent)
    if pkey == "root" or pkey not in sg.membership:
        return np.ones(sg.n_events, dtype=bool)
    return sg.membership[pkey]


def _panels(sg: SampleGating) -> list[tuple[str, Any]]:
    """One panel per drawable gate (a quadrant gate once), in hierarchy order."""
    seen: set[int] = set()
    out = []
    for key, gate in sg.gates.items():
        if gate is None or getattr(gate, "gate_type", "") == "BooleanGate":
            continue
        if id(gate) in seen:
            continue
        seen.add(id(gate))
        out.append((key, gate))
    return out


def _limits(values: np.ndarray, extra: list[float]) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    lo, hi = np.percentile(finite, [0.2, 99.8]) if finite.size else (0.0, 1.0)
    pts = [float(lo), float(hi), *[e for e in extra if e is not None and math.isfinite(e)]]
    lo, hi = min(pts), max(pts)
    pad = 0.05 * (hi - lo if hi > lo else 1.0)
    return lo - pad, hi + pad


def _draw_gate(ax: Axes, gate: Any, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    from matplotlib.patches import Polygon

    kind = gate.gate_type
    style: dict[str, Any] = {"fill": False, "edgecolor": "#cf222e", "linewidth": 1.4}
    if kind == "PolygonGate":
        ax.add_patch(Polygon(np.asarray(gate.vertices, dtype=float), closed=True, **style))
    elif kind == "RectangleGate":
        d = gate.dimensions
        x0 = d[0].min if d[0].min is not None else xlim[0]
        x1 = d[0].max if d[0].max is not None else xlim[1]
        y0 = d[1].min if d[1].min is not None else ylim[0]
        y1 = d[1].max if d[1].max is not None else ylim[1]
        ax.add_patch(Polygon([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], closed=True, **style))
    elif kind == "EllipsoidGate":
        mean = np.asarray(gate.coordinates, dtype=float)[:2]
        cov = np.asarray(gate.covariance_matrix, dtype=float)[:2, :2]
        vals, vecs = np.linalg.eigh(cov)
        t = np.linspace(0, 2 * np.pi, 200)
        circle = np.stack([np.cos(t), np.sin(t)])
        pts = (vecs @ np.diag(np.sqrt(np.maximum(vals, 0) * gate.distance_square)) @ circle).T
        ax.add_patch(Polygon(pts + mean, closed=True, **style))
    elif kind == "QuadrantGate":
        for i, div in enumerate(gate.dimensions[:2]):
            for v in div.values:
                (ax.axvline if i == 0 else ax.axhline)(v, color="#cf222e", lw=1.2)


def _gate_extent(gate: Any) -> tuple[list[float], list[float]]:
    kind = gate.gate_type
    if kind == "PolygonGate":
        v = np.asarray(gate.vertices, dtype=float)
        return list(v[:, 0]), list(v[:, 1])
    if kind == "RectangleGate":
        d = gate.dimensions
        xs = [d[0].min, d[0].max]
        ys = [d[1].min, d[1].max] if len(d) > 1 else []
        return [x for x in xs if x is not None], [y for y in ys if y is not None]
    if kind == "QuadrantGate":
        vals = [list(div.values) for div in gate.dimensions[:2]]
        return vals[0], vals[1] if len(vals) > 1 else []
    if kind == "EllipsoidGate":
        mean = np.asarray(gate.coordinates, dtype=float)
        sd = np.sqrt(
            np.diag(np.asarray(gate.covariance_matrix, dtype=float)) * gate.distance_square
        )
        return [mean[0] - sd[0], mean[0] + sd[0]], [mean[1] - sd[1], mean[1] + sd[1]]
    return [], []


def _panel(ax: Axes, sg: SampleGating, key: str, gate: Any) -> None:
    from matplotlib.colors import LogNorm

    events = sg.strategy._preprocess_sample_events(sg.fk_sample, gate)
    parent = _parent_mask(sg, key)
    data = events.to_numpy(dtype=float)[parent]
    if data.shape[0] > _MAX_EVENTS:
        idx = np.random.default_rng(0).choice(data.shape[0], _MAX_EVENTS, replace=False)
        data = data[np.sort(idx)]
    cols = list(events.columns)
    row = sg.rows.loc[sg.rows["population"] == key].iloc[0]
    drawn = [c for c in str(row["channels"]).split(", ") if c]
    if len(drawn) == len(cols):  # the channel names as drawn (``Comp-`` prefix restored)
        cols = drawn
    title = f"{gate.gate_name}\n{row['count']:,} events, {row['pct_parent']:.3g} % of parent"
    if gate.gate_type == "QuadrantGate":
        title = f"{gate.gate_name} (quadrants)\n{int(parent.sum()):,} parent events"
    ex, ey = _gate_extent(gate)
    if data.shape[1] == 1 or (gate.gate_type == "RectangleGate" and len(gate.dimensions) == 1):
        x = data[:, 0]
        xlim = _limits(x, ex)
        ax.hist(
            x[np.isfinite(x)],
            bins=128,
            range=xlim,
            color="#57606a",
            histtype="stepfilled",
            rasterized=True,
        )
        for v in ex:
            ax.axvline(v, color="#cf222e", lw=1.4)
        ax.set_xlim(xlim)
        ax.set_xlabel(cols[0], fontsize=8)
        ax.set_ylabel("events", fontsize=8)
    else:
        x, y = data[:, 0], data[:, 1]
        xlim, ylim = _limits(x, ex), _limits(y, ey)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.any():
            ax.hist2d(
                x[ok],
                y[ok],
                bins=128,
                range=[xlim, ylim],
                norm=LogNorm(),
                cmap="viridis",
                cmin=1,
                rasterized=True,
            )
        _draw_gate(ax, gate, xlim, ylim)
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)
        ax.set_xlabel(cols[0], fontsize=8)
        ax.set_ylabel(cols[1], fontsize=8)
        if data.shape[1] > 2:
            title += f"\n(first 2 of {data.shape[1]} dimensions)"
    ax.set_title(title, fontsize=8)
    _style(ax)


def gating_figure(sg: SampleGating, *, max_panels: int = 24) -> MplFigure:
    """The gating hierarchy of one sample as a grid of panels (hierarchy order)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = _panels(sg)[:max_panels]
    ncols = min(4, max(1, len(panels)))
    nrows = max(1, math.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.1 * nrows), squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    for ax, (key, gate) in zip(axes.ravel(), panels, strict=False):
        _panel(ax, sg, key, gate)
    fig.suptitle(f"{sg.sample_id}: gating hierarchy", fontsize=10)
    fig.tight_layout()
    return fig
