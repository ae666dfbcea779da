"""Blot images: 16-bit TIFF (linear) or 8-bit PNG/JPEG (display exports, flagged), one channel.

An imager's raw export (ChemiDoc, iBright, Odyssey, Amersham) is a single-channel 16-bit TIFF
whose grey value is proportional to the light collected: that is the only input for which band
volumes are proportional to protein. 8-bit PNG/JPEG files are display renderings (contrast
stretch, gamma, JPEG's lossy blocks): they are read, analysed and flagged ``8bit_display`` with a
:class:`~kinresist.errors.DataQualityWarning`, because the numbers are not linear in signal.

Orientation of the signal: all computations use a *signal* image in which more protein means a
larger value. Chemiluminescence exports are usually bright bands on a dark background; scanned
films and inverted-display exports are dark bands on a light background, which are inverted
(``full_scale - raw``, an affine map, so linear data stay linear). ``polarity="auto"`` decides from
the grey-value distribution (bands are the minority of pixels) and reports its choice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np

from kinresist.errors import DataQualityWarning, InputError, warn

__all__ = ["BlotImage", "Polarity", "image_from_array", "read_blot_image"]

Polarity = Literal["auto", "bright_bands", "dark_bands"]

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: Smallest image side (pixels) that can hold a lane profile worth analysing.
MIN_SIDE = 16


@dataclass(frozen=True, slots=True, eq=False)
class BlotImage:
    """One single-channel blot image, as signal (bands bright, larger = more protein).

    Attributes
    ----------
    name
        Display name (the file name when read from disk).
    signal
        2-D float64 array, rows = migration direction (top = high molecular weight).
    bit_depth
        8, 16 or 32 (float TIFF).
    source_format
        ``tiff``, ``png``, ``jpeg`` or ``array``.
    full_scale
        Largest representable raw value (255, 65535; the image maximum for float data).
    saturation_value
        Signal value at or above which a pixel counts as saturated (None: unknown, float data).
    inverted
        True when the raw image had dark bands and was inverted to signal.
    flags
        Image-level QC flags (``8bit_display``, ``jpeg_lossy``, ``float_no_saturation``...).
    """

    name: str
    signal: np.ndarray
    bit_depth: int
    source_format: str
    full_scale: float
    saturation_value: float | None
    inverted: bool
    flags: tuple[str, ...] = field(default=())

    @property
    def height(self) -> int:
        return int(self.signal.shape[0])

    @property
    def width(self) -> int:
        return int(self.signal.shape[1])

    @property
    def saturated(self) -> np.ndarray:
        """Boolean mask of saturated pixels (all False when saturation is unknown)."""
        if self.saturation_value is None:
            return np.zeros(self.signal.shape, dtype=bool)
        return np.asarray(self.signal >= self.saturation_value)

    def describe(self) -> dict[str, object]:
        """Image metadata for the result body."""
        return {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "bit_depth": self.bit_depth,
            "format": self.source_format,
            "full_scale": self.full_scale,
            "saturation_value": self.saturation_value,
            "polarity": "dark_bands (inverted)" if self.inverted else "bright_bands",
            "saturated_pixels": int(self.saturated.sum()),
            "flags": list(self.flags),
        }


def _decide_inverted(raw: np.ndarray, polarity: Polarity) -> bool:
    if polarity == "bright_bands":
        return False
    if polarity == "dark_bands":
        return True
    # Bands are the minority of pixels and stand out of the slow background (gradients
    # included): the longer tail of the residual from a running median along the migration
    # axis points towards the band side. Computed on a reduced copy (<= 512 x 256 pixels).
    from scipy import ndimage as ndi

    fy = max(1, raw.shape[0] // 512)
    fx = max(1, raw.shape[1] // 256)
    h = (raw.shape[0] // fy) * fy
    small = raw[:h, ::fx].reshape(h // fy, fy, -1).mean(axis=1)
    size = max(9, small.shape[0] // 6) | 1
    resid = small - ndi.median_filter(small, size=(size, 1), mode="nearest")
    lo, med, hi = np.percentile(resid, [0.5, 50.0, 99.5])
    return bool((med - lo) > (hi - med))


def image_from_array(
    raw: np.ndarray,
    *,
    name: str = "array",
    polarity: Polarity = "auto",
    saturation_value: float | None = None,
    source_format: str = "array",
    path: str | PathLike[str] | None = None,
) -> BlotImage:
    """Build a :class:`BlotImage` from a 2-D array of raw grey values.

    Parameters
    ----------
    raw
        uint8, uint16 or float array (rows x columns).
    polarity
        ``auto`` (decide from the grey-value distribution), ``bright_bands`` or ``dark_bands``.
    saturation_value
        Signal value counted as saturated; default the full scale of the integer type
        (255 or 65535). Give it for 12/14-bit cameras stored in 16-bit files (4095, 16383).

    8-bit input is flagged ``8bit_display`` (JPEG also ``jpeg_lossy``) and warned about here,
    once, with a :class:`~kinresist.errors.DataQualityWarning`.
    """
    arr = np.asarray(raw)
    if arr.ndim != 2:
        msg = (
            f"expected a single-channel (grey) image, got an array of shape {arr.shape}; "
            "export one channel per file from the imager"
        )
        raise InputError(msg, path=path)
    if min(arr.shape) < MIN_SIDE:
        msg = f"image of {arr.shape[1]}x{arr.shape[0]} pixels is too small to hold lanes (min {MIN_SIDE})"
        raise InputError(msg, path=path)
    flags: list[str] = []
    if arr.dtype == np.uint8:
        bit_depth, full = 8, 255.0
    elif arr.dtype == np.uint16:
        bit_depth, full = 16, 65535.0
    elif arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            msg = "image contains NaN or infinite pixels; expected finite grey values"
            raise InputError(msg, path=path)
        bit_depth, full = 32, float(arr.max())
        if saturation_value is None:
            flags.append("float_no_saturation")
    elif arr.dtype.kind in "iu":
        if arr.min() < 0:
            msg = "image contains negative grey values; expected an unsigned image"
            raise InputError(msg, path=path)
        bit_depth, full = 32, float(np.iinfo(arr.dtype).max)
        if saturation_value is None:
            flags.append("float_no_saturation")
    else:
        msg = f"unsupported pixel type {arr.dtype}; expected 8- or 16-bit grey or 32-bit float"
        raise InputError(msg, path=path)
    data = arr.astype(np.float64)
    if float(data.max()) == float(data.min()):
        msg = "image is uniform (every pixel has the same value); nothing to quantify"
        raise InputError(msg, path=path)
    inverted = _decide_inverted(data, polarity)
    signal = (full - data) if inverted else data
    sat: float | None
    if saturation_value is not None:
        sat = float(saturation_value)
    elif bit_depth in (8, 16):
        sat = full
    else:
        sat = None
    if bit_depth == 8:
        flags.append("8bit_display")
    if source_format == "jpeg":
        flags.append("jpeg_lossy")
    if bit_depth == 8 or source_format == "jpeg":
        kind = (
            "JPEG (lossy, 8-bit)" if source_format == "jpeg" else f"8-bit {source_format.upper()}"
        )
        warn(
            f"{name}: {kind} input is a display rendering, not linear in signal "
            "(contrast/gamma applied, 256 levels); band ratios may be biased - export the raw "
            "16-bit TIFF from the imager",
            DataQualityWarning,
        )
    return BlotImage(
        name=name,
        signal=np.ascontiguousarray(signal),
        bit_depth=bit_depth,
        source_format=source_format,
        full_scale=full,
        saturation_value=sat,
        inverted=inverted,
        flags=tuple(flags),
    )


def _rgb_to_grey(arr: np.ndarray, path: Path) -> np.ndarray:
    """Accept an RGB(A) file only when it is grey saved as colour (R == G == B)."""
    rgb = arr[..., :3]
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
        return np.ascontiguousarray(rgb[..., 0])
    msg = (
        f"a {arr.shape[-1]}-channel colour image (e.g. a photo or a pseudo-coloured export) "
        "was given; densitometry needs the single-channel grey image: export the raw 16-bit "
        "TIFF from the imager (or one channel per file for multiplex fluorescence)"
    )
    raise InputError(msg, path=path)


class _Collect(logging.Handler):
    """tifffile's log records (a damaged tag, a short strip), kept instead of printed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


