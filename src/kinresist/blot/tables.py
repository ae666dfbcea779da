"""The ``bands`` and ``lanes`` tables of a blot analysis (one row per measured band / lane)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from kinresist.blot.analyze import ImageAnalysis
    from kinresist.blot.background import BackgroundMethod
    from kinresist.blot.bands import Ladder
    from kinresist.blot.design import BlotDesign

__all__ = ["bands_frame", "lanes_frame"]


_BAND_COLS = [
    "image",
    "blot",
    "membrane",
    "lane",
    "x0",
    "x1",
    "sample",
    "cell_line",
    "treatment",
    "dose",
    "dose_unit",
    "control",
    "target",
    "role",
    "load",
    "window_start",
    "window_end",
    "window_source",
    "y_peak",
    "y_start",
    "y_end",
    "mw_kda",
    "background",
    "raw_volume",
    "background_volume",
    "volume",
    "percent_of_total",
    "peak_height",
    "snr",
    "saturated_pixels",
    "max_pixel",
    "flags",
]


def bands_frame(
    analyses: list[ImageAnalysis],
    design: BlotDesign | None,
    method: BackgroundMethod,
    ladder: Ladder | None,
) -> pd.DataFrame:
    rows = []
    for a in analyses:
        lanes = {ln.index: ln for ln in a.layout.lanes}
        info: dict[tuple[int, str], dict[str, Any]] = {}
        if design is not None:
            for r in design.for_image(a.image.name).to_dict("records"):
                info[(int(r["lane"]), str(r["target"]))] = r
        for target, m in a.measures:
            d = info.get((m.lane, target))
            ln = lanes[m.lane]
            rows.append(
                {
                    "image": a.image.name,
                    "blot": d["blot"] if d else "1",
                    "membrane": d["membrane"] if d else a.image.name,
                    "lane": m.lane,
                    "x0": ln.x0,
                    "x1": ln.x1,
                    "sample": d["sample"] if d else f"lane_{m.lane}",
                    "cell_line": d["cell_line"] if d else None,
                    "treatment": d["treatment"] if d else "",
                    "dose": d["dose"] if d else math.nan,
                    "dose_unit": d["dose_unit"] if d else "",
                    "control": bool(d["control"]) if d else False,
                    "target": target,
                    "role": d["role"] if d else "target",
                    "load": d["load"] if d else math.nan,
                    "window_start": m.window[0],
                    "window_end": m.window[1],
                    "window_source": a.windows[target][2],
                    "y_peak": m.y_peak,
                    "y_start": m.y_start,
                    "y_end": m.y_end,
                    "mw_kda": ladder.kda_of(m.y_peak) if ladder is not None else None,
                    "background": str(method),
                    "raw_volume": m.raw_volume,
                    "background_volume": m.background_volume,
                    "volume": m.volume,
                    "percent_of_total": math.nan,
                    "peak_height": m.peak_height,
                    "snr": m.snr,
                    "saturated_pixels": m.saturated_pixels,
                    "max_pixel": m.max_pixel,
                    "flags": ";".join(m.flags),
                }
            )
    frame = pd.DataFrame(rows, columns=_BAND_COLS)
    if len(frame):
        totals = frame.groupby(["image", "target"])["volume"].transform("sum")
        frame["percent_of_total"] = np.where(totals > 0, 100.0 * frame["volume"] / totals, np.nan)
    return frame


def lanes_frame(analyses: list[ImageAnalysis], design: BlotDesign | None) -> pd.DataFrame:
    rows = []
    for a in analyses:
        samples: dict[int, list[str]] = {}
        if design is not None:
            for r in design.for_image(a.image.name).itertuples():
                samples.setdefault(int(r.lane), []).append(str(r.sample))
        for ln in a.layout.lanes:
            names = list(dict.fromkeys(samples.get(ln.index, [])))
            flags = [f for f in a.layout.flags if f == "unequal_lane_width"]
            if ln.index in a.layout.filled:
                flags.append("filled_at_pitch")
            rows.append(
                {
                    "image": a.image.name,
                    "lane": ln.index,
                    "x0": ln.x0,
                    "x1": ln.x1,
                    "width": ln.width,
                    "sample": ";".join(names) if names else None,
                    "lane_method": a.layout.method,
                    "noise_sd": a.noise,
                    "profile_min": float(a.profiles[ln.index].min()),
                    "profile_max": float(a.profiles[ln.index].max()),
                    "flags": ";".join(dict.fromkeys(flags)),
                }
            )
    return pd.DataFrame(rows)
