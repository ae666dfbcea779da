"""Decoding of instrument CSV text: BOMs, encodings, line endings, delimiters, decimal commas.

QuantaSoft and QX Manager write CSV with CRLF (some older Mac exports CR only), UTF-8 with or
without a byte-order mark, Latin-1 sample names on some Windows locales, and, on machines set to
a European locale, semicolon-delimited files with decimal commas.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from kinresist.errors import InputError

__all__ = ["CsvText", "decode_bytes", "read_csv_text"]


@dataclass(frozen=True)
class CsvText:
    """Normalised CSV text: ``\\n`` line endings, a known delimiter and decimal mark."""

    text: str
    delimiter: str
    decimal: str
    encoding: str


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM stripped) or, failing that, Windows-1252/Latin-1."""
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    msg = "latin-1 decodes any byte string"
    raise AssertionError(msg)  # pragma: no cover


def _sniff(text: str) -> tuple[str, str]:
    """Delimiter and decimal mark from the first non-preamble lines."""
    lines = [ln for ln in text.split("\n", 40)[:40] if ln.strip()]
    semis = sum(ln.count(";") for ln in lines)
    commas = sum(ln.count(",") for ln in lines)
    tabs = sum(ln.count("\t") for ln in lines)
    if semis > commas and semis >= tabs:
        return ";", ","
    if tabs > commas:
        return "\t", "."
    return ",", "."


def read_csv_text(source: str | Path | bytes, *, name: str | None = None) -> CsvText:
    """Read and normalise a CSV file (path) or its bytes.

    Parameters
    ----------
    source
        A path, or the raw bytes (e.g. a member of a zip archive).
    name
        The name used in error messages when ``source`` is bytes.
    """
    if isinstance(source, bytes):
        data = source
    else:
        data = Path(source).read_bytes()
    label = name or str(source if not isinstance(source, bytes) else "<bytes>")
    if not data.strip():
        msg = "the file is empty; expected a QuantaSoft/QX Manager CSV export"
        raise InputError(msg, path=label)
    if b"\x00" in data[:4096]:
        msg = (
            "the file is binary (or UTF-16), not a CSV export; export the data from QuantaSoft/QX "
            "Manager as CSV (UTF-8)"
        )
        raise InputError(
            msg,
            path=label,
        )
    text, enc = decode_bytes(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter, decimal = _sniff(text)
    return CsvText(text=text, delimiter=delimiter, decimal=decimal, encoding=enc)


def rows(csvtext: CsvText) -> list[list[str]]:
    """Split normalised text into rows of fields (quotes honoured)."""
    reader = csv.reader(io.StringIO(csvtext.text), delimiter=csvtext.delimiter)
    return list(reader)


def to_float(value: str, decimal: str) -> float:
    """Parse a numeric field; '' and 'No Call' become NaN. Raises ValueError otherwise."""
    v = value.strip().strip('"')
    if v == "" or v.lower() in {"no call", "nan", "na", "n/a", "-"}:
        return float("nan")
    if decimal == ",":
        v = (
            v.replace(".", "").replace(",", ".")
            if v.count(",") == 1 and "." in v
            else v.replace(",", ".")
        )
    elif "," in v and "." not in v and v.count(",") == 1:
        # a quoted decimal comma inside a comma-delimited file
        v = v.replace(",", ".")
    return float(v)
