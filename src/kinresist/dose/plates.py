"""Plate-reader files: grids (96/384 wells, several plates per file), tidy long tables
and plate maps, read into typed long tables with clear errors.

Grid layout (CSV or XLSX): a header row whose cells are the column numbers
``1..12`` or ``1..24``, then one row per plate row ``A..H`` / ``A..P`` with the
row letter in the first cell. Several such blocks may follow each other; the
nearest non-empty line above a header (e.g. ``Plate 1``) names the plate.
Cells ``NA`` / ``N/A`` / ``NaN`` mean "not measured"; an empty cell or text in a
numeric cell is an error naming the file, line and well.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kinresist.dose.tables import MAX_ABS
from kinresist.dose.units import parse_concentration
from kinresist.errors import InputError, UnitError

__all__ = [
    "PLATE_COLUMNS",
    "PLATE_MAP_COLUMNS",
    "ROLES",
    "PlateFormat",
    "read_plate",
    "read_plate_grid",
    "read_plate_long",
    "read_plate_map",
    "require_dose_series",
    "well_name",
]

ROLES = ("sample", "vehicle", "blank", "positive")
PLATE_COLUMNS = ("plate", "well", "row", "column", "signal")
PLATE_MAP_COLUMNS = ("well", "role", "cell_line", "drug", "dose_nm", "replicate")
_NA = {"na", "n/a", "nan", "#n/a"}
_WELL = re.compile(r"^\s*([A-Pa-p])\s*0*(\d{1,2})\s*$")


@dataclass(frozen=True)
class PlateFormat:
    """A plate geometry."""

    wells: int
    rows: int
    columns: int


FORMATS = {96: PlateFormat(96, 8, 12), 384: PlateFormat(384, 16, 24)}


def well_name(row: int, column: int) -> str:
    """0-based row/column -> ``"A1"``."""
    return f"{chr(ord('A') + row)}{column + 1}"


def parse_well(text: str, *, path: Path | None = None, line: int | None = None) -> tuple[int, int]:
    """``"B07"`` -> (1, 6) (0-based)."""
    m = _WELL.match(str(text))
    if not m:
        msg = f"cannot read well {text!r}; expected a row letter A-P and a column 1-24, e.g. 'B7'"
        raise InputError(msg, path=path, line=line, column="well")
    r, c = ord(m.group(1).upper()) - ord("A"), int(m.group(2)) - 1
    if not 0 <= c < 24:
        msg = f"well {text!r} has column {c + 1}; plates have columns 1-24"
        raise InputError(msg, path=path, line=line, column="well")
    return r, c


def _read_rows(path: Path, sheet: str | int | None = None) -> list[list[str]]:
    """Every row of a plate file as text cells (an unreadable or empty file is an InputError)."""
    from kinresist.dose.tables import _decode, read_frame

    if not path.exists() or path.is_dir():
        read_frame(path)  # the one message for missing files and folders
    raw = path.read_bytes()
    if path.suffix.lower() in (".xlsx", ".xlsm") or raw.startswith(b"PK\x03\x04"):
        frame = read_frame(path, header=None, sheet=sheet)
        return [
            ["" if pd.isna(v) else str(v) for v in row] for row in frame.itertuples(index=False)
        ]
    text = _decode(raw, path)
    if not text.strip():
        msg = "the file is empty; expected a plate grid (header 1-12 or 1-24, rows A-H/A-P) or a long table"
        raise InputError(msg, path=path)
    dialect = csv.excel_tab if text.count("\t") > text.count(",") else csv.excel
    try:
        if text.count(";") > text.count(",") and text.count(";") > text.count("\t"):
            rows = list(csv.reader(text.splitlines(), delimiter=";"))
        else:
            rows = list(csv.reader(text.splitlines(), dialect))
    except csv.Error as exc:
        msg = f"cannot split the file into cells ({exc}); expected a CSV/TSV plate export"
        raise InputError(msg, path=path) from None
    return rows


def _is_header(cells: list[str]) -> int | None:
    """Number of columns if this row is a grid header (1..12 or 1..24), else None."""
    vals = [c.strip() for c in cells]
    while vals and not vals[-1]:
        vals.pop()
    nums = vals[1:] if vals and not vals[0].isdigit() else vals
    try:
        ints = [int(float(v)) for v in nums]
    except (ValueError, OverflowError):  # text, or inf/nan: not a column number
        return None
    if ints in (list(range(1, 13)), list(range(1, 25))):
        return len(ints)
    return None


def read_plate_grid(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read plate grids (96 or 384 wells, one or more blocks) into a long table.

    Returns a DataFrame with :data:`PLATE_COLUMNS` (``signal`` float, NaN where NA).
    """
    path = Path(path)
    rows = _read_rows(path, sheet)
    records: list[tuple[str, str, int, int, float]] = []
    seen_plates: set[str] = set()
    i = 0
    block = 0
    while i < len(rows):
        ncol = _is_header(rows[i])
        if ncol is None:
            i += 1
            continue
        block += 1
        fmt = FORMATS[96 if ncol == 12 else 384]
        label = f"plate{block}"
        for back in range(i - 1, -1, -1):
            text = " ".join(c.strip() for c in rows[back] if c.strip())
            if text:
                if _is_header(rows[back]) is None and not re.match(
                    r"^[A-P]$", rows[back][0].strip()
                ):
                    label = text
                break
        if label in seen_plates:
            msg = f"plate {label!r} appears twice; give each plate block a unique name"
            raise InputError(msg, path=path, line=i + 1)
        seen_plates.add(label)
        header_line = i + 1
        seen_rows: set[int] = set()
        i += 1
        while (
            i < len(rows)
            and rows[i]
            and rows[i][0].strip().upper() in "ABCDEFGHIJKLMNOP"
            and rows[i][0].strip()
        ):
            letter = rows[i][0].strip().upper()
            r = ord(letter) - ord("A")
            if r >= fmt.rows:
                msg = f"row {letter} in a {fmt.wells}-well block (rows A-{chr(64 + fmt.rows)})"
                raise InputError(msg, path=path, line=i + 1)
            if r in seen_rows:
                msg = f"row {letter} appears twice in plate {label!r} (duplicated wells)"
                raise InputError(msg, path=path, line=i + 1)
            seen_rows.add(r)
            cells = rows[i][1 : 1 + fmt.columns]
            if len(cells) < fmt.columns:
                cells = cells + [""] * (fmt.columns - len(cells))
            for c, raw in enumerate(cells):
                wname = well_name(r, c)
                val = raw.strip()
                if not val:
                    msg = (
                        f"well {wname} of plate {label!r} is empty; expected a number "
                        "(write NA for a well that was not measured)"
                    )
                    raise InputError(msg, path=path, line=i + 1, column=wname)
                if val.lower() in _NA:
                    num = np.nan
                else:
                    try:
                        num = (
                            float(val.replace(",", ""))
                            if val.count(",") and "." in val
                            else float(val)
                        )
                    except ValueError:
                        msg = (
                            f"well {wname} of plate {label!r} holds {val!r}, not a number "
                            "(reader overflow 'OVRFLW' or text? fix the cell or write NA)"
                        )
                        raise InputError(msg, path=path, line=i + 1, column=wname) from None
                    if not np.isfinite(num) or abs(num) > MAX_ABS:
                        msg = (
                            f"well {wname} of plate {label!r} holds {val!r}, not a finite "
                            f"number of plausible size (|value| <= {MAX_ABS:g}; reader "
                            "overflow?); fix the cell or write NA"
                        )
                        raise InputError(msg, path=path, line=i + 1, column=wname)
                records.append((label, wname, r, c + 1, num))
            i += 1
        if len(seen_rows) != fmt.rows:
            missing = [chr(65 + r) for r in range(fmt.rows) if r not in seen_rows]
            msg = (
                f"plate {label!r} (header at line {header_line}) is missing rows "
                f"{', '.join(missing)} of a {fmt.wells}-well plate"
            )
            raise InputError(msg, path=path, line=header_line)
    if not records:
        msg = (
            "no plate grid found; expected a header row with column numbers 1-12 (96 wells) "
            "or 1-24 (384 wells) followed by rows A-H / A-P"
        )
        raise InputError(msg, path=path)
    return pd.DataFrame.from_records(records, columns=list(PLATE_COLUMNS))


