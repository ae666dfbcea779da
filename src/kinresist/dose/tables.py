"""Read a whole table file (CSV, TSV, XLSX, Parquet) with errors that name the file and the fix.

:func:`read_frame` is the one entry of every dose-response table reader (dose tables, plate
maps, long plate tables, standard curves, GR tables). Whatever the file holds, the result is a
DataFrame with a unique header and at least one data row, or an
:class:`~kinresist.errors.InputError` naming the file (and the line where known):

* a missing file, a folder, an empty file, a header without data rows;
* a file named ``.xlsx`` that is not a workbook (or a damaged one), a damaged Parquet file;
* bytes that are not UTF-8 (line and byte named), a gzip file (decompressed when intact);
* rows with more or fewer cells than the header (a file cut inside its last row),
  duplicated column names.

Text tables: the delimiter is the header's (tab, comma or semicolon; the suffix breaks ties).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from kinresist.errors import InputError

__all__ = [
    "MAX_ABS",
    "finite_column",
    "read_frame",
    "read_gr_table",
    "read_table",
    "require_columns",
]

_XLSX = (".xlsx", ".xlsm")
#: Largest magnitude accepted for a dose, response or signal: beyond it a value is an overflow or
#: a unit error (no plate reader counts 1e15, no dose is 1e15 of any unit), and the statistics
#: downstream would overflow instead of answering.
MAX_ABS = 1e15
_NA_TEXT = {"", "na", "nan", "n/a", "#n/a", "null", "none"}


def _decode(raw: bytes, path: Path) -> str:
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            msg = f"gzip file that cannot be decompressed ({exc}); the file is truncated or damaged"
            raise InputError(msg, path=path) from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        msg = "UTF-16 text; expected UTF-8 (save as 'CSV UTF-8' or convert with iconv -f utf-16 -t utf-8)"
        raise InputError(msg, path=path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.start + 1]
        msg = (
            f"byte {bad!r} is not valid UTF-8; expected UTF-8 text (re-save as 'CSV UTF-8', or "
            "convert, e.g. iconv -f latin1 -t utf-8)"
        )
        raise InputError(msg, path=path, line=line) from None


def _delimiter(header: str, suffix: str) -> str:
    counts = {d: header.count(d) for d in ("\t", ",", ";")}
    best = max(counts.values())
    if best == 0:
        return "\t" if suffix in (".tsv", ".txt", ".tab") else ","
    tied = [d for d, n in counts.items() if n == best]
    if len(tied) > 1:
        return "\t" if "\t" in tied and suffix in (".tsv", ".txt", ".tab") else tied[0]
    return tied[0]


def _read_excel(
    path: Path, raw: bytes, *, header: int | None, sheet: str | int | None
) -> pd.DataFrame:
    if not raw.startswith(b"PK\x03\x04"):
        start = raw[:8]
        msg = (
            f"named {path.suffix} but is not an Excel workbook (it starts with {start!r}); save it "
            "from the spreadsheet as .xlsx, or give a CSV/TSV file its own suffix"
        )
        raise InputError(msg, path=path)
    try:
        return pd.read_excel(
            io.BytesIO(raw), sheet_name=0 if sheet is None else sheet, header=header, dtype=object
        )
    except ValueError as exc:
        if "Worksheet" in str(exc) or "not found" in str(exc):
            msg = f"no sheet {sheet!r} in the workbook ({exc})"
            raise InputError(msg, path=path) from None
        msg = f"damaged or unsupported Excel workbook ({' '.join(str(exc).split())[:200]}); re-save it as .xlsx"
        raise InputError(msg, path=path) from None
    except Exception as exc:  # noqa: BLE001 - openpyxl/zipfile raise a zoo of types on damaged files
        msg = (
            f"damaged Excel workbook ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); "
            "re-save it as .xlsx or export a CSV"
        )
        raise InputError(msg, path=path) from None


def _read_parquet(path: Path, raw: bytes) -> pd.DataFrame:
    if not (raw.startswith(b"PAR1") and raw.endswith(b"PAR1")):
        msg = "named .parquet but is not a complete Parquet file; write it again or give a CSV"
        raise InputError(msg, path=path)
    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid/OSError/... on damage
        msg = f"damaged Parquet file ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        raise InputError(msg, path=path) from None


def _read_text(path: Path, raw: bytes, *, header: int | None, typed: bool) -> pd.DataFrame:
    text = _decode(raw, path)
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        msg = "the file is empty; expected a table with a header row"
        raise InputError(msg, path=path)
    sep = _delimiter(lines[first], path.suffix.lower())
    if header is not None:
        names = next(csv.reader([lines[first]], delimiter=sep))
        seen: set[str] = set()
        for name in names:
            key = name.strip()
            if key and key in seen:
                msg = f"column {key!r} appears twice in the header; give every column one name"
                raise InputError(msg, path=path, line=first + 1, column=key)
            seen.add(key)
    kw: dict[str, object] = {} if typed else {"dtype": object, "keep_default_na": False}
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=header,
            skip_blank_lines=True,
            **kw,  # type: ignore[call-overload]
        )
    except pd.errors.EmptyDataError:
        msg = "no header row; expected a table with a header row"
        raise InputError(msg, path=path) from None
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        detail = " ".join(str(exc).split())
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
        if m:
            msg = (
                f"{m.group(3)} cells where the header has {m.group(1)}; every row needs one value "
                f"per column separated by {sep!r} (a decimal comma or a stray delimiter?)"
            )
            raise InputError(msg, path=path, line=int(m.group(2))) from None
        msg = f"cannot parse the table ({detail[:200]}); expected {sep!r}-separated columns"
        raise InputError(msg, path=path) from None
    if header is not None:
        _refuse_short_rows(path, text, sep)
    return frame


def _refuse_short_rows(path: Path, text: str, sep: str) -> None:
    """InputError at the first data row with fewer cells than the header.

    pandas fills such a row with empty values, exactly as if its last cells were empty, so a
    file cut inside its last row would be read as complete. Trailing unnamed header cells
    (a delimiter after the last name) are not required; blank lines are skipped, as pandas
    skips them."""
    try:
        cells, rows = _cell_counts(text, sep)
        while len(cells) > 1 and not cells[-1]:
            cells.pop()
        need = len(cells)
        short = next(((line, n) for line, n in rows if n < need), None)
    except (csv.Error, StopIteration):
        return  # what pandas read and the csv module cannot (a cell over its size limit)
    if short is not None:
        line, n = short
        msg = (
            f"{n} cell{'s' if n != 1 else ''} where the header has {need}; every row needs one "
            f"value per column separated by {sep!r}, empty cells included (was the file cut "
            "short?)"
        )
        raise InputError(msg, path=path, line=line)


def _cell_counts(text: str, sep: str) -> tuple[list[str], Iterator[tuple[int, int]]]:
    """The header's cells and (line number, cell count) of every non-blank data row: the
    delimiters of each line counted when there are no quotes or lone carriage returns, else
    the rows read with the csv module (``newline=""``: it sees \r, \n and \r\n line ends,
    as pandas does)."""
    if '"' not in text and text.count("\r") == text.count("\r\n"):
        lines = text.split("\n")  # the line ends pandas knows (not str.splitlines's)
        head = next(i for i, ln in enumerate(lines) if ln.strip())
        cells = [c.strip() for c in lines[head].rstrip("\r").split(sep)]
        return cells, (
            (i + 1, ln.count(sep) + 1) for i, ln in enumerate(lines) if i > head and ln.strip()
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    parsed = ((reader.line_num, row) for row in reader)
    kept = ((n, r) for n, r in parsed if r and not (len(r) == 1 and not r[0].strip()))
    names = next(kept)[1]
    return [c.strip() for c in names], ((n, len(r)) for n, r in kept)


def read_frame(
    path: str | Path,
    *,
    typed: bool = False,
    header: int | None = 0,
    sheet: str | int | None = None,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """The table in ``path`` (format from the content and suffix).

    ``typed=False`` keeps every cell as text (callers parse and validate numbers with the line
    named); ``typed=True`` lets pandas infer column types. ``header=None`` reads raw rows
    (plate grids). See the module docstring for what is refused.
    """
    path = Path(path)
    if not path.exists():
        msg = "file not found; check the path"
        raise InputError(msg, path=path)
    if path.is_dir():
        msg = "is a folder, expected a table file"
        raise InputError(msg, path=path)
    raw = path.read_bytes()
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        msg = "the file is empty; expected a table with a header row and data rows"
        raise InputError(msg, path=path)
    suffix = path.suffix.lower()
    if suffix in _XLSX or raw.startswith(b"PK\x03\x04"):
        frame = _read_excel(path, raw, header=header, sheet=sheet)
    elif suffix == ".parquet" or raw.startswith(b"PAR1"):
        frame = _read_parquet(path, raw)
    else:
        frame = _read_text(path, raw, header=header, typed=typed)
    if header is not None:
        frame.columns = [str(c).strip() for c in frame.columns]
        dup = frame.columns[frame.columns.duplicated()]
        if len(dup):
            msg = f"column {dup[0]!r} appears twice in the header; give every column one name"
            raise InputError(msg, path=path, column=dup[0])
    if frame.empty and not allow_empty:
        msg = "the table has a header but no data rows; expected at least one row"
        raise InputError(msg, path=path)
    return frame


def read_table(path: str | Path) -> pd.DataFrame:
    """The table in ``path`` with inferred column types (see :func:`read_frame`)."""
    return read_frame(path, typed=True)


def require_columns(frame: pd.DataFrame, columns: list[str], *, path: str | Path) -> None:
    """Refuse a table that lacks a named column, listing the columns it has."""
    for col in columns:
        if col not in frame.columns:
            msg = f"no column {col!r}; found {', '.join(map(str, frame.columns))}"
            raise InputError(msg, path=path, column=col)


def finite_column(
    col: pd.Series,
    *,
    path: str | Path,
    name: str,
    allow_na: bool = True,
    minimum: float | None = None,
    line_offset: int = 2,
) -> np.ndarray:
    """Parse a column of numbers: NA/empty -> NaN (when ``allow_na``); text, ±inf, magnitudes
    above :data:`MAX_ABS` and values below ``minimum`` are refused with the line and column
    named.

    Vectorised for numeric columns and columns of text; whenever a value is refused, the
    row-by-row parse below runs instead and raises for the first offending row (so the
    message and line are the same either way)."""
    fast = _finite_fast(col, allow_na=allow_na, minimum=minimum)
    if fast is not None:
        return fast
    return _finite_rows(
        col, path=path, name=name, allow_na=allow_na, minimum=minimum, line_offset=line_offset
    )


def _finite_rows(
    col: pd.Series,
    *,
    path: str | Path,
    name: str,
    allow_na: bool,
    minimum: float | None,
    line_offset: int,
) -> np.ndarray:
    """:func:`finite_column` row by row (names the first refused row)."""
    out = np.empty(len(col))
    for i, v in enumerate(col.tolist()):
        line = i + line_offset
        s = "" if v is None else str(v).strip()
        if s.lower() in _NA_TEXT or (isinstance(v, float) and np.isnan(v)):
            if not allow_na:
                msg = f"empty value in column {name!r}; expected a number"
                raise InputError(msg, path=path, line=line, column=name)
            out[i] = np.nan
            continue
        try:
            x = float(s)
        except ValueError:
            hint = " (decimal comma? write 1.5, not 1,5)" if re.fullmatch(r"-?\d+,\d+", s) else ""
            msg = f"{s!r} in column {name!r} is not a number{hint}; fix the cell or write NA"
            raise InputError(msg, path=path, line=line, column=name) from None
        if not np.isfinite(x):
            msg = (
                f"{s!r} in column {name!r} is not a finite number; a reader overflow or a "
                "division by zero upstream? fix the cell or write NA"
            )
            raise InputError(msg, path=path, line=line, column=name)
        if abs(x) > MAX_ABS:
            msg = (
                f"{s!r} in column {name!r} is implausibly large (|value| > {MAX_ABS:g}); a unit "
                "error or an overflow upstream? fix the cell or write NA"
            )
            raise InputError(msg, path=path, line=line, column=name)
        if minimum is not None and x < minimum:
            msg = f"{s!r} in column {name!r} is below {minimum:g}; expected values >= {minimum:g}"
            raise InputError(msg, path=path, line=line, column=name)
        out[i] = x
    return out


def _finite_fast(col: pd.Series, *, allow_na: bool, minimum: float | None) -> np.ndarray | None:
    """:func:`finite_column` for clean columns, vectorised; None when a value is refused (or
    the column's type is unusual): the caller then parses row by row."""
    kind = col.dtype.kind
    if kind in "fiu":
        values = col.to_numpy(dtype=float, na_value=np.nan)
        na = np.isnan(values)
    elif kind == "O" and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
        text = col.str.strip()
        na = (col.isna() | text.str.lower().isin(_NA_TEXT)).to_numpy(bool)
        values = np.full(len(col), np.nan)
        try:
            values[~na] = text.to_numpy(dtype=object)[~na].astype(float)
        except (ValueError, TypeError):
            return None
    else:
        return None
    ok = np.isfinite(values) | na
    if not ok.all() or (na.any() and not allow_na):
        return None
    with np.errstate(invalid="ignore"):
        if np.any(np.abs(values) > MAX_ABS) or (minimum is not None and np.any(values < minimum)):
            return None
    values[na] = np.nan
    return values


#: GR table columns: (name, minimum) of the numeric columns gr_values/gr_metrics use.
_GR_NUMERIC = (
    ("concentration", 0.0),
    ("cell_count", 0.0),
    ("cell_count__ctrl", 0.0),
    ("cell_count__time0", 0.0),
    ("GRvalue", None),
)


def read_gr_table(path: str | Path) -> pd.DataFrame:
    """A GRmetrics-style table (keys, ``concentration``, counts or ``GRvalue``), validated:
    numbers finite and non-negative (GR values may be negative), named columns present."""
    frame = read_frame(path)
    if "concentration" not in frame.columns:
        msg = f"GR metrics need a 'concentration' column; found {', '.join(frame.columns)}"
        raise InputError(msg, path=path, column="concentration")
    if "GRvalue" not in frame.columns:
        require_columns(frame, ["cell_count", "cell_count__ctrl"], path=path)
    for name, minimum in _GR_NUMERIC:
        if name in frame.columns:
            frame[name] = finite_column(frame[name], path=path, name=name, minimum=minimum)
    for name in ("cell_count__ctrl", "cell_count__time0"):
        if name in frame.columns and (frame[name] == 0).any():
            i = int(np.flatnonzero((frame[name] == 0).to_numpy())[0])
            msg = f"{name} is 0: GR values divide by the control and time-zero counts; expected > 0"
            raise InputError(msg, path=path, line=i + 2, column=name)
    from kinresist.dose.gr import GR_KEYS

    keys = [k for k in GR_KEYS if k in frame.columns]
    parts = frame.groupby(keys, sort=False) if keys else [("all", frame)]
    for key, part in parts:
        conc = part["concentration"].to_numpy(float)
        positive = np.unique(conc[np.isfinite(conc) & (conc > 0)])
        if positive.size < 2:
            msg = (
                f"experiment {key!r} has {positive.size} distinct positive concentration(s); "
                "GR curves need at least two distinct positive concentrations"
            )
            raise InputError(msg, path=path, column="concentration")
    return frame
