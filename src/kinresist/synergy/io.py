"""Readers: SynergyFinder-style long tables and dose matrices -> :class:`Block` objects.

Long table (CSV/TSV/XLSX/Parquet), one row per well, SynergyFinder's column names or ours:

=================  ===========================================
column             aliases
=================  ===========================================
``block_id``       ``block`` (optional: one block if absent)
``drug1``          ``drug_row``, ``drug_a``
``drug2``          ``drug_col``, ``drug_b``
``conc1``          ``conc_r``, ``conc_a``
``conc2``          ``conc_c``, ``conc_b``
``response``       ``viability``, ``inhibition``
``conc_unit``      ``conc_r_unit`` (optional)
=================  ===========================================

Several rows for one dose pair are replicates (kept; the block uses their mean).

Matrix (CSV/TSV): first row = drug 2 doses, first column = drug 1 doses, the corner
cell optionally ``DRUG1/DRUG2`` (or ``DRUG1\\DRUG2``) naming the drugs.

``response`` is % viability (``response="viability"``, SynergyFinder's default) or %
inhibition; viability V becomes inhibition 100 − V without renormalisation.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.synergy.block import Block

__all__ = [
    "PARQUET_SUFFIXES",
    "ResponseKind",
    "blocks_from_frame",
    "column_map",
    "read_blocks",
    "read_long_table",
    "read_matrix",
]

ResponseKind = Literal["viability", "inhibition"]
PARQUET_SUFFIXES = (".parquet", ".pq")

_ALIASES = {
    "block_id": ("block_id", "block", "pairindex"),
    "drug1": ("drug1", "drug_row", "drug_a", "drug1_name"),
    "drug2": ("drug2", "drug_col", "drug_b", "drug2_name"),
    "conc1": ("conc1", "conc_r", "conc_a", "dose1"),
    "conc2": ("conc2", "conc_c", "conc_b", "dose2"),
    "response": ("response", "viability", "inhibition", "value"),
    "conc_unit": ("conc_unit", "conc_r_unit", "conc1_unit", "unit"),
}
_REQUIRED = ("drug1", "drug2", "conc1", "conc2", "response")


def _read_table(path: Path, **kw: object) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "no such file (check the path)", str(path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xls"):
            return pd.read_excel(path, **kw)  # type: ignore[call-overload]
        if suffix in PARQUET_SUFFIXES:
            return pd.read_parquet(path)
        sep = "\t" if suffix in (".tsv", ".txt", ".tab") else ","
        # round_trip: correctly rounded numbers, as the streamed reader (pyarrow) parses them
        return pd.read_csv(path, sep=sep, comment=None, float_precision="round_trip", **kw)  # type: ignore[call-overload]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        msg = f"cannot parse table: {exc}"
        raise InputError(msg, path=path) from exc


def _to_inhibition(values: np.ndarray, kind: ResponseKind) -> np.ndarray:
    if kind == "viability":
        return 100.0 - values
    if kind == "inhibition":
        return values
    msg = f"unknown response kind {kind!r}; expected 'viability' or 'inhibition'"
    raise InputError(msg)


def column_map(columns: Sequence[Any], *, path: Path | None = None) -> dict[str, Any]:
    """Our column name -> the table's column (aliases and case as in the module docstring)."""
    lower = {str(c).strip().lower(): c for c in columns}
    cols: dict[str, Any] = {}
    for key, aliases in _ALIASES.items():
        for a in aliases:
            if a in lower:
                cols[key] = lower[a]
                break
    missing = [k for k in _REQUIRED if k not in cols]
    if missing:
        msg = (
            f"missing column(s) {missing}; a synergy long table needs block_id (optional), drug1, "
            f"drug2, conc1, conc2, response (SynergyFinder names drug_row/drug_col/conc_r/conc_c "
            f"also work); found columns {list(columns)}"
        )
        raise InputError(msg, path=path)
    return cols


