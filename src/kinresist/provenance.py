"""Stamps for versioned outputs: schema version, package and KB versions, input hashes.

Every machine-readable output (JSON, TSV) goes through :func:`stamp` (JSON) or
:func:`tsv_header` (TSV comment lines) so that a result can always be traced back
to the code, knowledge base and exact input bytes that made it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from kinresist._version import __version__

__all__ = [
    "RESEARCH_USE_NOTICE",
    "file_sha256",
    "json_default",
    "stamp",
    "text_sha256",
    "to_json",
    "tsv_header",
]

RESEARCH_USE_NOTICE = (
    "For research use only. Not for use in diagnostic procedures or to guide treatment of patients."
)


def file_sha256(path: str | PathLike[str]) -> str:
    """SHA-256 of a file's bytes (streamed), as ``sha256:<hex>``."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def text_sha256(text: str | bytes) -> str:
    """SHA-256 of a string or bytes, as ``sha256:<hex>``."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _kb_version() -> str | None:
    try:
        from kinresist.kb import kb_version
    except ImportError:  # pragma: no cover - the KB package is always shipped
        return None
    try:
        return kb_version()
    except Exception:  # noqa: BLE001 - a stamp must never fail the output it stamps
        return None


def stamp(
    kind: str,
    schema_version: str,
    *,
    inputs: Mapping[str, str] | Iterable[str | PathLike[str]] | None = None,
    parameters: Mapping[str, Any] | None = None,
    kb_version: str | None = None,
) -> dict[str, Any]:
    """The header every JSON output starts with.

    Parameters
    ----------
    kind
        Output type, e.g. ``"kinresist.interpretation"``.
    schema_version
        Version of this output's format (documented in docs/formats.md).
    inputs
        Either a mapping name -> hash, or paths whose SHA-256 is computed here.
    parameters
        The options that shaped the result.
    kb_version
        Knowledge-base version; looked up from the bundled KB when omitted.
    """
    hashes: dict[str, str] = {}
    if inputs is not None:
        if isinstance(inputs, Mapping):
            hashes = {str(k): str(v) for k, v in inputs.items()}
        else:
            for p in inputs:
                hashes[str(p)] = file_sha256(p)
    return {
        "kind": kind,
        "schema_version": schema_version,
        "kinresist_version": __version__,
        "kb_version": kb_version if kb_version is not None else _kb_version(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "inputs": hashes,
        "parameters": dict(parameters or {}),
        "notice": RESEARCH_USE_NOTICE,
    }


def tsv_header(header: Mapping[str, Any]) -> str:
    """Comment lines (``## key: value``) carrying a stamp at the top of a TSV."""
    lines = []
    for key in ("kind", "schema_version", "kinresist_version", "kb_version", "created", "notice"):
        if key in header:
            lines.append(f"## {key}: {header[key]}")
    for name, digest in dict(header.get("inputs", {})).items():
        lines.append(f"## input: {name} {digest}")
    return "\n".join(lines) + "\n"


def json_default(obj: Any) -> Any:
    """JSON encoder fallback for numpy scalars/arrays, paths, dates and dataclasses."""
    import dataclasses

    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, _dt.date | _dt.datetime):
        return obj.isoformat()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    msg = f"Object of type {type(obj).__name__} is not JSON serialisable"
    raise TypeError(msg)


def _clean(obj: Any) -> Any:
    """Replace non-finite floats by None (JSON has no NaN/inf)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def to_json(payload: Mapping[str, Any], *, indent: int | None = 2) -> str:
    """Serialise an output payload: NaN/inf become null, numpy types are converted."""
    roundtrip = json.loads(json.dumps(payload, default=json_default))
    return json.dumps(_clean(roundtrip), indent=indent, allow_nan=False)