def _read_tiff(path: Path) -> np.ndarray:
    import struct

    import tifffile

    log = logging.getLogger("tifffile")
    notes = _Collect()
    log.addHandler(notes)
    propagate, log.propagate = log.propagate, False
    try:
        with tifffile.TiffFile(path) as tif:
            n_pages = len(tif.pages)
            series = tif.series[0]
            arr = series.asarray()
            photometric = getattr(tif.pages[0], "photometric", None)
    except (
        tifffile.TiffFileError, ValueError, OSError, EOFError, struct.error, IndexError,
        KeyError, TypeError, ZeroDivisionError, OverflowError, MemoryError,
    ) as exc:  # fmt: skip
        # a damaged file fails anywhere in the parser: its structure is what is wrong
        why = " ".join(str(exc).split()) or type(exc).__name__
        if notes.messages:
            why += f"; {notes.messages[0]}"
        msg = (
            f"cannot read as TIFF ({why}); the file is damaged or not a TIFF: expected a "
            "single-channel 16-bit TIFF from the imager (export it again)"
        )
        raise InputError(msg, path=path) from None
    finally:
        log.removeHandler(notes)
        log.propagate = propagate
    arr = np.squeeze(arr)
    is_rgb = photometric is not None and int(photometric) == int(tifffile.PHOTOMETRIC.RGB)
    if arr.ndim == 3 and (is_rgb or arr.shape[-1] in (3, 4)):
        arr = _rgb_to_grey(arr, path)
    if arr.ndim != 2 or arr.size == 0:
        msg = (
            f"TIFF holds {n_pages} pages / an array of shape {arr.shape}; expected one "
            "single-channel image per file (export each exposure or channel separately)"
        )
        if notes.messages:
            msg += f"; tifffile: {notes.messages[0]}"
        raise InputError(msg, path=path)
    for note in notes.messages[:3]:  # read, but tifffile noticed something: say so
        warn(f"{path.name}: tifffile: {note}", DataQualityWarning)
    return arr


