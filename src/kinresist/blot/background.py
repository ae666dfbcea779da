"""Named background methods for band densitometry.

Every band volume is ``sum over the band's pixels of (I - B)``; the methods differ only in B.
Which one was used is part of every result (labs disagree on blots because of this choice).

``lane_min_line`` (default)
    ImageJ gel-analyser style: a straight baseline under the band, between the two flanking
    minima of the lane profile (the valleys either side of the peak). Exact for a background
    that is linear over the band, whatever its slope. Minima are located on the smoothed profile
    after removing the chord across the band window (so a steep gradient does not push a
    minimum into the band's tail); the baseline heights are local means of the raw profile
    (3 rows either side), which keeps noise from biasing the floor downwards.
``border_median(n)``
    LI-COR Image Studio "border" background: the median of the pixels in ``n``-row strips just
    above and below the band rectangle (default n = 3), constant under the band.
``user_region``
    The median of a user-drawn background rectangle ``x0,y0,x1,y1`` (image pixels), constant
    over the whole image.
``rolling_ball(radius)``
    A ball rolled under the lane profile: the grey-scale *opening* of the profile with a
    half-ellipse of half-width ``radius`` rows and height ``radius x range / 255`` grey levels,
    ``range`` being the image's 0.1-99.9 percentile span. That is ImageJ's ball on an 8-bit
    image (radius in the same units on both axes), whatever the bit depth. Two pitfalls this
    avoids (measured, see docs/blot.md): ``skimage.restoration.rolling_ball`` returns the
    ball's apex, i.e. the grey-scale *erosion* (it sits ``slope x radius`` below a sloped
    background), and with the radius taken in raw 16-bit grey levels the ball is flat, so a
    gradient steeper than ``band height / 2 radius`` lifts the background into the band. The
    rolling ball remains radius-sensitive on steep gradients; ``lane_min_line`` does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import ndimage as ndi

from kinresist.errors import InputError

__all__ = [
    "BACKGROUND_METHODS",
    "BackgroundMethod",
    "parse_background",
    "rolling_ball_curve",
]

MethodName = Literal["lane_min_line", "border_median", "user_region", "rolling_ball"]
BACKGROUND_METHODS: tuple[str, ...] = (
    "lane_min_line",
    "border_median",
    "user_region",
    "rolling_ball",
)

_CALL = re.compile(r"^\s*([a-z_]+)\s*(?:\(\s*([^)]*)\s*\))?\s*$")


@dataclass(frozen=True, slots=True)
class BackgroundMethod:
    """A background method and its parameters (``str()`` gives the canonical name)."""

    name: MethodName
    radius: int | None = None
    border: int = 3
    region: tuple[int, int, int, int] | None = None

    def __str__(self) -> str:
        if self.name == "rolling_ball":
            return f"rolling_ball({self.radius})"
        if self.name == "border_median":
            return f"border_median({self.border})"
        if self.name == "user_region" and self.region is not None:
            return "user_region({},{},{},{})".format(*self.region)
        return self.name

    def describe(self) -> dict[str, object]:
        return {
            "method": str(self),
            "name": self.name,
            "radius": self.radius,
            "border_rows": self.border if self.name == "border_median" else None,
            "region": None if self.region is None else list(self.region),
        }


def _ints(text: str, what: str) -> list[int]:
    try:
        return [int(float(v)) for v in re.split(r"[,\s]+", text.strip()) if v]
    except ValueError:
        msg = f"cannot read {what} {text!r}; expected integers"
        raise InputError(msg) from None


def parse_background(
    text: str, *, region: str | tuple[int, int, int, int] | None = None
) -> BackgroundMethod:
    """Parse ``lane_min_line``, ``border_median(3)``, ``user_region(x0,y0,x1,y1)``, ``rolling_ball(50)``.

    ``region`` gives the user region separately (e.g. from ``--background-region``).
    """
    m = _CALL.match(text or "")
    if m is None or m.group(1) not in BACKGROUND_METHODS:
        msg = (
            f"unknown background method {text!r}; expected one of lane_min_line, "
            "border_median(N), user_region(x0,y0,x1,y1), rolling_ball(RADIUS)"
        )
        raise InputError(msg)
    name, arg = m.group(1), (m.group(2) or "").strip()
    if name == "lane_min_line":
        if arg:
            msg = f"lane_min_line takes no argument, got {text!r}"
            raise InputError(msg)
        return BackgroundMethod("lane_min_line")
    if name == "border_median":
        n = _ints(arg, "border width") if arg else [3]
        if len(n) != 1 or not 1 <= n[0] <= 50:
            msg = f"border_median(N) needs one width 1-50 rows, got {text!r}"
            raise InputError(msg)
        return BackgroundMethod("border_median", border=n[0])
    if name == "rolling_ball":
        r = _ints(arg, "rolling-ball radius") if arg else []
        if len(r) != 1 or r[0] < 2:
            msg = (
                f"rolling_ball needs a radius in pixels >= 2, e.g. rolling_ball(50), got {text!r}; "
                "choose it larger than the tallest band (see docs/blot.md)"
            )
            raise InputError(msg)
        return BackgroundMethod("rolling_ball", radius=r[0])
    spec: str | tuple[int, int, int, int] | None = arg or region
    if spec is None or spec == "":
        msg = (
            "user_region needs a background rectangle x0,y0,x1,y1 in image pixels: "
            "user_region(10,5,60,30) or --background-region 10,5,60,30"
        )
        raise InputError(msg)
    vals = list(spec) if isinstance(spec, tuple) else _ints(spec, "background region")
    if len(vals) != 4 or vals[2] <= vals[0] or vals[3] <= vals[1] or min(vals) < 0:
        msg = f"background region must be x0,y0,x1,y1 with x1 > x0 and y1 > y0, got {spec!r}"
        raise InputError(msg)
    return BackgroundMethod("user_region", region=(vals[0], vals[1], vals[2], vals[3]))


def ball_height(radius: int, signal: np.ndarray) -> float:
    """Height (grey levels) of the ball: ``radius x (0.1-99.9 percentile range) / 255``."""
    lo, hi = np.percentile(signal, [0.1, 99.9])
    return float(radius * max(hi - lo, 1e-12) / 255.0)


def rolling_ball_curve(profile: np.ndarray, radius: int, height: float) -> np.ndarray:
    """Background of a lane profile: opening with a half-ellipse (half-width ``radius``)."""
    k = np.arange(-radius, radius + 1, dtype=np.float64)
    ball = height * np.sqrt(np.clip(1.0 - (k / radius) ** 2, 0.0, None))
    return np.asarray(ndi.grey_opening(profile, structure=ball, mode="nearest"))


def region_level(signal: np.ndarray, region: tuple[int, int, int, int]) -> float:
    """Median signal of the user's background rectangle (validated against the image)."""
    x0, y0, x1, y1 = region
    h, w = signal.shape
    if x1 > w or y1 > h:
        msg = f"background region {region} leaves the image ({w}x{h} pixels)"
        raise InputError(msg)
    return float(np.median(signal[y0:y1, x0:x1]))
