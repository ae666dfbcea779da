"""Plate file + plate map -> normalised responses, QC, fits, fold shifts (one call).

:func:`analyze_plate` is the library function behind ``kinresist dose plate``.
Curves are grouped by (cell line, drug); for every drug tested on two or more cell
lines the later lines are compared with the first one in the map (the reference,
e.g. parental), by a joint fit with the chosen shared parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kinresist.dose.compare import compare_groups
from kinresist.dose.fit import CurveFits, fit_curves
from kinresist.dose.normalise import PlateQC, combine_plate_and_map, normalise_plates
from kinresist.dose.plates import read_plate, read_plate_map, require_dose_series

__all__ = ["PlateAnalysis", "analyze_plate"]


@dataclass(frozen=True)
class PlateAnalysis:
    """Everything the plate report shows."""

    table: pd.DataFrame  # normalised wells (dose in nM, response % of vehicle)
    qc: list[PlateQC]
    fits: CurveFits
    comparisons: list[dict[str, Any]]
    model: str
    se_method: str
    shared: tuple[str, ...]
    kill_as_zero: bool


def analyze_plate(
    plate: str | Path,
    plate_map: str | Path,
    *,
    model: str = "LL.4",
    se: str = "jtj",
    shared: Sequence[str] = (),
    kill_as_zero: bool = False,
    sheet: str | int | None = None,
) -> PlateAnalysis:
    """Read, normalise, QC and fit a plate file with its map."""
    wells = read_plate(plate, sheet=sheet)
    pmap = read_plate_map(plate_map)
    require_dose_series(pmap, path=plate_map)
    merged = combine_plate_and_map(wells, pmap, plate_path=plate, map_path=plate_map)
    table, qc = normalise_plates(merged, kill_as_zero=kill_as_zero, map_path=plate_map)
    samples = table[table["role"] == "sample"]
    # vehicle wells (dose 0) enter every curve of their cell line
    frames = []
    for (line, drug), part in samples.groupby(["cell_line", "drug"], sort=False):
        veh = table[(table["role"] == "vehicle") & (table["cell_line"] == line)]
        if veh.empty:
            veh = table[table["role"] == "vehicle"]
        grp = f"{line} | {drug}" if line else str(drug)
        both = pd.concat([part, veh])
        data: dict[str, Any] = {
            "dose": both["dose_nm"].to_numpy(float),
            "response": both["response"].to_numpy(float),
            "group": grp,
            "cell_line": line,
            "drug": drug,
        }
        frames.append(pd.DataFrame(data))
    long = pd.concat(frames, ignore_index=True).dropna(subset=["response"])
    fits = fit_curves(long[["dose", "response", "group"]], model=model, se=se, absolute_level=50.0)
    comparisons = []
    for drug, part in long.groupby("drug", sort=False):
        lines = list(dict.fromkeys(part["cell_line"]))
        if len(lines) < 2:
            continue
        res = compare_groups(
            part["dose"].to_numpy(float),
            part["response"].to_numpy(float),
            part["cell_line"].tolist(),
            model=model,
            shared=shared,
            se=se,
        )
        d = res.to_dict()
        d["panel"] = str(drug)
        comparisons.append(d)
    return PlateAnalysis(long, qc, fits, comparisons, model, se, tuple(shared), kill_as_zero)
