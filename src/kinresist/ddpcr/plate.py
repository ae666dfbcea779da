"""Droplet-level data model: one plate = flat droplet arrays plus a well index.

Everything downstream (gating, counting, plotting) works on these flat arrays so that a
96-well plate of ~2 million droplets is handled with a few vectorised NumPy passes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kinresist.errors import InputError

__all__ = ["CLUSTER_NAMES", "Plate", "WellDroplets", "normalise_well", "plate_from_wells"]

#: QuantaSoft cluster codes (verified on three data sets): 1 = Ch1-Ch2-, 2 = Ch1+Ch2-,
#: 3 = Ch1+Ch2+, 4 = Ch1-Ch2+. 0 = unclassified / gated out.
CLUSTER_NAMES = {1: "Ch1-Ch2-", 2: "Ch1+Ch2-", 3: "Ch1+Ch2+", 4: "Ch1-Ch2+"}

_WELL_RE = re.compile(r"^([A-Pa-p])0?(\d{1,2})$")


def normalise_well(text: str) -> str:
    """``'a1'``/``'A01'`` -> ``'A01'``; raises InputError for anything else."""
    m = _WELL_RE.match(text.strip().strip('"'))
    if not m or not 1 <= int(m.group(2)) <= 24:
        msg = f"{text!r} is not a well name; expected a row letter and column number such as A01"
        raise InputError(msg)
    return f"{m.group(1).upper()}{int(m.group(2)):02d}"


def well_sort_key(well: str) -> tuple[int, int, str]:
    """Column-major order (A01, B01, ..., H01, A02, ...) as QuantaSoft lists wells."""
    m = _WELL_RE.match(well)
    if not m:
        return (999, 999, well)
    return (int(m.group(2)), ord(m.group(1).upper()), well)


@dataclass(frozen=True)
class WellDroplets:
    """Droplets of one well as read from an amplitude export.

    ``ch2`` is all-NaN for single-channel (simplex) exports; ``cluster`` holds QuantaSoft's
    codes 1-4 (0 = unclassified) or is None when the export has no classification.
    """

    well: str
    ch1: np.ndarray
    ch2: np.ndarray
    cluster: np.ndarray | None
    source: str
    plate_name: str = ""

    @property
    def n(self) -> int:
        return int(self.ch1.size)


@dataclass(frozen=True)
class Plate:
    """A plate as flat droplet arrays.

    Attributes
    ----------
    wells
        Well names, in column-major order.
    well_index
        For each droplet, the index into ``wells``.
    ch1, ch2
        Amplitudes (float64); ``ch2`` is NaN for simplex exports.
    cluster
        QuantaSoft codes 1-4 per droplet (0 = unclassified) or None when no well has them.
    sources
        File each well was read from.
    """

    name: str
    wells: tuple[str, ...]
    well_index: np.ndarray
    ch1: np.ndarray
    ch2: np.ndarray
    cluster: np.ndarray | None
    sources: tuple[str, ...]
    offsets: np.ndarray = field(repr=False)

    @property
    def n_droplets(self) -> int:
        return int(self.ch1.size)

    @property
    def simplex(self) -> bool:
        return bool(np.isnan(self.ch2).all()) if self.ch2.size else True

    def well_slice(self, well: str) -> slice:
        i = self.wells.index(well)
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    def counts_per_well(self) -> np.ndarray:
        return np.diff(self.offsets)


def plate_from_wells(wells: Sequence[WellDroplets], *, name: str = "") -> Plate:
    """Assemble a :class:`Plate` (wells sorted column-major, duplicate wells refused)."""
    if not wells:
        msg = "no amplitude files found; expected files named <plate>_<Well>_Amplitude.csv"
        raise InputError(msg)
    seen: dict[str, str] = {}
    for w in wells:
        if w.well in seen:
            msg = (
                f"well {w.well} appears twice ({seen[w.well]} and {w.source}); analyse one plate at "
                "a time (put each plate in its own folder or zip)"
            )
            raise InputError(msg)
        seen[w.well] = w.source
        bad = ~np.isfinite(w.ch1) | np.isinf(w.ch2)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = (
                f"well {w.well}: droplet {i + 1} has a non-finite amplitude "
                f"(Ch1 {w.ch1[i]}, Ch2 {w.ch2[i]}); every droplet needs finite amplitudes"
            )
            raise InputError(msg, path=w.source)
    simplex = [w for w in wells if w.n and np.isnan(w.ch2).all()]
    duplex = [w for w in wells if w.n and not np.isnan(w.ch2).all()]
    if simplex and duplex:
        listed = ", ".join(f"{w.well} ({w.source})" for w in simplex[:3])
        more = f" and {len(simplex) - 3} more" if len(simplex) > 3 else ""
        msg = (
            f"{len(simplex)} well(s) have no Ch2 amplitudes while {len(duplex)} have both "
            f"channels: {listed}{more}. A plate is gated as one; a file without its Ch2 column "
            "would make intact wells look Ch2-negative. Re-export the damaged file(s) with both "
            "channels, or leave them out of the plate"
        )
        raise InputError(msg, path=simplex[0].source)
    ordered = sorted(wells, key=lambda w: well_sort_key(w.well))
    sizes = np.array([w.n for w in ordered], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    has_cluster = any(w.cluster is not None for w in ordered)
    cluster = None
    if has_cluster:
        cluster = np.concatenate(
            [w.cluster if w.cluster is not None else np.zeros(w.n, np.int8) for w in ordered]
        ).astype(np.int8)
    names = {w.plate_name for w in ordered if w.plate_name}
    return Plate(
        name=name or (names.pop() if len(names) == 1 else ""),
        wells=tuple(w.well for w in ordered),
        well_index=np.repeat(np.arange(len(ordered), dtype=np.int32), sizes),
        ch1=np.concatenate([w.ch1 for w in ordered]).astype(np.float64),
        ch2=np.concatenate([w.ch2 for w in ordered]).astype(np.float64),
        cluster=cluster,
        sources=tuple(w.source for w in ordered),
        offsets=offsets,
    )
