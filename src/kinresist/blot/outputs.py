"""Measurements (what the store records) and QC warnings of a blot analysis."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from kinresist.core.result import Measurement

if TYPE_CHECKING:
    from kinresist.blot.analyze import ImageAnalysis

__all__ = ["ASSAY", "count_flag", "image_notes", "measurements", "qc_warnings"]

ASSAY = "western_blot"


def count_flag(bands: pd.DataFrame, flag: str) -> int:
    return int(sum(flag in _flag_list(f) for f in bands["flags"]))


def _flag_list(text: object) -> tuple[str, ...]:
    return tuple(f for f in str(text or "").split(";") if f)


def _attrs(r: Any, **extra: Any) -> dict[str, Any]:
    out = {
        "blot": r.blot,
        "treatment": r.treatment or None,
        "dose": None if pd.isna(r.dose) else float(r.dose),
        "dose_unit": r.dose_unit or None,
        "control": bool(r.control),
    }
    out.update({k: v for k, v in extra.items() if not (isinstance(v, float) and math.isnan(v))})
    return out


def measurements(
    norm: pd.DataFrame, ratios: pd.DataFrame, reps: pd.DataFrame, method: str
) -> list[Measurement]:
    out: list[Measurement] = []
    for r in norm.itertuples():
        if r.loading_control is None:
            continue
        out.append(
            Measurement(
                assay=ASSAY,
                target=f"{r.target}/{r.loading_control}",
                quantity="loading_normalised_intensity",
                value=r.normalised,
                unit="ratio",
                subject=r.cell_line,
                sample=r.sample,
                flags=_flag_list(r.flags),
                attributes=_attrs(
                    r,
                    membrane=r.membrane,
                    lane=int(r.lane),
                    fold_change=r.fold_change,
                    background=method,
                ),
            )
        )
    for r in ratios.itertuples():
        attrs = _attrs(
            r,
            membranes=[r.numerator_membrane, r.denominator_membrane],
            lanes=[int(r.numerator_lane), int(r.denominator_lane)],
            normalisation=r.normalisation,
            fold_change=r.fold_change,
            background=method,
        )
        out.append(
            Measurement(
                assay=ASSAY,
                target=r.target,
                quantity="phospho_total_ratio",
                value=r.ratio,
                unit="ratio",
                subject=r.cell_line,
                sample=r.sample,
                flags=_flag_list(r.flags),
                attributes=attrs,
            )
        )
        out.append(
            Measurement(
                assay=ASSAY,
                target=r.target,
                quantity="phospho_total_fold_change",
                value=r.fold_change,
                unit="fold",
                subject=r.cell_line,
                sample=r.sample,
                flags=_flag_list(r.flags),
                attributes=attrs,
            )
        )
    for r in reps.itertuples():
        quantity = (
            "phospho_total_fold_change_mean"
            if r.quantity == "phospho_total_ratio"
            else "loading_normalised_fold_change_mean"
        )
        out.append(
            Measurement(
                assay=ASSAY,
                target=r.target,
                quantity=quantity,
                value=r.fold_change,
                unit="fold",
                subject=r.cell_line,
                sample=r.sample,
                ci_low=r.ci_low,
                ci_high=r.ci_high,
                flags=_flag_list(r.flags),
                attributes={
                    "aggregate": r.method,
                    "n_blots": int(r.n_blots),
                    "p_value": None if pd.isna(r.p_value) else float(r.p_value),
                    "treatment": r.treatment or None,
                    "dose": None if pd.isna(r.dose) else float(r.dose),
                    "dose_unit": r.dose_unit or None,
                    "control": bool(r.control),
                    "background": method,
                },
            )
        )
    return out


def image_notes(analyses: list[ImageAnalysis]) -> list[str]:
    """Image-level QC notes for the result (warned about when the image was built)."""
    return [
        f"{a.image.name}: {a.image.source_format} {a.image.bit_depth}-bit display image, not "
        "linear in signal; export the raw 16-bit TIFF"
        for a in analyses
        if "8bit_display" in a.image.flags or "jpeg_lossy" in a.image.flags
    ]


def qc_warnings(bands: pd.DataFrame, analyses: list[ImageAnalysis]) -> list[str]:
    notes: list[str] = []

    def where(sub: pd.DataFrame) -> str:
        items = [f"{r.image} lane {r.lane} {r.target}" for r in sub.head(6).itertuples()]
        more = len(sub) - len(items)
        return "; ".join(items) + (f" and {more} more" if more > 0 else "")

    flags = bands["flags"].fillna("")
    for flag, text in (
        (
            "saturated",
            "band(s) contain saturated pixels: their volumes are underestimated (outside the "
            "linear range); use a shorter exposure",
        ),
        (
            "near_saturation",
            "band(s) reach >= 90 % of saturation (top of the linear range); check a shorter "
            "exposure",
        ),
        (
            "band_at_window_edge",
            "band peak(s) sit on the edge of their window; widen or move the window",
        ),
        (
            "rolling_ball_radius_small",
            "rolling-ball radius is smaller than the band height: the ball eats into bands; "
            "choose a larger radius or lane_min_line",
        ),
    ):
        sub = bands[flags.str.split(";").apply(lambda fs, f=flag: f in fs)]
        if len(sub):
            notes.append(f"{len(sub)} {text} ({where(sub)})")
    for a in analyses:
        if "unequal_lane_width" in a.layout.flags:
            notes.append(f"{a.image.name}: lanes of unequal width (volumes scale with width)")
        if a.layout.filled:
            notes.append(
                f"{a.image.name}: lane(s) {', '.join(map(str, a.layout.filled))} had no band "
                "and were placed at the detected lane pitch; check the lane overlay"
            )
    return notes
