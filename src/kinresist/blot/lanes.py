"""Lanes: detected from the image, ``n`` equal lanes, or explicit boundaries; lane profiles.

A lane is a rectangle spanning the full image height, columns ``[x0, x1)``. Its profile is
the mean grey value across the lane width for each row, which is what ImageJ's gel analyser
plots (``ProfilePlot`` of a rectangular selection). Band volumes are ``width x`` the profile
integral, i.e. the sum of pixels of the band rectangle.

Detection: each column is scored by the 99th percentile of the image after removing the slow
background along the migration axis (bands stand out, inter-lane gaps do not); columns above
a threshold half-way between the gap level and the lane level form lanes. A lane with no band
at all is invisible to this, so lanes missing between regularly spaced ones are filled in at
the detected pitch; lanes missing at the ends cannot be inferred (pass ``n`` or boundaries).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from kinresist.errors import InputError

__all__ = [
    "MIN_LANE_WIDTH",
    "Lane",
    "LaneLayout",
    "detect_lanes",
    "equal_lanes",
    "lane_layout",
    "lanes_from_boundaries",
    "parse_boundaries",
    "pixel_noise",
]

#: Narrowest lane (pixels) whose profile is worth a number.
MIN_LANE_WIDTH = 3
#: Relative spread of lane widths above which ``unequal_lane_width`` is flagged.
UNEQUAL_WIDTH_TOLERANCE = 0.10


@dataclass(frozen=True, slots=True)
class Lane:
    """One lane rectangle (columns ``x0`` to ``x1 - 1``), numbered from 1 left to right."""

    index: int
    x0: int
    x1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    def profile(self, signal: np.ndarray) -> np.ndarray:
        """Mean signal across the lane width for every row (ImageJ's lane profile)."""
        return np.asarray(signal[:, self.x0 : self.x1].mean(axis=1), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class LaneLayout:
    """The lanes of one image and how they were obtained."""

    lanes: tuple[Lane, ...]
    method: str  # "detected", "equal", "boundaries"
    flags: tuple[str, ...] = ()
    filled: tuple[int, ...] = ()  # lanes inserted at the detected pitch

    def describe(self) -> dict[str, object]:
        widths = [ln.width for ln in self.lanes]
        return {
            "method": self.method,
            "n_lanes": len(self.lanes),
            "boundaries": [[ln.x0, ln.x1] for ln in self.lanes],
            "width_min": min(widths),
            "width_max": max(widths),
            "filled_lanes": list(self.filled),
            "flags": list(self.flags),
        }


def _width_flags(lanes: tuple[Lane, ...]) -> tuple[str, ...]:
    widths = np.array([ln.width for ln in lanes], dtype=float)
    if len(widths) > 1 and (widths.max() - widths.min()) > UNEQUAL_WIDTH_TOLERANCE * np.median(
        widths
    ):
        return ("unequal_lane_width",)
    return ()


def _too_many(n: int, width: int) -> InputError:
    most = width // MIN_LANE_WIDTH
    msg = (
        f"{n} lanes do not fit an image {width} pixels wide (each lane needs at least "
        f"{MIN_LANE_WIDTH} pixels, so at most {most} lanes); check --lanes, or crop the image to "
        "the lanes"
    )
    return InputError(msg)


def equal_lanes(width: int, n: int, *, x_start: int = 0, x_end: int | None = None) -> LaneLayout:
    """``n`` equal lanes side by side over columns ``[x_start, x_end)`` (ImageJ's equal rectangles)."""
    end = width if x_end is None else x_end
    if n < 1:
        msg = f"number of lanes must be >= 1, got {n}"
        raise InputError(msg)
    if not 0 <= x_start < end <= width:
        msg = f"lane area {x_start}-{end} is outside the image (0-{width})"
        raise InputError(msg)
    if (end - x_start) / n < MIN_LANE_WIDTH:
        raise _too_many(n, end - x_start)
    edges = np.rint(np.linspace(x_start, end, n + 1)).astype(int)
    lanes = tuple(Lane(i + 1, int(edges[i]), int(edges[i + 1])) for i in range(n))
    return LaneLayout(lanes, "equal", _width_flags(lanes))


_RANGE = re.compile(r"^\s*(\d+)\s*[-:]\s*(\d+)\s*$")


def parse_boundaries(text: str) -> list[tuple[int, int]]:
    """Parse ``"0,40,80,120"`` (n+1 edges) or ``"5-35,45-75"`` (one range per lane)."""
    parts = [p for p in re.split(r"[;,\s]+", text.strip()) if p]
    if not parts:
        msg = "empty lane boundaries; give n+1 edges '0,40,80' or ranges '5-35,45-75'"
        raise InputError(msg)
    if all(_RANGE.match(p) for p in parts):
        out = []
        for p in parts:
            m = _RANGE.match(p)
            assert m is not None
            out.append((int(m.group(1)), int(m.group(2))))
        return out
    try:
        edges = [int(p) for p in parts]
    except ValueError:
        msg = (
            f"cannot read lane boundaries {text!r}; give n+1 column edges ('0,40,80,120') or "
            "one range per lane ('5-35,45-75')"
        )
        raise InputError(msg) from None
    if len(edges) < 2:
        msg = f"lane boundaries {text!r} give no lane; need at least two edges"
        raise InputError(msg)
    return list(itertools.pairwise(edges))


def lanes_from_boundaries(width: int, spans: list[tuple[int, int]]) -> LaneLayout:
    """Lanes from explicit ``(x0, x1)`` column ranges (left to right, non-overlapping)."""
    lanes = []
    prev_end = 0
    for i, (x0, x1) in enumerate(spans, start=1):
        if x1 - x0 < MIN_LANE_WIDTH:
            msg = f"lane {i} ({x0}-{x1}) is narrower than {MIN_LANE_WIDTH} pixels"
            raise InputError(msg)
        if x0 < prev_end or x1 > width or x0 < 0:
            msg = (
                f"lane {i} ({x0}-{x1}) overlaps the previous lane or leaves the image "
                f"(0-{width}); give increasing, non-overlapping column ranges"
            )
            raise InputError(msg)
        lanes.append(Lane(i, x0, x1))
        prev_end = x1
    lt = tuple(lanes)
    return LaneLayout(lt, "boundaries", _width_flags(lt))


def pixel_noise(signal: np.ndarray) -> float:
    """Robust pixel noise SD: MAD of horizontal neighbour differences / sqrt(2).

    Bands are smooth across a lane, so neighbour differences are noise except at lane edges,
    which the median ignores. Quantised data whose MAD is 0 fall back to the mean absolute
    deviation; the result is never below one grey level's quantisation noise (1/sqrt(12)).
    """
    d = np.diff(signal, axis=1)
    dev = np.abs(d - np.median(d))
    sd = 1.4826 * float(np.median(dev))
    if sd == 0.0:  # quantised, nearly noiseless data (8-bit): mean absolute deviation
        sd = 1.2533 * float(dev.mean())
    # never below the quantisation noise of one grey level
    return max(sd / np.sqrt(2.0), 1.0 / np.sqrt(12.0))


def column_score(signal: np.ndarray) -> np.ndarray:
    """Per-column band evidence: 99th percentile after removing the slow vertical background."""
    h = signal.shape[0]
    size = max(9, h // 6)
    slow = ndi.uniform_filter1d(signal, size=size, axis=0, mode="nearest")
    score = np.percentile(signal - slow, 99.0, axis=0)
    return np.asarray(ndi.gaussian_filter1d(score, 1.0, mode="nearest"))


def detect_lanes(signal: np.ndarray) -> LaneLayout:
    """Find lanes as runs of columns carrying bands (see the module docstring)."""
    width = signal.shape[1]
    score = column_score(signal)
    lo, hi = np.percentile(score, [10.0, 95.0])
    if hi - lo <= 0:
        msg = "no lanes found (the image has no band-like structure); pass --lanes N or boundaries"
        raise InputError(msg)
    noise = pixel_noise(signal)
    above = score > lo + min(0.35 * (hi - lo), max(5.0 * noise, 0.02 * (hi - lo)))
    labels, _ = ndi.label(above)
    runs: list[tuple[int, int]] = []
    for found in ndi.find_objects(labels):
        if found is None:
            continue
        sl = found[0]
        if sl.stop - sl.start >= MIN_LANE_WIDTH:
            runs.append((int(sl.start), int(sl.stop)))
    if not runs:
        msg = "no lanes found; pass --lanes N or explicit lane boundaries"
        raise InputError(msg)
    # Merge runs split by a dip narrower than 3 pixels (a streak or a bubble in the lane).
    merged: list[list[int]] = [list(runs[0])]
    for x0, x1 in runs[1:]:
        if x0 - merged[-1][1] < 3:
            merged[-1][1] = x1
        else:
            merged.append([x0, x1])
    widths = np.array([b - a for a, b in merged], dtype=float)
    keep = widths >= 0.4 * np.median(widths)
    spans = [(a, b) for (a, b), k in zip(merged, keep, strict=True) if k]
    filled: list[int] = []
    if len(spans) >= 3:
        centres = np.array([(a + b) / 2 for a, b in spans])
        gaps = np.diff(centres)
        pitch = float(np.median(gaps[gaps < 1.5 * gaps.min()]))
        lane_w = round(np.median([b - a for a, b in spans]))
        out: list[tuple[int, int]] = [spans[0]]
        for (a, b), gap in zip(spans[1:], gaps, strict=True):
            k = round(gap / pitch)
            if k >= 2 and abs(gap - k * pitch) < 0.15 * pitch:
                c0 = (out[-1][0] + out[-1][1]) / 2
                for j in range(1, k):
                    c = c0 + j * gap / k
                    out.append((round(c - lane_w / 2), round(c + lane_w / 2)))
                    filled.append(len(out))
            out.append((a, b))
        spans = out
    # Weak lanes look narrower than strong ones (their band edges fall below the threshold):
    # give every lane the same width, that of the widest run plus 2 pixels a side, centred on
    # its run, without reaching into the neighbours (ImageJ's equal rectangles).
    mids = [(a + b) / 2 for a, b in spans]
    lane_w = max(b - a for a, b in spans) + 4
    if len(mids) > 1:
        lane_w = min(lane_w, int(np.floor(min(np.diff(mids)))) - 1)
    lane_w = max(lane_w, MIN_LANE_WIDTH)
    lanes = tuple(
        Lane(
            i + 1,
            max(0, round(c - lane_w / 2)),
            min(width, round(c - lane_w / 2) + lane_w),
        )
        for i, c in enumerate(mids)
    )
    flags: tuple[str, ...] = ("lanes_filled_at_pitch",) if filled else ()
    return LaneLayout(lanes, "detected", flags, tuple(filled))


def lane_layout(
    signal: np.ndarray,
    *,
    n_lanes: int | None = None,
    boundaries: str | list[tuple[int, int]] | None = None,
) -> LaneLayout:
    """Lanes from explicit boundaries, else ``n_lanes`` equal lanes, else detection."""
    width = signal.shape[1]
    if boundaries is not None:
        spans = parse_boundaries(boundaries) if isinstance(boundaries, str) else list(boundaries)
        layout = lanes_from_boundaries(width, spans)
        if n_lanes is not None and n_lanes != len(layout.lanes):
            msg = f"--lanes {n_lanes} disagrees with the {len(layout.lanes)} lane boundaries given"
            raise InputError(msg)
        return layout
    if n_lanes is not None:
        if n_lanes > width // MIN_LANE_WIDTH:
            raise _too_many(n_lanes, width)
        return equal_lanes(width, n_lanes)
    return detect_lanes(signal)
