"""Deterministic example plates (for the demo, the docs and the tests).

:func:`write_example_plate` writes a 384-well plate-reader grid CSV and its plate
map: parental and resistant cells (H3122 / H3122-AR) × two ALK inhibitors ×
10-point 1:3 dilutions from 10 µM in triplicate, with vehicle, blank and kill
control wells. Signals follow LL.4 curves with 4 % multiplicative noise drawn
from the seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ExamplePlate", "example_plate", "write_example_plate"]

#: (cell line, drug) -> (IC50 nM, hill b, bottom % of vehicle)
TRUE_CURVES: dict[tuple[str, str], tuple[float, float, float]] = {
    ("H3122", "alectinib"): (35.0, 1.2, 8.0),
    ("H3122-AR", "alectinib"): (620.0, 1.0, 12.0),
    ("H3122", "lorlatinib"): (12.0, 1.4, 6.0),
    ("H3122-AR", "lorlatinib"): (40.0, 1.3, 8.0),
}


@dataclass(frozen=True)
class ExamplePlate:
    """A generated plate: reader grid (16×24 signals) and long map."""

    signals: np.ndarray
    plate_map: pd.DataFrame
    name: str = "Plate 1"


def example_plate(rng: np.random.Generator | None = None, *, noise: float = 0.04) -> ExamplePlate:
    """Build the example 384-well plate (seeded: ``np.random.default_rng(20240501)`` by default)."""
    rng = np.random.default_rng(20240501) if rng is None else rng
    doses_nm = 10_000.0 / 3.0 ** np.arange(10)
    vehicle, blank, kill = 52_000.0, 900.0, 1_400.0
    signals = np.full((16, 24), np.nan)
    records = []
    # inner wells B2..O23 in column-major order; the outer ring holds blanks/medium
    inner = [(r, c) for c in range(1, 23) for r in range(1, 15)]
    k = 0
    for (line, drug), (ic50, b, bottom) in TRUE_CURVES.items():
        for rep in (1, 2, 3):
            for d in doses_nm:
                r, c = inner[k]
                k += 1
                frac = bottom + (100 - bottom) / (1 + np.exp(b * (np.log(d) - np.log(ic50))))
                signals[r, c] = blank + (vehicle - blank) * frac / 100
                records.append((r, c, "sample", line, drug, f"{d:.6g} nM", str(rep)))
    for line in ("H3122", "H3122-AR"):
        for rep in range(8):
            r, c = inner[k]
            k += 1
            signals[r, c] = vehicle
            records.append((r, c, "vehicle", line, "DMSO", "0 nM", str(rep + 1)))
    for rep in range(8):
        r, c = inner[k]
        k += 1
        signals[r, c] = kill
        records.append((r, c, "positive", "", "staurosporine", "1 uM", str(rep + 1)))
    signals = signals * rng.lognormal(0.0, noise, size=signals.shape)
    for r in range(16):
        for c in range(24):
            if np.isnan(signals[r, c]):
                signals[r, c] = blank * rng.lognormal(0.0, noise)
                if r in (0, 15) or c in (0, 23):
                    records.append((r, c, "blank", "", "", "", "1"))
    frame = pd.DataFrame.from_records(
        records, columns=["row", "col", "role", "cell_line", "drug", "concentration", "replicate"]
    )
    frame.insert(
        0,
        "well",
        [f"{chr(65 + r)}{c + 1}" for r, c in zip(frame["row"], frame["col"], strict=True)],
    )
    return ExamplePlate(np.round(signals, 1), frame.drop(columns=["row", "col"]))


def write_example_plate(
    directory: str | Path, rng: np.random.Generator | None = None
) -> tuple[Path, Path]:
    """Write ``example_plate.csv`` (reader grid) and ``example_map.csv``; return both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    plate = example_plate(rng)
    lines = [plate.name, "," + ",".join(str(i) for i in range(1, 25))]
    for r in range(16):
        lines.append(chr(65 + r) + "," + ",".join(f"{v:.1f}" for v in plate.signals[r]))
    plate_path = directory / "example_plate.csv"
    plate_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    map_path = directory / "example_map.csv"
    plate.plate_map.to_csv(map_path, index=False)
    return plate_path, map_path
