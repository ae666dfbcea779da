"""Self-contained HTML report of a ddPCR plate analysis (PNG figures inlined as base64)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

__all__ = ["render_report", "write_report"]


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def render_report(analysis: Any, payload: dict[str, Any], *, max_wells: int = 96) -> str:
    """HTML text: header stamp, call table, plate heatmap, 1-D plots and per-well 2-D scatters."""
    from kinresist.ddpcr.plots import amplitude_1d, plate_heatmap, well_scatter

    plate, gating = analysis.plate, analysis.gating
    ch1 = analysis.wells[analysis.wells["channel"] == 1]
    heat = _png(
        plate_heatmap(
            list(ch1["well"]), list(ch1["copies_per_ul"].astype(float)), title="Ch1 copies/µL"
        )
    )
    one_d = [
        _png(amplitude_1d(plate, gating, channel=c)) for c in ((1,) if plate.simplex else (1, 2))
    ]
    scatters = (
        []
        if plate.simplex
        else [(w, _png(well_scatter(plate, gating, w))) for w in plate.wells[:max_wells]]
    )
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kinresist.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    tpl = env.get_template("ddpcr.html.j2")
    return tpl.render(p=payload, heat=heat, one_d=one_d, scatters=scatters, isfinite=np.isfinite)


def write_report(analysis: Any, payload: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(analysis, payload), encoding="utf-8")
    return path