def _read_pillow(path: Path) -> tuple[np.ndarray, str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            fmt = (im.format or "").lower()
            mode = im.mode
            if mode in ("I;16", "I;16B", "I;16L"):
                arr = np.asarray(im, dtype=np.uint16)
            elif mode == "P":
                arr = np.asarray(im.convert("RGB"))
            else:
                arr = np.asarray(im)
    except (UnidentifiedImageError, OSError) as exc:
        msg = (
            "not a readable image (expected a 16-bit TIFF, or an 8-bit PNG/JPEG); "
            f"the file is not an image or is damaged ({exc.__class__.__name__})"
        )
        raise InputError(msg, path=path) from exc
    if arr.ndim == 3:
        if arr.shape[-1] == 2:  # grey + alpha
            arr = np.ascontiguousarray(arr[..., 0])
        else:
            arr = _rgb_to_grey(arr, path)
    if mode == "I" and arr.dtype != np.uint16:
        arr = arr.astype(np.int64)
        if arr.min() >= 0 and arr.max() <= 65535:
            arr = arr.astype(np.uint16)
    return arr, "jpeg" if fmt in ("jpeg", "jpg", "mpo") else fmt or "image"


def read_blot_image(
    path: str | PathLike[str],
    *,
    polarity: Polarity = "auto",
    saturation_value: float | None = None,
) -> BlotImage:
    """Read a blot image file (TIFF, PNG or JPEG; decided from the file's bytes, not its name).

    8-bit and JPEG inputs are analysed but flagged, with a
    :class:`~kinresist.errors.DataQualityWarning` (display exports are not linear).

    Raises
    ------
    InputError
        Not an image, a colour photo, a multi-page stack, or an image too small for lanes.
    """
    p = Path(path)
    if not p.is_file():
        msg = "no such image file; give the path of the blot image (16-bit TIFF)"
        raise InputError(msg, path=p)
    with p.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_TIFF_MAGIC):
        arr, fmt = _read_tiff(p), "tiff"
    else:  # PNG, JPEG (and whatever else Pillow recognises); not an image -> InputError
        arr, fmt = _read_pillow(p)
    image = image_from_array(
        arr,
        name=p.name,
        polarity=polarity,
        saturation_value=saturation_value,
        source_format=fmt,
        path=p,
    )
    return image
