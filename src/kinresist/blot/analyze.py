"""``analyze_blot``: images + design -> band volumes, normalised levels, ratios, fold changes.

The one library entry point of the blot workflow. It reads nothing and writes nothing: images
arrive as :class:`~kinresist.blot.image.BlotImage` values and the design as a
:class:`~kinresist.blot.design.BlotDesign`; it returns a :class:`kinresist.core.Result` whose
tables are ``bands`` (primary), ``lanes``, ``normalised``, ``ratios``, ``replicates`` and, when
the design gives protein loads, ``linearity``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike

import numpy as np
import pandas as pd

from kinresist.blot.background import (
    BackgroundMethod,
    ball_height,
    parse_background,
    region_level,
    rolling_ball_curve,
)
from kinresist.blot.bands import (
    BandMeasure,
    DetectedBand,
    Ladder,
    band_sigma,
    detect_band_rows,
    parse_window,
    quantify_band,
)
from kinresist.blot.design import BlotDesign
from kinresist.blot.image import BlotImage
from kinresist.blot.lanes import LaneLayout, lane_layout, pixel_noise
from kinresist.blot.normalise import (
    Aggregate,
    add_fold_change,
    aggregate_replicates,
    linearity_table,
    loading_table,
    parse_pairs,
    ratio_table,
)
from kinresist.blot.outputs import count_flag, image_notes, qc_warnings
from kinresist.blot.outputs import measurements as build_measurements
from kinresist.blot.tables import bands_frame, lanes_frame
from kinresist.core.result import Measurement, Provenance, Result
from kinresist.errors import DataQualityWarning, InputError, about_file, warn

__all__ = ["SCHEMA_VERSION", "BlotResult", "ImageAnalysis", "analyze_blot"]

SCHEMA_VERSION = "1.0"

DEFINITIONS = {
    "volume": "sum over the band rectangle (lane width x band rows) of (signal - background)",
    "profile": "mean signal across the lane width per row (ImageJ gel-analyser profile)",
    "snr": "band pixel amplitude above background / pixel noise SD (MAD of neighbour differences)",
    "percent_of_total": "band volume / sum of that target's volumes in the image (ImageJ 'percent')",
    "normalised": "target volume / loading-control volume of the same lane and membrane",
    "ratio": "phospho / total; separate membranes: each normalised to its own lane loading control",
    "fold_change": "value / geometric mean of the control lanes of the same blot and cell line",
}


@dataclass(frozen=True, slots=True, eq=False)
class ImageAnalysis:
    """What was measured on one image (kept for the figures)."""

    image: BlotImage
    layout: LaneLayout
    profiles: dict[int, np.ndarray]
    measures: list[tuple[str, BandMeasure]]
    windows: dict[str, tuple[int, int, str]]
    detected: list[DetectedBand]
    noise: float


@dataclass(slots=True)
class BlotResult(Result):
    """A :class:`~kinresist.core.Result` that keeps the per-image analyses for its figures.

    ``analyses`` is never serialised; :func:`kinresist.blot.plots.add_figures` draws from it
    (figures are drawn on demand: about a second each).
    """

    analyses: list[ImageAnalysis] = field(default_factory=list, repr=False)


def _as_images(images: Sequence[BlotImage] | Mapping[str, BlotImage]) -> dict[str, BlotImage]:
    if isinstance(images, Mapping):
        out = dict(images)
    else:
        out = {}
        for im in images:
            if im.name in out:
                msg = f"two images are named {im.name!r}; image names must be unique"
                raise InputError(msg)
            out[im.name] = im
    if not out:
        msg = "no image given; pass at least one blot image"
        raise InputError(msg)
    return out


def _match_design(design: BlotDesign, names: list[str]) -> BlotDesign:
    frame = design.frame
    if (frame["image"] == "").any():
        if len(names) > 1:
            msg = (
                f"{len(names)} images were given but the design has no image column; add one "
                f"naming the file of each row ({', '.join(names)})"
            )
            raise InputError(msg, path=design.source)
        frame = frame.copy()
        blank = frame["image"] == ""
        frame.loc[blank, "image"] = names[0]
        frame.loc[frame["membrane"] == "", "membrane"] = names[0]
    unknown = sorted(set(frame["image"]) - set(names))
    if unknown:
        msg = (
            f"the design names image(s) {', '.join(unknown)} that were not given; given: "
            f"{', '.join(names)} (match the file names, or pass those images too)"
        )
        raise InputError(msg, path=design.source)
    return BlotDesign(frame=frame, source=design.source, notes=design.notes)


def _windows_for(
    image: BlotImage,
    rows: pd.DataFrame,
    detected: list[DetectedBand],
    ladder: Ladder | None,
    source: str,
) -> dict[str, tuple[int, int, str]]:
    windows: dict[str, tuple[int, int, str]] = {}
    targets = list(dict.fromkeys(rows["target"]))
    missing = []
    for t in targets:
        given = [w for w in dict.fromkeys(rows.loc[rows["target"] == t, "window"]) if w]
        if len(given) > 1:
            msg = (
                f"image {image.name}: target {t!r} has different windows {given}; one window per "
                "target and image"
            )
            raise InputError(msg, path=source)
        if given:
            with about_file(source, before=f"image {image.name}, target {t!r}: ", column="window"):
                y0, y1 = parse_window(given[0], height=image.height, ladder=ladder)
            windows[t] = (y0, y1, "design")
        else:
            missing.append(t)
    if missing:
        if len(missing) > 1:
            rows_text = ", ".join(f"{d.row:.0f}" for d in detected) or "none"
            msg = (
                f"image {image.name}: targets {', '.join(missing)} have no band window and "
                f"cannot be told apart automatically (band rows detected: {rows_text}); give "
                "window=Y0-Y1 (rows) or 'A-B kDa' with --ladder for each target in the design"
            )
            raise InputError(msg, path=source)
        if not detected:
            msg = (
                f"image {image.name}: no band found for {missing[0]!r} (no profile peak above "
                "5x noise in any lane); give its window in the design"
            )
            raise InputError(msg, path=source)
        taken = list(windows.values())
        free = [
            d for d in detected if not any(d.y0 < w[1] and w[0] < d.y1 for w in taken)
        ] or detected
        best = max(free, key=lambda d: d.prominence)
        windows[missing[0]] = (best.y0, best.y1, "detected")
    return windows


def _analyze_image(
    image: BlotImage,
    rows: pd.DataFrame | None,
    *,
    method: BackgroundMethod,
    n_lanes: int | None,
    lane_boundaries: str | None,
    ladder: Ladder | None,
    source: str,
) -> ImageAnalysis:
    layout = lane_layout(image.signal, n_lanes=n_lanes, boundaries=lane_boundaries)
    if rows is not None:
        need = int(rows["lane"].max())
        if layout.method == "detected" and need != len(layout.lanes):
            msg = (
                f"image {image.name}: {len(layout.lanes)} lanes were detected but the design "
                f"names lanes up to {need}; pass --lanes N (equal lanes over the image width) or "
                "--lane-boundaries to set them"
            )
            raise InputError(msg, path=source)
        if need > len(layout.lanes):
            msg = (
                f"image {image.name}: the design names lane {need} but the image has "
                f"{len(layout.lanes)} lanes; check the lane numbers or --lanes"
            )
            raise InputError(msg, path=source)
    noise = pixel_noise(image.signal)
    profiles = {ln.index: ln.profile(image.signal) for ln in layout.lanes}
    mean_w = float(np.mean([ln.width for ln in layout.lanes]))
    detected = detect_band_rows(
        list(profiles.values()), list(profiles), max(noise, 1e-12) / math.sqrt(mean_w)
    )
    if rows is not None:
        windows = _windows_for(image, rows, detected, ladder, source)
    else:
        windows = {f"band_{k + 1}": (d.y0, d.y1, "detected") for k, d in enumerate(detected)}
    region_bg = (
        region_level(image.signal, method.region)
        if method.name == "user_region" and method.region is not None
        else None
    )
    curves: dict[int, np.ndarray] = {}
    if method.name == "rolling_ball" and method.radius is not None:
        h = ball_height(method.radius, image.signal)
        curves = {k: rolling_ball_curve(p, method.radius, h) for k, p in profiles.items()}
    lanes_needed: dict[str, list[int]] = {}
    for target in windows:
        if rows is None:
            lanes_needed[target] = [ln.index for ln in layout.lanes]
        else:
            lanes_needed[target] = sorted(rows.loc[rows["target"] == target, "lane"].astype(int))
    measures: list[tuple[str, BandMeasure]] = []
    by_index = {ln.index: ln for ln in layout.lanes}
    for target, (y0, y1, _) in windows.items():
        sigma = band_sigma([profiles[i] for i in lanes_needed[target]], (y0, y1))
        for idx in lanes_needed[target]:
            measures.append(
                (
                    target,
                    quantify_band(
                        image.signal,
                        by_index[idx],
                        profiles[idx],
                        (y0, y1),
                        method,
                        noise=noise,
                        saturation=image.saturation_value,
                        region_bg=region_bg,
                        lane_curve=curves.get(idx),
                        sigma=sigma,
                        image_flags=[f for f in image.flags if f != "float_no_saturation"],
                    ),
                )
            )
    return ImageAnalysis(image, layout, profiles, measures, windows, detected, noise)


def analyze_blot(
    images: Sequence[BlotImage] | Mapping[str, BlotImage],
    design: BlotDesign | None = None,
    /,
    *,
    background: str | BackgroundMethod = "lane_min_line",
    background_region: str | None = None,
    n_lanes: int | None = None,
    lane_boundaries: str | None = None,
    ladder: str | Ladder | None = None,
    ratios: str | Sequence[str] | None = None,
    aggregate: Aggregate = "log_t",
    confidence: float = 0.95,
    figures: bool = False,
    inputs: Mapping[str, str | bytes | PathLike[str]] | None = None,
) -> BlotResult:
    """Quantify blot images and, with a design, normalise, pair and aggregate.

    Parameters
    ----------
    images
        One or more :class:`BlotImage` (by name).
    design
        Lane/target design; without one every detected band row of every lane is measured
        (``band_1``, ``band_2``, ... top to bottom) and nothing is normalised.
    background
        ``lane_min_line`` (default), ``border_median(N)``, ``user_region(x0,y0,x1,y1)`` or
        ``rolling_ball(RADIUS)``; see :mod:`kinresist.blot.background`.
    n_lanes, lane_boundaries
        ``n_lanes`` equal lanes over the image width, or explicit column boundaries
        (``"0,40,80"`` / ``"5-35,45-75"``); default: detected.
    ladder
        ``"row:kDa,..."`` markers for windows given in kDa (and the ``mw_kda`` column).
    ratios
        Phospho/total pairs ``"p-ALK/ALK;p-FAK Y397/FAK"``; default: ``p-X`` over ``X``.
    aggregate
        Replicate blots: ``log_t`` (geometric mean, t CI, one-sample t) or ``mixed``.
    figures
        Draw the figures now (else on demand with :func:`kinresist.blot.plots.add_figures`).
    inputs
        Display name -> path or bytes, hashed into the provenance.
    """
    imgs = _as_images(images)
    method = (
        background
        if isinstance(background, BackgroundMethod)
        else parse_background(background, region=background_region)
    )
    lad = (
        Ladder.parse(ladder)
        if isinstance(ladder, str) and ladder.strip()
        else (ladder if isinstance(ladder, Ladder) else None)
    )
    if design is not None:
        design = _match_design(design, list(imgs))
    source = design.source if design is not None else ""
    analyses = []
    for name, image in imgs.items():
        rows = design.for_image(name) if design is not None else None
        if rows is not None and rows.empty:
            msg = f"image {name} has no row in the design; add its lanes or leave the image out"
            raise InputError(msg, path=source)
        analyses.append(
            _analyze_image(
                image,
                rows,
                method=method,
                n_lanes=n_lanes,
                lane_boundaries=lane_boundaries,
                ladder=lad,
                source=source,
            )
        )
    bands = bands_frame(analyses, design, method, lad)
    warnings_out = qc_warnings(bands, analyses)
    tables: dict[str, pd.DataFrame] = {"bands": bands, "lanes": lanes_frame(analyses, design)}
    measurements: list[Measurement] = []
    pairs: list[tuple[str, str]] = []
    if design is not None:
        norm = add_fold_change(loading_table(bands), "normalised")
        targets = list(dict.fromkeys(bands.loc[bands["role"] == "target", "target"]))
        pairs = parse_pairs(ratios, targets)
        rat = add_fold_change(ratio_table(norm, pairs), "ratio")
        rep_parts = []
        for frame, value, quantity in (
            (rat, "ratio", "phospho_total_ratio"),
            (norm[norm["loading_control"].notna()], "normalised", "loading_normalised_intensity"),
        ):
            agg, notes = aggregate_replicates(
                frame, value=value, method=aggregate, confidence=confidence
            )
            agg.insert(1, "quantity", quantity)
            rep_parts.append(agg)
            warnings_out += notes
        non_empty = [p for p in rep_parts if len(p)]
        reps = pd.concat(non_empty, ignore_index=True) if non_empty else rep_parts[0]
        tables.update({"normalised": norm, "ratios": rat, "replicates": reps})
        if bands["load"].notna().any():
            tables["linearity"] = linearity_table(bands)
        if (norm["flags"].str.contains("no_loading_control")).any():
            warnings_out.append(
                "some target bands have no loading control on their membrane: their normalised "
                "values are unknown"
            )
        if len(rat) and rat["ratio"].isna().any():
            warnings_out.append(
                f"{int(rat['ratio'].isna().sum())} phospho/total ratio(s) are unknown (separate "
                "membranes without a loading control, or a total band of zero)"
            )
        for frame in (norm, rat):
            if len(frame) and frame["flags"].str.contains("no_control_lane").any():
                warnings_out.append(
                    "some blot/cell-line groups have no control lane: no fold change for them "
                    "(mark control lanes with a control column)"
                )
                break
        measurements = build_measurements(norm, rat, reps, str(method))
    for text in dict.fromkeys(warnings_out):
        warn(text, DataQualityWarning)
    body = {
        "background": method.describe(),
        "images": [
            {
                **a.image.describe(),
                "noise_sd": a.noise,
                "lanes": a.layout.describe(),
                "windows": {
                    t: {"rows": [w[0], w[1]], "source": w[2]} for t, w in a.windows.items()
                },
                "detected_bands": [d.to_dict() for d in a.detected],
            }
            for a in analyses
        ],
        "design": None
        if design is None
        else {"source": design.source, "rows": len(design.frame), "notes": list(design.notes)},
        "ratios": [f"{n}/{d}" for n, d in pairs],
        "aggregation": {"method": aggregate, "confidence": confidence},
        "ladder": None if lad is None else {"rows": list(lad.rows), "kda": list(lad.kda)},
        "qc": {
            "bands": len(bands),
            **{
                flag: count_flag(bands, flag)
                for flag in ("saturated", "near_saturation", "low_signal", "not_detected")
            },
        },
        "definitions": DEFINITIONS,
    }
    params = {
        "background": str(method),
        "n_lanes": n_lanes,
        "lane_boundaries": lane_boundaries,
        "ladder": None
        if lad is None
        else ",".join(f"{r:g}:{k:g}" for r, k in zip(lad.rows, lad.kda, strict=True)),
        "ratios": ratios if ratios is None or isinstance(ratios, str) else list(ratios),
        "aggregate": aggregate,
        "confidence": confidence,
    }
    result = BlotResult(
        workflow="blot.analyze",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs=inputs, parameters=params),
        body=body,
        tables=tables,
        measurements=measurements,
        warnings=list(dict.fromkeys(image_notes(analyses) + warnings_out)),
        analyses=analyses,
    )
    if figures:
        from kinresist.blot.plots import add_figures

        add_figures(result)
    return result
