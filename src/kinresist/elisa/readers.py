"""ELISA inputs -> one validated long table (:class:`ElisaData`).

Two layouts are read:

* **long table** (CSV/TSV/XLSX), one row per well: ``sample`` and ``signal`` (aliases: name/id;
  od/absorbance/value), optional ``well``, ``analyte``, ``type`` (standard, blank, unknown, qc),
  ``concentration`` (nominal, for standards and QC), ``dilution`` (default 1), ``subject``;
* **plate grid** (rows A-H x columns 1-12, a header row of column numbers) plus a ``layout`` grid
  of the same shape naming each well's sample (empty = unused well).

Standards' nominal concentrations come from the table's ``concentration`` column or from
``standards``: a table (sample, concentration[, analyte]) or inline text ``"S1=1000,S2=500"``.
Wells named ``blank``/``zero``/``buffer`` (or type ``blank``) are blanks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.tme.io import read_table

__all__ = ["TYPES", "ElisaData", "parse_standards", "read_elisa"]

TYPES = ("standard", "blank", "unknown", "qc")
_ALIASES = {
    "sample": ("sample", "name", "id", "sample_id", "label"),
    "signal": ("signal", "od", "absorbance", "value", "response", "od450"),
    "concentration": ("concentration", "conc", "nominal", "expected"),
    "dilution": ("dilution", "dilution_factor", "df"),
}
_BLANK_NAMES = re.compile(r"^(blank|blk|zero|buffer|background)\s*\d*$", re.IGNORECASE)


@dataclass(frozen=True)
class ElisaData:
    """Wells: analyte, well, sample, type, signal, concentration (nominal), dilution, subject."""

    wells: pd.DataFrame
    source: str = ""

    _required = ("analyte", "well", "sample", "type", "signal", "concentration", "dilution")

    def __post_init__(self) -> None:
        missing = [c for c in self._required if c not in self.wells.columns]
        if missing:
            msg = f"ElisaData needs columns {missing}"
            raise InputError(msg)
        bad = sorted(set(self.wells["type"]) - set(TYPES))
        if bad:
            msg = f"unknown well type(s) {bad}; expected {', '.join(TYPES)}"
            raise InputError(msg)


def _rename(frame: pd.DataFrame) -> pd.DataFrame:
    lower = {c.lower().strip().replace(" ", "_"): c for c in frame.columns}
    mapping = {}
    for canon, names in _ALIASES.items():
        for n in names:
            if n in lower:
                mapping[lower[n]] = canon
                break
    for extra in ("well", "analyte", "type", "subject"):
        if extra in lower:
            mapping[lower[extra]] = extra
    return frame.rename(columns=mapping)


def parse_standards(spec: str | PathLike[str] | Mapping[str, float] | None) -> pd.DataFrame:
    """Standards as (analyte or None, sample, concentration) rows."""
    if spec is None:
        return pd.DataFrame(columns=["analyte", "sample", "concentration"])
    if isinstance(spec, Mapping):
        items = [(None, str(k), float(v)) for k, v in spec.items()]
        return pd.DataFrame(items, columns=["analyte", "sample", "concentration"])
    text = str(spec)
    if "=" in text and not Path(text).is_file():
        rows = []
        for part in text.split(","):
            name, _, value = part.partition("=")
            try:
                rows.append((None, name.strip(), float(value)))
            except ValueError as exc:
                msg = f"--standards entry {part!r} is not NAME=CONCENTRATION"
                raise InputError(msg) from exc
        return pd.DataFrame(rows, columns=["analyte", "sample", "concentration"])
    frame = _rename(read_table(text))
    if not {"sample", "concentration"} <= set(frame.columns):
        msg = f"a standards table needs columns sample, concentration; got {list(frame.columns)}"
        raise InputError(msg, path=text)
    if "analyte" not in frame.columns:
        frame["analyte"] = None
    return frame[["analyte", "sample", "concentration"]]


def _is_grid(frame: pd.DataFrame) -> bool:
    cols = [str(c).strip() for c in frame.columns[1:]]
    first = frame.iloc[:, 0].astype(str).str.strip().str.upper()
    return bool(cols) and all(c.isdigit() for c in cols) and first.str.fullmatch(r"[A-P]").all()


def _grid_to_long(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    rows = frame.iloc[:, 0].astype(str).str.strip().str.upper()
    out = []
    for r, (_, row) in zip(rows, frame.iterrows(), strict=True):
        for c in frame.columns[1:]:
            out.append({"well": f"{r}{int(str(c).strip())}", value: row[c]})
    return pd.DataFrame(out)


def _numeric(frame: pd.DataFrame, column: str, path: str) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = frame[column].notna() & values.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        msg = f"{column} {frame[column].iloc[i]!r} is not a number"
        raise InputError(msg, path=path, line=i + 2, column=column)
    return values


def read_elisa(
    path: str | PathLike[str],
    *,
    standards: str | PathLike[str] | Mapping[str, float] | None = None,
    layout: str | PathLike[str] | None = None,
    analyte: str | None = None,
) -> ElisaData:
    """Read a long table or a plate grid (+ ``layout``) into :class:`ElisaData`."""
    p = str(path)
    frame = read_table(path)
    if _is_grid(frame):
        if layout is None:
            msg = "this is a plate grid (rows A-H, columns 1-12); pass --layout naming each well"
            raise InputError(msg, path=p)
        signals = _grid_to_long(frame, "signal")
        names = _grid_to_long(read_table(layout), "sample")
        frame = signals.merge(names, on="well", how="inner")
        frame = frame[frame["sample"].notna() & (frame["sample"].astype(str).str.strip() != "")]
    else:
        frame = _rename(frame)
    for col in ("sample", "signal"):
        if col not in frame.columns:
            msg = (
                f"missing column {col!r}; got {list(frame.columns)}; a long ELISA table needs "
                "sample and signal (OD) per well, optionally well, analyte, type, "
                "concentration, dilution, subject"
            )
            raise InputError(msg, path=p)
    frame = frame.copy()
    frame["sample"] = frame["sample"].astype(str).str.strip()
    frame["signal"] = _numeric(frame, "signal", p)
    if frame["signal"].isna().any():
        i = int(np.flatnonzero(frame["signal"].isna().to_numpy())[0])
        msg = "empty signal; remove the row or fill it in"
        raise InputError(msg, path=p, line=i + 2, column="signal")
    if "well" not in frame.columns:
        frame["well"] = [f"row{i + 1}" for i in range(len(frame))]
    if "analyte" not in frame.columns:
        frame["analyte"] = analyte or "analyte"
    frame["analyte"] = frame["analyte"].fillna(analyte or "analyte").astype(str)
    frame["dilution"] = (
        _numeric(frame, "dilution", p).fillna(1.0) if "dilution" in frame.columns else 1.0
    )
    if (frame["dilution"] <= 0).any():
        msg = "dilution factors must be > 0 (1 = undiluted, 10 = 1:10)"
        raise InputError(msg, path=p, column="dilution")
    frame["concentration"] = (
        _numeric(frame, "concentration", p) if "concentration" in frame.columns else np.nan
    )
    std = parse_standards(standards)
    for row in std.itertuples(index=False):
        hit = frame["sample"] == row.sample
        if row.analyte is not None and not pd.isna(row.analyte):
            hit &= frame["analyte"] == str(row.analyte)
        if not hit.any():
            msg = f"standard {row.sample!r} is not a sample of the plate"
            raise InputError(msg, path=p)
        frame.loc[hit, "concentration"] = float(row.concentration)
        frame.loc[hit, "type"] = "standard"
    if "type" not in frame.columns:
        frame["type"] = None
    typ = frame["type"].astype("string").str.strip().str.lower()
    typ = typ.replace({"std": "standard", "standards": "standard", "sample": "unknown"})
    is_blank = frame["sample"].str.fullmatch(_BLANK_NAMES.pattern, case=False).fillna(False)
    typ = typ.mask(typ.isna() & is_blank, "blank")
    typ = typ.mask(typ.isna() & frame["concentration"].notna(), "standard").fillna("unknown")
    frame["type"] = typ.astype(str)
    if "subject" not in frame.columns:
        frame["subject"] = None
    std_rows = frame["type"] == "standard"
    if std_rows.any() and frame.loc[std_rows, "concentration"].isna().any():
        names = sorted(set(frame.loc[std_rows & frame["concentration"].isna(), "sample"]))
        msg = f"standards {names} have no nominal concentration; give --standards NAME=CONC"
        raise InputError(msg, path=p)
    if (frame.loc[std_rows, "concentration"] < 0).any():
        msg = "standard concentrations must be >= 0"
        raise InputError(msg, path=p, column="concentration")
    cols = ["analyte", "well", "sample", "type", "signal", "concentration", "dilution", "subject"]
    return ElisaData(frame[cols].reset_index(drop=True), source=Path(p).name)
