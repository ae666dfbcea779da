"""Figures of the monitoring results (drawn from a result's body; no statistics here).

* :func:`timeline_figure` - the plotly figure of a timeline: fractions over time on a log axis
  with 95 % CIs, LoD markers, below-LoD draws drawn as open down-triangles *at* their LoD (never
  at 0), therapy lines as shaded bands, alerts as dotted lines with a hover reason.
* :func:`add_timeline_figure` / :func:`add_lineage_figures` - the ``figures`` hooks of the
  ``timeline`` and ``lineage.show`` workflows (called before an HTML report is rendered).

The plotly figure is plain JSON (``{"data": [...], "layout": {...}}``); the report embeds it with
the plotly.js bundled in the plotly package, so a page needs no network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from kinresist.core.result import Figure, Result

__all__ = ["add_lineage_figures", "add_timeline_figure", "lineage_figure", "timeline_figure"]

_COLOURS = (
    "#d62728",
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
_BANDS = ("#fde0c5", "#d5e8f7", "#dff2d8", "#eadcf3", "#f9f1c4", "#e2e2e2")
_SYMBOLS = {"ddpcr": "circle", "ngs": "square"}
_ASSAY = {"ddpcr": "ddPCR", "ngs": "NGS"}
_ALERT_COLOURS = {
    "new_detection": "#b35806",
    "rising": "#d62728",
    "molecular_progression": "#7b3294",
}


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


def _lab_text(lab: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for r in lab:
        if r.get("fold_shift") is not None:
            parts.append(
                f"{r['line']} {r['drug']}: {r['fold_shift']:.3g}-fold {r['reference_line']} "
                f"(IC50 {r['ic50']:.3g} {r['unit']})"
            )
        elif r.get("ic50") is not None:
            parts.append(f"{r['line']} {r['drug']}: IC50 {r['ic50']:.3g} {r['unit']}")
    return "; ".join(parts)


def _hover(p: Mapping[str, Any], alteration: str, lab: str) -> str:
    bits = [
        f"<b>{alteration}</b> ({_ASSAY.get(p['assay'], p['assay'])})",
        f"{p['sample']} · {p['collected']}",
        str(p["display"]),
    ]
    if p.get("ci_low") is not None and p.get("ci_high") is not None and p.get("detected"):
        bits.append(f"95% CI {p['ci_low']:.3g}–{p['ci_high']:.3g} {p['unit']}")
    if p.get("depth") is not None:
        bits.append(f"molecule depth {p['depth']:,}")
    if p.get("drug"):
        bits.append(f"on {p['drug']}")
    if p.get("flags"):
        bits.append("flags: " + ", ".join(p["flags"]))
    if lab:
        bits.append("lab: " + lab)
    return "<br>".join(bits)


def _series_traces(alt: Mapping[str, Any], colour: str) -> list[dict[str, Any]]:
    name = str(alt["alteration"])
    lab = _lab_text(alt.get("lab") or [])
    traces: list[dict[str, Any]] = []
    for assay in sorted({p["assay"] for p in alt["series"]}):
        pts = [p for p in alt["series"] if p["assay"] == assay]
        label = f"{name} ({_ASSAY.get(assay, assay)})"
        seen = [
            p for p in pts if p["detected"] is True and p["value"] is not None and p["value"] > 0
        ]
        if seen:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": label,
                    "legendgroup": name,
                    "x": [p["collected"] for p in seen],
                    "y": [p["value"] for p in seen],
                    "error_y": {
                        "type": "data",
                        "symmetric": False,
                        "array": [
                            (p["ci_high"] - p["value"]) if p["ci_high"] is not None else 0
                            for p in seen
                        ],
                        "arrayminus": [
                            (p["value"] - p["ci_low"])
                            if p["ci_low"] is not None and p["ci_low"] > 0
                            else 0
                            for p in seen
                        ],
                        "color": colour,
                        "thickness": 1,
                    },
                    "marker": {
                        "color": colour,
                        "size": 9,
                        "symbol": _SYMBOLS.get(assay, "diamond"),
                    },
                    "line": {
                        "color": colour,
                        "width": 1.5,
                        "dash": "solid" if assay == "ddpcr" else "dash",
                    },
                    "hovertext": [_hover(p, name, lab) for p in seen],
                    "hoverinfo": "text",
                }
            )
        below = [p for p in pts if p["detected"] is False and p["lod"] is not None and p["lod"] > 0]
        if below:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": f"{label}: not detected (at LoD)",
                    "legendgroup": name,
                    "x": [p["collected"] for p in below],
                    "y": [p["lod"] for p in below],
                    "marker": {
                        "color": colour,
                        "size": 12,
                        "symbol": "triangle-down-open",
                        "line": {"width": 2},
                    },
                    "hovertext": [_hover(p, name, lab) for p in below],
                    "hoverinfo": "text",
                }
            )
        lods = [p for p in seen if p["lod"] is not None and p["lod"] > 0]
        if lods:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": f"{label}: LoD",
                    "legendgroup": name,
                    "x": [p["collected"] for p in lods],
                    "y": [p["lod"] for p in lods],
                    "marker": {
                        "color": colour,
                        "size": 14,
                        "symbol": "line-ew-open",
                        "line": {"width": 2},
                    },
                    "hovertext": [f"LoD {p['lod']:.3g} {p['unit']} ({p['sample']})" for p in lods],
                    "hoverinfo": "text",
                }
            )
        odd = [
            p for p in pts if p["detected"] is None and p["value"] is not None and p["value"] > 0
        ]
        if odd:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": f"{label}: indeterminate",
                    "legendgroup": name,
                    "x": [p["collected"] for p in odd],
                    "y": [p["value"] for p in odd],
                    "marker": {"color": colour, "size": 10, "symbol": "x-open"},
                    "hovertext": [_hover(p, name, lab) for p in odd],
                    "hoverinfo": "text",
                }
            )
    return traces


def timeline_figure(body: Mapping[str, Any]) -> dict[str, Any]:
    """The plotly figure (JSON) of a timeline body (see the module docstring)."""
    traces: list[dict[str, Any]] = []
    for i, alt in enumerate(body["alterations"]):
        traces += _series_traces(alt, _COLOURS[i % len(_COLOURS)])
    ys = [
        v
        for alt in body["alterations"]
        for p in alt["series"]
        for v in (p["value"], p["lod"], p["ci_high"])
        if v is not None and v > 0
    ]
    dates = [_day(d["collected"]) for d in body["draws"] if d["collected"]]
    starts = [_day(t["start"]) for t in body["therapy"] if t["start"]]
    last = max([*dates, *starts], default=dt.date(2000, 1, 1)) + dt.timedelta(days=30)
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i, line in enumerate(body["therapy"]):
        if not line["start"]:
            continue
        end = line["end"] or last.isoformat()
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": line["start"],
                "x1": end,
                "y0": 0,
                "y1": 1,
                "fillcolor": _BANDS[i % len(_BANDS)],
                "opacity": 0.6,
                "layer": "below",
                "line": {"width": 0},
                "name": f"therapy: {line['drug']}",
            }
        )
        annotations.append(
            {
                "x": line["start"],
                "xref": "x",
                "xanchor": "left",
                "y": 1.0,
                "yref": "paper",
                "yanchor": "bottom",
                "text": f"{line['drug']}" + ("" if line["end"] else " (ongoing)"),
                "showarrow": False,
                "font": {"size": 12},
            }
        )
    alerts = body.get("alerts") or []
    for a in alerts:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": a["collected"],
                "x1": a["collected"],
                "y0": 0,
                "y1": 1,
                "line": {
                    "color": _ALERT_COLOURS.get(a["kind"], "#333"),
                    "width": 1.5,
                    "dash": "dot",
                },
            }
        )
    if alerts and ys:
        top = max(ys) * 2.5
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "alerts",
                "x": [a["collected"] for a in alerts],
                "y": [top] * len(alerts),
                "marker": {
                    "size": 13,
                    "symbol": "star",
                    "color": [_ALERT_COLOURS.get(a["kind"], "#333") for a in alerts],
                },
                "hovertext": [
                    f"<b>{a['kind'].replace('_', ' ')}</b><br>{a['reason']}" for a in alerts
                ],
                "hoverinfo": "text",
            }
        )
    return {
        "data": traces,
        "layout": {
            "title": {"text": f"{body['subject']}: alteration fractions over time"},
            "xaxis": {"type": "date", "title": {"text": "collected"}},
            "yaxis": {
                "type": "log",
                "title": {"text": "mutant fraction (%), log scale"},
                "exponentformat": "none",
            },
            "shapes": shapes,
            "annotations": annotations,
            "legend": {"orientation": "h", "y": -0.2},
            "hovermode": "closest",
            "height": 560,
            "margin": {"t": 80, "r": 30, "l": 70, "b": 40},
            "plot_bgcolor": "white",
        },
    }


def add_timeline_figure(result: Result) -> Result:
    """The ``figures`` hook of the ``timeline`` workflow."""
    result.figures.append(
        Figure(
            name="timeline",
            caption="Fractions on a log axis with 95% CIs; open down-triangles: not detected, "
            "drawn at the draw's LoD (not at 0); bars: LoD of detected draws; shaded bands: "
            "therapy lines; dotted lines and stars: alerts.",
            plotly=timeline_figure(result.body),
        )
    )
    return result


def lineage_figure(body: Mapping[str, Any]) -> Any | None:
    """Dose over time (log nM) of a line's history, with its characterisations; None if no dose."""
    steps = [e for e in body["events"] if e["dose_nm"] is not None and e["date"]]
    if not steps:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(7, 3.4))
    ax = fig.subplots()
    by_drug: dict[str, list[Mapping[str, Any]]] = {}
    for e in steps:
        by_drug.setdefault(str(e["drug"]), []).append(e)
    for drug, evs in by_drug.items():
        xs: list[Any] = [_day(e["date"]) for e in evs]
        ys = [max(float(e["dose_nm"]), 1e-3) for e in evs]
        ax.step(xs, ys, where="post", marker="o", label=drug)
        for x, y, e in zip(xs, ys, evs, strict=True):
            if e["passage"] is not None:
                ax.annotate(
                    f"p{e['passage']}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(3, 5),
                    fontsize=7,
                )
    for c in body["characterisations"]:
        if c["collected"]:
            when: Any = _day(c["collected"])
            ax.axvline(when, color="#888", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.set_ylabel("dose (nM)")
    ax.set_title(f"{body['line']}: dose escalation (dotted: characterisations)", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    fig.autofmt_xdate()
    return fig


def add_lineage_figures(result: Result) -> Result:
    """The ``figures`` hook of the ``lineage.show`` workflow."""
    fig = lineage_figure(result.body)
    if fig is not None:
        result.figures.append(
            Figure.from_matplotlib(
                fig, "doses", caption="Dose steps over time (log scale) with passages."
            )
        )
    return result
