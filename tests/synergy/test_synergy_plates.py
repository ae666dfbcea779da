"""Checkerboard plates: plate grid + checkerboard map -> blocks (through the dose reader).

Reference: the plate is generated from a known % viability matrix (signal = blank +
viability/100 · (vehicle − blank)), so normalisation must give it back (atol 1e-9).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kinresist.errors import UnitError
from kinresist.synergy.plates import read_checkerboard_plates

C1 = [0, 10, 30, 100, 300, 1000]  # nM
C2 = [0, 0.1, 0.3, 1, 3, 10]  # uM


def _write(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    rng = np.random.default_rng(5)
    viab = rng.uniform(20, 100, (6, 6))
    viab[0, 0] = 100.0
    blank, vehicle = 50.0, 1050.0
    grid = np.full((8, 12), np.nan)
    lines = ["well,role,drug1,conc1,drug2,conc2,unit"]
    for i in range(6):
        for j in range(6):
            grid[i, j] = blank + viab[i, j] / 100 * (vehicle - blank)
            lines.append(f"{chr(65 + i)}{j + 1},sample,FAKi,{C1[i]},EGFRi,{C2[j] * 1000},nM")
    for j in range(6, 12):
        grid[0, j] = vehicle
        lines.append(f"A{j + 1},vehicle,,,,,")
    for j in range(3):
        grid[7, j] = blank
        lines.append(f"H{j + 1},blank,,,,,")
    rows = ["," + ",".join(str(k) for k in range(1, 13))]
    for r in range(8):
        rows.append(
            chr(65 + r) + "," + ",".join("NA" if np.isnan(v) else repr(float(v)) for v in grid[r])
        )
    plate = tmp_path / "plate.csv"
    plate.write_text("Plate 1\n" + "\n".join(rows) + "\n")
    cmap = tmp_path / "map.csv"
    cmap.write_text("\n".join(lines) + "\n")
    return plate, cmap, viab


def test_plate_checkerboard_roundtrip(tmp_path: Path) -> None:
    plate, cmap, viab = _write(tmp_path)
    blocks, qc = read_checkerboard_plates(plate, cmap)
    assert len(blocks) == 1
    assert len(qc) == 1
    b = blocks[0]
    assert (b.drug1, b.drug2, b.conc_unit) == ("FAKi", "EGFRi", "nM")
    np.testing.assert_allclose(b.conc1, C1)
    np.testing.assert_allclose(b.conc2, np.array(C2) * 1000)
    np.testing.assert_allclose(b.inhibition, 100 - viab, atol=1e-9)


def test_plate_cli(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    plate, cmap, _ = _write(tmp_path)
    res = cli(
        ["synergy", "score", plate, "--map", cmap, "--methods", "bliss,hsa", "--format", "json"]
    )
    assert res.exit_code == 0, res.stderr
    assert '"block_id": "FAKi+EGFRi"' in res.stdout


def test_map_with_bad_unit(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    plate, cmap, _ = _write(tmp_path)
    lines = cmap.read_text().splitlines()
    lines[2] = lines[2].replace(",nM", ",furlong")  # well A2: 0 nM x 100 furlong
    cmap.write_text("\n".join(lines) + "\n")
    res = cli(["synergy", "score", plate, "--map", cmap])
    assert res.exit_code == 2
    assert "map.csv" in res.stderr
    assert "line 3" in res.stderr
    with pytest.raises(UnitError):
        read_checkerboard_plates(plate, cmap)
