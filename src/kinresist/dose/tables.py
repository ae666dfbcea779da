"""Read a whole table file (CSV, TSV, XLSX, Parquet) with errors that name the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kinresist.errors import InputError

__all__ = ["read_table", "require_columns"]


def read_table(path: str | Path) -> pd.DataFrame:
    """The table in ``path`` (format by suffix); an empty or unreadable file is an InputError."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            sep = "\t" if suffix in (".tsv", ".txt") else ","
            frame = pd.read_csv(path, sep=sep)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError, OSError) as exc:
        msg = (
            f"cannot read the table ({' '.join(str(exc).split())}); expected a CSV, TSV, XLSX "
            "or Parquet file with a header row"
        )
        raise InputError(msg, path=path) from exc
    if frame.empty:
        msg = "the table has no data rows; expected a header row and at least one row"
        raise InputError(msg, path=path)
    return frame


def require_columns(frame: pd.DataFrame, columns: list[str], *, path: str | Path) -> None:
    """Refuse a table that lacks a named column, listing the columns it has."""
    for col in columns:
        if col not in frame.columns:
            msg = f"no column {col!r}; found {', '.join(map(str, frame.columns))}"
            raise InputError(msg, path=path, column=col)
