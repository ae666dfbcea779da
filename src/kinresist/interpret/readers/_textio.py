"""Line-oriented reading of text inputs (plain or gzip) with errors that name the line."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from kinresist._progress import Progress
from kinresist.errors import InputError

__all__ = ["iter_lines", "read_delimited"]


def _open_bytes(path: Path) -> io.BufferedIOBase:
    if not path.exists():
        msg = "file not found; check the path"
        raise InputError(msg, path=path)
    if path.is_dir():
        msg = "is a folder, expected a file"
        raise InputError(msg, path=path)
    fh = path.open("rb")
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        fh.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return fh  # type: ignore[return-value]


def iter_lines(path: str | PathLike[str]) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` without line endings; non-UTF-8 bytes name their line.

    A long read shows a progress line on an interactive terminal (:mod:`kinresist._progress`).
    """
    p = Path(path)
    with _open_bytes(p) as fh, Progress(f"reading {p.name}") as progress:
        number = 0
        try:
            for raw in fh:
                number += 1
                if not number & 0xFFF:
                    progress.update(number)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad = raw[exc.start : exc.start + 1]
                    msg = (
                        f"byte {bad!r} at column {exc.start + 1} is not valid UTF-8; expected UTF-8 text "
                        "(re-save the file as UTF-8, e.g. iconv -f latin1 -t utf-8)"
                    )
                    raise InputError(msg, path=p, line=number) from None
                if number == 1:
                    text = text.removeprefix("\ufeff")
                text = text.rstrip("\r\n")
                parts = text.split("\r")  # old Mac line endings: one raw line holds several
                for k, part in enumerate(parts):
                    number += 1 if k else 0
                    yield number, part
        except (OSError, EOFError, zlib.error) as exc:
            msg = f"cannot read the file ({exc}); expected plain text or a complete gzip file"
            raise InputError(msg, path=p) from None


def read_delimited(path: str | PathLike[str]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Read a CSV/TSV (delimiter sniffed from the header: tab, comma or semicolon).

    Lines starting with ``#`` before the header are comments. Returns the lower-cased
    header and ``(line_number, row)`` pairs; a row with a wrong number of cells is an
    InputError naming the line.
    """
    p = Path(path)
    lines = [(n, t) for n, t in iter_lines(p)]
    body = [(n, t) for n, t in lines if t.strip() and not t.startswith("#")]
    if not body:
        msg = "no header line; expected a CSV/TSV with a header row"
        raise InputError(msg, path=p)
    n0, head = body[0]
    delim = "\t" if "\t" in head else ("," if "," in head else (";" if ";" in head else "\t"))
    try:
        header = [h.strip().lower() for h in next(csv.reader([head], delimiter=delim))]
    except csv.Error as exc:
        msg = f"cannot split the header into columns ({exc})"
        raise InputError(msg, path=p, line=n0) from None
    seen: set[str] = set()
    for h in header:
        if h and h in seen:
            msg = f"column {h!r} appears twice in the header; give every column one name"
            raise InputError(msg, path=p, line=n0, column=h)
        seen.add(h)
    rows: list[tuple[int, dict[str, str]]] = []
    for n, text in body[1:]:
        try:
            cells = next(csv.reader([text], delimiter=delim))
        except csv.Error as exc:
            msg = f"cannot split the line into cells ({exc}); expected {delim!r}-separated values"
            raise InputError(msg, path=p, line=n) from None
        if len(cells) != len(header):
            msg = (
                f"{len(cells)} cells but the header (line {n0}) has {len(header)}; "
                f"expected one value per column ({', '.join(header)}) separated by {delim!r}"
            )
            raise InputError(msg, path=p, line=n)
        rows.append((n, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
    return header, rows
