"""Checkerboards on plates: plate-reader file + checkerboard plate map -> blocks.

The plate file is read by the dose-response reader (:func:`kinresist.dose.plates.read_plate`:
grids of 96/384 wells, several plates per file, or tidy long tables) and normalised
per plate to % of vehicle with its QC (:func:`kinresist.dose.normalise.normalise_plates`:
blank subtraction, Z', CVs, edge effect).

The checkerboard map (CSV/TSV/XLSX) has one row per used well:

=============  ==============================================================
column         meaning
=============  ==============================================================
``well``       ``A1`` … ``P24``
``role``       ``sample`` (default), ``vehicle``, ``blank``, ``positive``
``block_id``   checkerboard the well belongs to (default ``drug1+drug2``)
``drug1``      row drug name; ``conc1`` its concentration
``drug2``      column drug name; ``conc2`` its concentration
``unit``       unit of bare numbers (``nM``, ``uM``…); or inline ``"10 uM"``
``plate``      optional: plate name (maps without it apply to every plate)
``replicate``  optional
=============  ==============================================================

A block without its own (0, 0) sample wells gets the plate's vehicle wells as its
(0, 0) cell. Concentrations are converted to nM.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kinresist.errors import InputError, UnitError, about_file
from kinresist.synergy.block import Block
from kinresist.synergy.io import blocks_from_frame

__all__ = ["read_checkerboard_map", "read_checkerboard_plates"]


def _table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(2, "no such file (check the path)", str(path))
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            return pd.read_excel(path, dtype=str)
        sep = "\t" if path.suffix.lower() in (".tsv", ".txt", ".tab") else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        msg = "the map is empty; expected a header row (well, role, drug1, conc1, drug2, conc2)"
        raise InputError(msg, path=path) from exc
    except (
        ValueError,
        pd.errors.ParserError,
        UnicodeDecodeError,
        zipfile.BadZipFile,
        OSError,
        EOFError,
        zlib.error,
    ) as exc:  # OSError: e.g. a file named .gz that is not gzip-compressed
        kind = "an Excel workbook" if path.suffix.lower() in (".xlsx", ".xls") else "CSV/TSV"
        msg = f"cannot read the map as {kind} ({exc}); save it as .csv or a real .xlsx workbook"
        raise InputError(msg, path=path) from exc


def read_checkerboard_map(path: str | Path) -> pd.DataFrame:
    """Read a checkerboard plate map (see module docstring); doses in nM."""
    from kinresist.dose.plates import parse_well, well_name
    from kinresist.dose.units import parse_concentration

    p = Path(path)
    frame = _table(p)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if frame.empty:
        msg = "the checkerboard map has a header but no wells; add one row per mapped well"
        raise InputError(msg, path=p)
    for col in ("well",):
        if col not in frame.columns:
            msg = (
                f"checkerboard map needs columns well, role, drug1, conc1, drug2, conc2; "
                f"found {', '.join(frame.columns)}"
            )
            raise InputError(
                msg,
                path=p,
            )
    role = (
        frame.get("role", pd.Series("sample", index=frame.index))
        .astype(str)
        .str.strip()
        .str.lower()
    )
    role = role.replace({"": "sample", "control": "vehicle", "dmso": "vehicle", "kill": "positive"})
    rows: list[dict[str, Any]] = []
    for i in range(len(frame)):
        line = i + 2
        r = role.iloc[i]
        if r not in ("sample", "vehicle", "blank", "positive"):
            msg = f"role {r!r} is not one of sample, vehicle, blank, positive"
            raise InputError(
                msg,
                path=p,
                line=line,
                column="role",
            )
        rec: dict[str, Any] = {
            "well": well_name(*parse_well(frame["well"].iloc[i], path=p, line=line)),
            "role": r,
            "plate": str(frame["plate"].iloc[i]) if "plate" in frame.columns else None,
            "replicate": str(frame["replicate"].iloc[i]) if "replicate" in frame.columns else "1",
        }
        if r == "sample":
            for k in ("drug1", "conc1", "drug2", "conc2"):
                if k not in frame.columns:
                    msg = f"sample wells need a {k!r} column"
                    raise InputError(msg, path=p)
            unit = str(frame["unit"].iloc[i]).strip() if "unit" in frame.columns else ""
            for k in ("conc1", "conc2"):
                raw = str(frame[k].iloc[i]).strip()
                try:
                    val = float(raw)
                    rec[k] = (
                        0.0
                        if val == 0
                        else parse_concentration(
                            val,  # type: ignore[arg-type]  # numbers are accepted with a unit
                            default_unit=unit or None,
                            where=f"{p} line {line}",
                        )
                    )
                except ValueError:
                    try:
                        rec[k] = parse_concentration(raw, where=f"{p} line {line}")
                    except UnitError as exc:
                        raise UnitError(exc.detail, path=p, line=line, column=k) from None
                except UnitError as exc:
                    raise UnitError(exc.detail, path=p, line=line, column=k) from None
            rec["drug1"] = str(frame["drug1"].iloc[i]).strip()
            rec["drug2"] = str(frame["drug2"].iloc[i]).strip()
            bid = str(frame["block_id"].iloc[i]).strip() if "block_id" in frame.columns else ""
            rec["block_id"] = bid or f"{rec['drug1']}+{rec['drug2']}"
        rows.append(rec)
    return pd.DataFrame(rows)


def read_checkerboard_plates(
    plate_path: str | Path, map_path: str | Path, *, kill_as_zero: bool = False
) -> tuple[list[Block], list[Any]]:
    """Blocks (viability normalised to vehicle, as % inhibition) and per-plate QC."""
    from kinresist.dose.normalise import combine_plate_and_map, normalise_plates
    from kinresist.dose.plates import read_plate

    plate = read_plate(plate_path)
    cmap = read_checkerboard_map(map_path)
    cmap = cmap.assign(
        cell_line="",
        drug=cmap.get("drug1", pd.Series("", index=cmap.index)).fillna(""),
        dose_nm=cmap.get("conc1", pd.Series(0.0, index=cmap.index)).fillna(0.0).astype(float)
        + cmap.get("conc2", pd.Series(0.0, index=cmap.index)).fillna(0.0).astype(float),
    )
    merged = combine_plate_and_map(plate, cmap)
    # the map says which wells are vehicle/blank, the plate what they read: name both
    with about_file(map_path, after=f" (plate file: {Path(plate_path).name})"):
        table, qc = normalise_plates(merged, kill_as_zero=kill_as_zero)
    samples = table[table["role"] == "sample"]
    if samples.empty:
        msg = "the checkerboard map has no sample wells"
        raise InputError(msg, path=map_path)
    parts = [samples]
    for (plate_name, bid), grp in samples.groupby(["plate", "block_id"], sort=False):
        has_00 = ((grp["conc1"] == 0) & (grp["conc2"] == 0)).any()
        if not has_00:
            veh = table[(table["plate"] == plate_name) & (table["role"] == "vehicle")]
            if veh.empty:
                msg = (
                    f"block {bid!r} on plate {plate_name!r} has no (0, 0) wells and the plate "
                    "no vehicle wells"
                )
                raise InputError(
                    msg,
                    path=map_path,
                )
            parts.append(
                veh.assign(
                    block_id=str(bid),
                    drug1=grp["drug1"].iloc[0],
                    drug2=grp["drug2"].iloc[0],
                    conc1=0.0,
                    conc2=0.0,
                )
            )
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[np.isfinite(frame["response"].to_numpy(float))]
    long = frame[["block_id", "drug1", "drug2", "conc1", "conc2", "response"]].assign(
        conc_unit="nM"
    )
    return blocks_from_frame(long, response="viability", path=Path(map_path)), qc
