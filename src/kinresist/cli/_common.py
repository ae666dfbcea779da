"""Options and helpers shared by every CLI command group.

Commands read files with the library's readers, call one library function and
write the result through :func:`emit`. They never do numerics themselves.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kinresist.provenance import to_json

__all__ = [
    "DbOpt",
    "FormatOpt",
    "OutFormat",
    "OutOpt",
    "emit",
    "emit_as",
    "emit_text",
    "resolve_db",
]


class OutFormat(StrEnum):
    """Machine- or human-readable output."""

    json = "json"
    tsv = "tsv"
    text = "text"


FormatOpt = Annotated[
    OutFormat,
    typer.Option("--format", "-f", help="Output format printed on stdout.", case_sensitive=False),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Also write the output (JSON/TSV) to this file."),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Project store: a SQLite file path or an SQLAlchemy URL "
        "(postgresql+psycopg://user@host/db). Default: $KINRESIST_DB, else the user data directory.",
        show_default=False,
    ),
]


def resolve_db(db: str | None) -> str | None:
    """The store location from ``--db`` or ``$KINRESIST_DB`` (None: no store requested)."""
    return db or os.environ.get("KINRESIST_DB") or None


def emit(payload: Any, *, out: Path | None = None) -> None:
    """Print a JSON payload to stdout (and to ``out`` when given)."""
    text = to_json(payload)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")


def emit_text(text: str, *, out: Path | None = None) -> None:
    """Print text (TSV or a human summary) to stdout and optionally to ``out``."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def emit_as(
    fmt: OutFormat,
    payload: Any,
    *,
    tsv: Callable[[], str],
    text: Callable[[], str],
    out: Path | None = None,
) -> None:
    """Print ``payload`` as JSON, or the TSV / human text that ``tsv()`` / ``text()`` render."""
    if fmt == OutFormat.json:
        emit(payload, out=out)
    elif fmt == OutFormat.tsv:
        emit_text(tsv(), out=out)
    else:
        emit_text(text(), out=out)
