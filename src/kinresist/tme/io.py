"""Tables at the edge of the TME workflows: CSV, TSV or Excel -> DataFrame, errors with the file."""

from __future__ import annotations

import csv
import zipfile
from os import PathLike
from pathlib import Path

import pandas as pd

from kinresist.errors import InputError

__all__ = ["read_table"]


def read_table(path: str | PathLike[str], *, sheet: str | int = 0) -> pd.DataFrame:
    """Read a CSV/TSV/TXT (delimiter sniffed) or XLSX table; column names are stripped."""
    p = Path(path)
    if not p.is_file():
        msg = "file not found"
        raise InputError(msg, path=p)
    suffix = p.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pd.read_excel(p, sheet_name=sheet)
        else:
            frame = pd.read_csv(p, sep=None, engine="python", comment="#")
    except (
        ValueError,
        pd.errors.ParserError,
        UnicodeDecodeError,
        OSError,
        csv.Error,
        zipfile.BadZipFile,
    ) as exc:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, csv.Error) and p.stat().st_size == 0:
            reason = "the file is empty"
        msg = f"cannot read the table ({reason}); expected CSV, TSV or XLSX with a header row"
        raise InputError(msg, path=p) from exc
    if frame.empty:
        msg = "the table has no rows"
        raise InputError(msg, path=p)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