def blocks_from_frame(
    df: pd.DataFrame, *, response: ResponseKind = "viability", path: Path | None = None
) -> list[Block]:
    """Blocks from a long table already in memory (see module docstring for columns)."""
    cols = column_map(list(df.columns), path=path)
    for key in ("conc1", "conc2", "response"):
        num = pd.to_numeric(df[cols[key]], errors="coerce")
        bad = num.isna() & df[cols[key]].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            msg = (
                f"column {cols[key]!r} must be numeric, found {df[cols[key]].iloc[row]!r} "
                "(fix the value or remove the row)"
            )
            raise InputError(msg, path=path, line=row + 2, column=cols[key])
        df = df.assign(**{cols[key]: num})
    if df[cols["response"]].isna().any():
        row = int(np.flatnonzero(df[cols["response"]].isna().to_numpy())[0])
        msg = "empty response value (every dose pair needs a measured response)"
        raise InputError(msg, path=path, line=row + 2, column=cols["response"])
    neg = (df[cols["conc1"]] < 0) | (df[cols["conc2"]] < 0)
    if neg.any():
        row = int(np.flatnonzero(neg.to_numpy())[0])
        msg = "negative concentration (doses must be >= 0 and on the linear scale, not log)"
        raise InputError(msg, path=path, line=row + 2)
    block_col = cols.get("block_id")
    keys = df[block_col].astype(str) if block_col else pd.Series(["1"] * len(df), index=df.index)
    blocks: list[Block] = []
    for bid, sub in df.groupby(keys, sort=False):
        d1 = sub[cols["drug1"]].astype(str).unique()
        d2 = sub[cols["drug2"]].astype(str).unique()
        if len(d1) != 1 or len(d2) != 1:
            msg = (
                f"block {bid!r} mixes drugs ({list(d1)} x {list(d2)}); give each drug pair its own "
                "block_id"
            )
            raise InputError(msg, path=path)
        unit = ""
        if "conc_unit" in cols:
            units = sub[cols["conc_unit"]].dropna().astype(str).unique()
            if len(units) > 1:
                msg_0 = f"block {bid!r} mixes concentration units {list(units)}"
                raise InputError(msg_0, path=path)
            unit = units[0] if len(units) else ""
        c1 = np.unique(sub[cols["conc1"]].to_numpy(float))
        c2 = np.unique(sub[cols["conc2"]].to_numpy(float))
        i = np.searchsorted(c1, sub[cols["conc1"]].to_numpy(float))
        j = np.searchsorted(c2, sub[cols["conc2"]].to_numpy(float))
        vals = _to_inhibition(sub[cols["response"]].to_numpy(float), response)
        counts = np.zeros((c1.size, c2.size), dtype=int)
        np.add.at(counts, (i, j), 1)
        r = int(counts.max())
        reps = np.full((c1.size, c2.size, r), np.nan)
        fill = np.zeros_like(counts)
        for ii, jj, v in zip(i, j, vals, strict=True):
            reps[ii, jj, fill[ii, jj]] = v
            fill[ii, jj] += 1
        if np.any(counts == 0):
            a, b = np.argwhere(counts == 0)[0]
            msg = (
                f"block {bid!r}: no response for dose pair ({c1[a]:g}, {c2[b]:g}); the checkerboard "
                "must be complete (measure or impute the missing cell)"
            )
            raise InputError(msg, path=path)
        rank = np.full(counts.shape, len(i), dtype=np.int64)  # first row of each cell
        np.minimum.at(rank, (i, j), np.arange(len(i)))
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(reps, axis=2) if r > 1 else reps[:, :, 0]
        try:
            blocks.append(
                Block(
                    str(bid),
                    str(d1[0]),
                    str(d2[0]),
                    c1,
                    c2,
                    mean,
                    replicates=reps if r > 1 else None,
                    conc_unit=unit,
                    input_rank=rank,
                )
            )
        except InputError as exc:
            raise InputError(str(exc), path=path) from exc
    if not blocks:
        msg_0 = "the table has no rows"
        raise InputError(msg_0, path=path)
    return blocks


def read_long_table(path: str | Path, *, response: ResponseKind = "viability") -> list[Block]:
    """Blocks from a SynergyFinder-style long table (CSV, TSV, XLSX or Parquet)."""
    p = Path(path)
    return blocks_from_frame(_read_table(p), response=response, path=p)


def read_matrix(
    path: str | Path,
    *,
    response: ResponseKind = "viability",
    drug1: str | None = None,
    drug2: str | None = None,
    block_id: str | None = None,
    conc_unit: str = "",
) -> Block:
    """One block from a dose matrix (rows: drug 1 doses, columns: drug 2 doses)."""
    p = Path(path)
    raw = _read_table(p, header=None, dtype=str)
    corner = str(raw.iat[0, 0]) if raw.shape[0] else ""
    names = corner.replace("\\", "/").split("/") if "/" in corner.replace("\\", "/") else []
    d1 = drug1 or (names[0].strip() if len(names) == 2 else "drug1")
    d2 = drug2 or (names[1].strip() if len(names) == 2 else "drug2")
    try:
        c2 = raw.iloc[0, 1:].astype(float).to_numpy()
    except ValueError as exc:
        msg = f"first row must hold drug 2 doses: {exc}"
        raise InputError(msg, path=p, line=1) from exc
    try:
        c1 = raw.iloc[1:, 0].astype(float).to_numpy()
    except ValueError as exc:
        msg = f"first column must hold drug 1 doses: {exc}"
        raise InputError(msg, path=p, column=1) from exc
    body = raw.iloc[1:, 1:]
    vals = pd.DataFrame(body).apply(pd.to_numeric, errors="coerce").to_numpy(float)
    if np.isnan(vals).any():
        a, b = np.argwhere(np.isnan(vals))[0]
        msg = "matrix cell is empty or not a number"
        raise InputError(msg, path=p, line=int(a) + 2, column=int(b) + 2)
    o1, o2 = np.argsort(c1), np.argsort(c2)
    return Block(
        block_id or p.stem,
        d1,
        d2,
        c1[o1],
        c2[o2],
        _to_inhibition(vals[o1][:, o2], response),
        conc_unit=conc_unit,
    )


def read_blocks(path: str | Path, *, response: ResponseKind = "viability") -> list[Block]:
    """Long table or matrix, told apart by the header (a long table names its columns)."""
    p = Path(path)
    if p.suffix.lower() in PARQUET_SUFFIXES:
        return read_long_table(p, response=response)
    head = _read_table(p, nrows=1, header=None, dtype=str)
    first = [str(v).strip().lower() for v in head.iloc[0].tolist()]
    known = {a for aliases in _ALIASES.values() for a in aliases}
    numeric_header = pd.to_numeric(pd.Series(first[1:]), errors="coerce").notna().all()
    if sum(v in known for v in first) >= 3 or not numeric_header:
        return read_long_table(p, response=response)
    return [read_matrix(p, response=response)]
