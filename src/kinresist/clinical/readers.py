"""Patient-level tables (CSV, TSV, XLSX) -> validated columns.

One row per patient; column names are matched case-insensitively. Every problem is reported with
the file, the line (the spreadsheet row for XLSX; the header is line 1) and the column:

* a missing column (the message lists the columns found),
* a missing, non-numeric, non-finite or negative follow-up time,
* an event value other than 0/1 or TRUE/FALSE (R's 1/2 status coding is called out),
* a missing group label or a group with a single patient (usually a misspelt label),
* an unknown best-response category, a duplicated patient id.

Lines starting with ``#`` before the header (kinresist's own TSV envelope) are skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from kinresist.clinical._validate import Where, as_events, as_groups, as_times
from kinresist.clinical.response import normalise_response
from kinresist.errors import InputError

__all__ = ["PatientTable", "patient_table", "read_patient_table"]

_EXCEL = {".xlsx", ".xlsm"}


@dataclass(frozen=True, eq=False)
class PatientTable:
    """A patient-level table with the file line of every row, for precise error messages."""

    frame: pd.DataFrame
    path: str | None
    lines: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def has(self, name: str | None) -> bool:
        return name is not None and self._match(name) is not None

    def _match(self, name: str) -> str | None:
        want = name.strip().lower()
        for c in self.columns:
            if c.strip().lower() == want:
                return c
        return None

    def column(self, name: str, *, role: str = "") -> str:
        """The file's spelling of column ``name``; InputError naming the columns found if absent."""
        found = self._match(name)
        if found is None:
            what = f" ({role})" if role else ""
            msg = (
                f"no column {name!r}{what}; columns found: {self.columns} - check the spelling or "
                "pass the right column name"
            )
            raise InputError(msg, path=self.path, line=1, column=name)
        return found

    def where(self, name: str) -> Where:
        return Where(self.column(name), self.path, [int(v) for v in self.lines])

    def values(self, name: str, *, role: str = "") -> list[Any]:
        return list(self.frame[self.column(name, role=role)])

    def times(self, name: str) -> npt.NDArray[np.float64]:
        return as_times(self.values(name, role="time"), self.where(name))

    def events(self, name: str) -> npt.NDArray[np.int64]:
        return as_events(self.values(name, role="event"), self.where(name))

    def groups(self, name: str, *, min_size: int = 2) -> npt.NDArray[np.str_]:
        return as_groups(self.values(name, role="group"), self.where(name), min_size=min_size)

    def labels(self, name: str, *, unique: bool = False) -> list[str]:
        """Text labels (patient ids): present, and unique when asked."""
        where = self.where(name)
        out: list[str] = []
        seen: dict[str, int] = {}
        for i, v in enumerate(self.values(name)):
            text = "" if _blank(v) else str(v).strip()
            if not text:
                msg = "missing value"
                raise where.error(msg, i)
            if unique and text in seen:
                msg = f"patient {text!r} appears twice (also {where.describe(seen[text])}); one row per patient"
                raise where.error(msg, i)
            seen.setdefault(text, i)
            out.append(text)
        return out

    def responses(self, name: str, *, blank: str | None = None) -> list[str | None]:
        """Best-response codes; blank cells are an error, or None when ``blank="absent"``."""
        where = self.where(name)
        out: list[str | None] = []
        for i, v in enumerate(self.values(name, role="best response")):
            if _blank(v):
                if blank == "absent":
                    out.append(None)
                    continue
                msg = "missing best response; use NE for a patient who was not evaluable"
                raise where.error(msg, i)
            out.append(normalise_response(v, where, i))
        return out

    def subset(self, mask: npt.NDArray[np.bool_] | Sequence[bool]) -> PatientTable:
        m = np.asarray(mask, dtype=bool)
        return PatientTable(self.frame.loc[m].reset_index(drop=True), self.path, self.lines[m])


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and v != v:
        return True
    return isinstance(v, str) and v.strip() in ("", "NA", "N/A", "NaN", "nan")


def patient_table(frame: pd.DataFrame, *, path: str | None = None) -> PatientTable:
    """Wrap an in-memory frame (lines numbered as a file with a header: first row = line 2)."""
    lines = np.arange(2, len(frame) + 2, dtype=np.int64)
    return PatientTable(frame.reset_index(drop=True), path, lines)


def _read_text(path: Path) -> PatientTable:
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    raw_lines = text.splitlines()
    start = 0
    while start < len(raw_lines) and (
        not raw_lines[start].strip() or raw_lines[start].lstrip().startswith("#")
    ):
        start += 1
    if start >= len(raw_lines):
        msg = "the file is empty: expected a header row and one row per patient"
        raise InputError(msg, path=path)
    header_line = raw_lines[start]
    if suffix == ".csv":
        sep = ","
    elif suffix in (".tsv", ".tab"):
        sep = "\t"
    else:
        sep = "\t" if header_line.count("\t") >= header_line.count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(raw_lines[start:])), delimiter=sep)
    rows: list[list[str]] = []
    lines: list[int] = []
    header: list[str] | None = None
    prev = 0
    for rec in reader:
        line = start + prev + 1
        prev = reader.line_num
        if header is None:
            header = [h.strip() for h in rec]
            dup = sorted({h for h in header if header.count(h) > 1 and h})
            if dup:
                msg = f"duplicated column names {dup}; every column needs its own name"
                raise InputError(msg, path=path, line=line)
            continue
        if not any(c.strip() for c in rec):
            continue
        if len(rec) != len(header):
            msg = (
                f"{len(rec)} fields where the header has {len(header)}; check the delimiter "
                f"({'tab' if sep == chr(9) else 'comma'}) and quoting"
            )
            raise InputError(msg, path=path, line=line)
        rows.append(rec)
        lines.append(line)
    assert header is not None
    if not rows:
        msg = "no patient rows below the header"
        raise InputError(msg, path=path)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return PatientTable(frame, str(path), np.asarray(lines, dtype=np.int64))


def _read_excel(path: Path, sheet: str | int | None) -> PatientTable:
    try:
        frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object)
    except ValueError as exc:  # unknown sheet
        msg = f"cannot read sheet {sheet!r}: {exc}"
        raise InputError(msg, path=path) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    lines = np.arange(2, len(frame) + 2, dtype=np.int64)
    keep = ~frame.isna().all(axis=1).to_numpy()
    frame = frame.loc[keep].reset_index(drop=True)
    if frame.empty:
        msg = "no patient rows below the header"
        raise InputError(msg, path=path)
    return PatientTable(frame, str(path), lines[keep])


def read_patient_table(
    path: str | PathLike[str], *, sheet: str | int | None = None
) -> PatientTable:
    """Read a patient-level CSV/TSV (delimiter from the suffix or the header) or XLSX sheet."""
    p = Path(path)
    if p.suffix.lower() in _EXCEL:
        return _read_excel(p, sheet)
    if p.suffix.lower() == ".xls":
        msg = "legacy .xls workbooks are not read; save the sheet as .xlsx or CSV"
        raise InputError(msg, path=p)
    return _read_text(p)
