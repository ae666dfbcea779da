"""The one serialiser of results: JSON, TSV (stamped comment header) and Parquet.

JSON has no NaN/inf: non-finite floats become ``null``. TSV tables start with ``## key: value``
comment lines carrying the envelope. Parquet tables carry the envelope as JSON in the file's
schema metadata under the key ``kinresist``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from kinresist.core.result import Result

__all__ = ["clean", "table_to_tsv", "to_json", "write_parquet", "write_result"]

_FORMATS = {".json": "json", ".tsv": "tsv", ".txt": "tsv", ".csv": "tsv", ".parquet": "parquet"}


def _default(obj: Any) -> Any:
    from kinresist.provenance import json_default

    if hasattr(obj, "to_dict") and callable(obj.to_dict) and not isinstance(obj, type):
        return obj.to_dict()
    return json_default(obj)


def clean(obj: Any) -> Any:
    """Replace non-finite floats by None, recursively (JSON has no NaN/inf)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    return obj


def to_json(payload: Mapping[str, Any], *, indent: int | None = 2) -> str:
    """Serialise a payload: numpy/pandas/date/dataclass values converted, NaN/inf -> null."""
    roundtrip = json.loads(json.dumps(payload, default=_default))
    return json.dumps(clean(roundtrip), indent=indent, allow_nan=False)


def table_to_tsv(frame: pd.DataFrame, envelope: Mapping[str, Any], *, sep: str = "\t") -> str:
    """A tidy table as TSV (or CSV) with the envelope as ``## key: value`` comment lines."""
    from kinresist.provenance import tsv_header

    header = {"kind": envelope.get("workflow"), **envelope}
    lines = tsv_header(header)
    for warning in envelope.get("warnings", []):
        lines += f"## warning: {' '.join(str(warning).split())}\n"
    return lines + frame.to_csv(sep=sep, index=False, lineterminator="\n")


def write_parquet(frame: pd.DataFrame, path: Path, envelope: Mapping[str, Any]) -> Path:
    """One table as Parquet with the envelope in the schema metadata (key ``kinresist``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(_parquet_safe(frame), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"kinresist"] = to_json(dict(envelope), indent=None).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(meta), path)
    return path


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding lists/dicts become JSON text (Parquet needs one type a column)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            values = out[col].tolist()
            if any(isinstance(v, list | dict | tuple) for v in values):
                out[col] = [None if v is None else to_json(v, indent=None) for v in values]
    return out


def write_result(
    result: Result, path: Path, fmt: str | None = None, *, table: str | None = None
) -> list[Path]:
    """Write ``result`` to ``path`` in ``fmt`` (or the format the suffix names)."""
    from kinresist.errors import InputError

    fmt = fmt or _FORMATS.get(path.suffix.lower())
    if fmt is None:
        msg = (
            f"cannot tell the output format from {path.name!r}; use a .json, .tsv or .parquet "
            "name or give the format"
        )
        raise InputError(msg, path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(result.to_json() + "\n", encoding="utf-8")
        return [path]
    if fmt == "tsv":
        frame = result.primary_table if table is None else result.tables[table]
        if path.suffix.lower() == ".csv":
            # plain CSV for spreadsheets and Prism (no comment lines; provenance is in the
            # JSON/TSV/Parquet outputs)
            path.write_text(frame.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
        else:
            path.write_text(table_to_tsv(frame, result.envelope()), encoding="utf-8")
        return [path]
    if fmt == "parquet":
        envelope = result.envelope()
        written = []
        names = list(result.tables) or ["measurements"]
        first = table or names[0]
        frames = dict(result.tables) or {"measurements": result.measurements_frame()}
        written.append(write_parquet(frames[first], path, {**envelope, "table": first}))
        stem = path.name[: -len(".parquet")] if path.name.endswith(".parquet") else path.stem
        for name, frame in frames.items():
            if name != first:
                other = path.with_name(f"{stem}.{name}.parquet")
                written.append(write_parquet(frame, other, {**envelope, "table": name}))
        if result.measurements and "measurements" not in frames:
            other = path.with_name(f"{stem}.measurements.parquet")
            written.append(
                write_parquet(
                    result.measurements_frame(), other, {**envelope, "table": "measurements"}
                )
            )
        return written
    msg = f"unknown output format {fmt!r}; expected json, tsv or parquet"
    raise InputError(msg, path=path)
