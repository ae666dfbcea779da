"""Human summary of a blot result (``--format text``): rendering only, no statistics."""

from __future__ import annotations

import pandas as pd

from kinresist.core.result import Result

__all__ = ["text"]

_RATIO_COLS = ["blot", "sample", "target", "normalisation", "ratio", "fold_change", "flags"]
_NORM_COLS = ["blot", "sample", "target", "loading_control", "normalised", "fold_change", "flags"]
_REP_COLS = [
    "cell_line",
    "target",
    "condition",
    "n_blots",
    "fold_change",
    "ci_low",
    "ci_high",
    "p_value",
]
_BAND_COLS = ["image", "lane", "sample", "target", "volume", "percent_of_total", "snr", "flags"]


def _table(frame: pd.DataFrame | None, cols: list[str]) -> str:
    if frame is None or frame.empty:
        return "(none)"
    shown = frame[[c for c in cols if c in frame.columns]]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        return shown.to_string(index=False, max_rows=60, float_format=lambda v: f"{v:.4g}")


def text(result: Result) -> str:
    """The summary printed by ``kinresist blot analyze`` without ``--format``."""
    body = result.body
    lines = [f"{result.workflow} (kinresist {result.provenance.kinresist_version})"]
    lines.append(f"background: {body['background']['method']}")
    for im in body["images"]:
        lanes = im["lanes"]
        lines.append(
            f"{im['name']}: {im['width']}x{im['height']} px, {im['bit_depth']}-bit {im['format']}, "
            f"{im['polarity']}, {lanes['n_lanes']} lanes ({lanes['method']}), "
            f"noise SD {im['noise_sd']:.3g}"
        )
    qc = body["qc"]
    lines.append(
        f"bands: {qc['bands']} (saturated {qc['saturated']}, near saturation "
        f"{qc['near_saturation']}, low signal {qc['low_signal']}, not detected {qc['not_detected']})"
    )
    lines += [f"warning: {w}" for w in result.warnings]
    tables = result.tables
    if "ratios" in tables and len(tables["ratios"]):
        lines += ["", "phospho/total ratios:", _table(tables["ratios"], _RATIO_COLS)]
    elif "normalised" in tables:
        lines += ["", "target / loading control:", _table(tables["normalised"], _NORM_COLS)]
    else:
        lines += ["", "bands:", _table(tables["bands"], _BAND_COLS)]
    if "replicates" in tables and len(tables["replicates"]):
        lines += ["", "replicate blots (log scale):", _table(tables["replicates"], _REP_COLS)]
    return "\n".join(lines)