def read_plate_long(
    path: str | Path,
    *,
    plate_col: str = "plate",
    well_col: str = "well",
    signal_col: str = "signal",
) -> pd.DataFrame:
    """Read a tidy long table (plate, well, signal) with validation."""
    path = Path(path)
    frame = _read_table(path)
    for col in (well_col, signal_col):
        if col not in frame.columns:
            msg = f"no column {col!r}; found {', '.join(map(str, frame.columns))}"
            raise InputError(msg, path=path, column=col)
    plates = (
        frame[plate_col].astype(str)
        if plate_col in frame.columns
        else pd.Series("plate1", index=frame.index)
    )
    rc = [parse_well(w, path=path, line=i + 2) for i, w in enumerate(frame[well_col].astype(str))]
    signal = _numeric(frame[signal_col], path=path, column=signal_col)
    out = pd.DataFrame(
        {
            "plate": plates.to_numpy(),
            "well": [well_name(r, c) for r, c in rc],
            "row": [r for r, _ in rc],
            "column": [c + 1 for _, c in rc],
            "signal": signal,
        }
    )
    dup = out.duplicated(["plate", "well"], keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        msg = f"well {out['well'].iloc[i]} of plate {out['plate'].iloc[i]!r} appears twice (duplicated wells)"
        raise InputError(msg, path=path, line=i + 2, column=well_col)
    return out


def read_plate(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Grid or long table, detected from the content."""
    path = Path(path)
    rows = _read_rows(path, sheet)
    if any(_is_header(r) for r in rows[:200]):
        return read_plate_grid(path, sheet=sheet)
    return read_plate_long(path)


def _read_table(path: Path) -> pd.DataFrame:
    from kinresist.dose.tables import read_frame

    return read_frame(path)


def _numeric(col: pd.Series, *, path: Path, column: str) -> np.ndarray:
    """Numbers of a long table's column: ``NA`` -> NaN (not measured), an empty cell, text or a
    non-finite value is an InputError naming the line."""
    from kinresist.dose.tables import finite_column

    for i, v in enumerate(col.tolist()):
        if v is None or (not isinstance(v, float) and str(v).strip() == ""):
            msg = f"empty value in column {column!r}; expected a number (write NA if not measured)"
            raise InputError(msg, path=path, line=i + 2, column=column)
    return finite_column(col, path=path, name=column)


def read_plate_map(path: str | Path) -> pd.DataFrame:
    """Read a plate map: ``well``, ``role`` (sample/vehicle/blank/positive), ``cell_line``,
    ``drug``, ``concentration`` (with ``unit`` column or inline ``"10 uM"``),
    ``replicate`` and optionally ``plate`` (maps without it apply to every plate).

    Returns a DataFrame with ``plate`` (or None), :data:`PLATE_MAP_COLUMNS`; doses in nM.
    """
    path = Path(path)
    frame = _read_table(path)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    dup = frame.columns[frame.columns.duplicated()]
    if len(dup):
        msg = f"column {dup[0]!r} appears twice in the plate map (names are case-insensitive)"
        raise InputError(msg, path=path, column=dup[0])
    if "well" not in frame.columns:
        msg = f"plate map needs a 'well' column; found {', '.join(frame.columns)}"
        raise InputError(msg, path=path)
    roles = (
        frame.get("role", pd.Series("sample", index=frame.index))
        .astype(str)
        .str.strip()
        .str.lower()
    )
    roles = roles.replace(
        {
            "control": "vehicle",
            "dmso": "vehicle",
            "neg": "vehicle",
            "pos": "positive",
            "kill": "positive",
            "empty": "blank",
            "": "sample",
        }
    )
    bad = ~roles.isin(ROLES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        msg = f"role {roles.iloc[i]!r} is not one of {', '.join(ROLES)}"
        raise InputError(msg, path=path, line=i + 2, column="role")
    doses = np.full(len(frame), np.nan)
    conc_col = next((c for c in ("concentration", "conc", "dose") if c in frame.columns), None)
    for i in range(len(frame)):
        role = roles.iloc[i]
        raw = "" if conc_col is None else str(frame[conc_col].iloc[i]).strip()
        if role == "vehicle" and raw in ("", "0", "0.0", "nan"):
            doses[i] = 0.0
            continue
        if role in ("blank", "positive") and raw in ("", "nan"):
            continue
        if role == "sample" and raw in ("", "nan"):
            msg = "sample well without a concentration; expected e.g. '10 uM' or a number with a 'unit' column"
            raise InputError(msg, path=path, line=i + 2, column=conc_col or "concentration")
        unit = str(frame["unit"].iloc[i]).strip() if "unit" in frame.columns else None
        try:
            doses[i] = parse_concentration(
                raw, default_unit=unit or None, where=f"{path} line {i + 2}"
            )
        except UnitError as exc:
            raise UnitError(
                exc.detail, path=path, line=i + 2, column="unit" if unit else conc_col
            ) from None
        if not np.isfinite(doses[i]) or doses[i] > MAX_ABS:
            msg = f"concentration {raw!r} is not a finite number of plausible size (<= {MAX_ABS:g} nM)"
            raise InputError(msg, path=path, line=i + 2, column=conc_col)
    wells = [
        well_name(*parse_well(w, path=path, line=i + 2))
        for i, w in enumerate(frame["well"].astype(str))
    ]
    out = pd.DataFrame(
        {
            "plate": frame["plate"].astype(str).to_numpy() if "plate" in frame.columns else None,
            "well": wells,
            "role": roles.to_numpy(),
            "cell_line": frame.get("cell_line", pd.Series("", index=frame.index))
            .astype(str)
            .to_numpy(),
            "drug": frame.get("drug", pd.Series("", index=frame.index)).astype(str).to_numpy(),
            "dose_nm": doses,
            "replicate": frame.get("replicate", pd.Series("1", index=frame.index))
            .astype(str)
            .to_numpy(),
        }
    )
    key = ["plate", "well"] if "plate" in frame.columns else ["well"]
    dup = out.duplicated(key)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        msg = f"well {out['well'].iloc[i]} appears twice in the plate map (duplicated wells)"
        raise InputError(msg, path=path, line=i + 2, column="well")
    return out


def require_dose_series(plate_map: pd.DataFrame, *, path: str | Path | None = None) -> None:
    """Refuse a map with no sample wells, or a (cell line, drug) with fewer than two distinct
    positive doses: no dose-response curve can be fitted to it (``kinresist dose plate``)."""
    samples = plate_map[plate_map["role"] == "sample"]
    if samples.empty:
        msg = (
            "the plate map has no sample wells (role 'sample' with a concentration); nothing to fit"
        )
        raise InputError(msg, path=path, column="role")
    for (line, drug), part in samples.groupby(["cell_line", "drug"], sort=False):
        positive = np.unique(part["dose_nm"].to_numpy()[part["dose_nm"].to_numpy() > 0])
        if positive.size < 2:
            shown = ", ".join(f"{d:g} nM" for d in positive) or "none"
            msg = (
                f"cell line {line!r} x drug {drug!r} has {positive.size} distinct positive "
                f"concentration(s) ({shown}); a dose-response curve needs at least two distinct "
                "positive doses"
            )
            raise InputError(msg, path=path, column="concentration")
