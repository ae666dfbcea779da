"""Structured mutations of valid input files, driven by hypothesis or by a seeded RNG.

A mutator never sees hypothesis directly: it asks a :class:`Draw` for integers and choices, so the
same code runs under hypothesis (``HypothesisDraw``: shrinking, example database) in the CI budget
and under :class:`random.Random` (``RandomDraw``: ~10x faster) in the long run of ``run.py``.

Text files (CSV/TSV/VCF/MAF/GMT/XML...) are mutated *structurally*: the file is split into lines
and cells (delimiter sniffed), so a mutation truncates at a section (every line boundary, and inside
a line), drops or duplicates a column, swaps the delimiter, writes decimal commas, puts an extreme or
non-finite number or a Unicode string in a cell, duplicates rows, re-encodes the file (Latin-1,
UTF-16, BOM) or flips bytes. Binary files (FCS, TIFF, BAM, XLSX, gzip) are truncated at every
``section`` offset the seed declares and at random offsets, byte-flipped, zeroed or extended.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

#: Values that stress number parsing and the physical checks behind it.
EXTREME_NUMBERS = (
    "inf", "-inf", "Infinity", "-Infinity", "nan", "NaN", "NA", "", " ", "1e308", "-1e308",
    "1e309", "1e-320", "0", "-0", "-1", "-0.5", "0.0", "1e-12", "99999999999999999999",
    "1.5", "2.5e6", "1_000", "0x1A", "1,5", "1.2.3", "٣", "５", "1e", "+", "--1", "1e-5",
    "100000000", "-100000000", "3.0000000000000000001", "TRUE", "null", "None", "#N/A",
)  # fmt: skip
#: Text that stresses names and labels.
ODD_TEXT = (
    "é", "µM", "試料", "ALK\u200b", "\u202egnp", "😀", "a\x00b", "'", '"', "a,b", "a;b",
    "a\tb", " padded ", "NA", "", "-", "#comment", "=1+1", "x" * 300, "Ｇ１２０２Ｒ",
    "ALK G1202R", "EML4-ALK", "A1", "Z99", "../../etc", "null",
)  # fmt: skip
#: Bytes that are not UTF-8 (Latin-1 / CP1252 text, a lone continuation byte, a BOM pair).
NON_UTF8 = (b"\xe9", b"\xb5", b"\xff\xfe", b"\x80", b"\xc3", b"\xa0", b"\x96", b"\xfe\xff")


class Draw(Protocol):
    """What a mutator may ask for."""

    def integer(self, lo: int, hi: int) -> int: ...

    def choice(self, options: Sequence[T]) -> T: ...


class RandomDraw:
    """Draws from a seeded :class:`random.Random` (the long run)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]


class HypothesisDraw:
    """Draws through hypothesis' ``data.draw`` (shrinkable; the CI budget)."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def integer(self, lo: int, hi: int) -> int:
        from hypothesis import strategies as st

        return int(self.data.draw(st.integers(lo, hi)))

    def choice(self, options: Sequence[T]) -> T:
        from hypothesis import strategies as st

        return options[int(self.data.draw(st.integers(0, len(options) - 1)))]


# -- text files ----------------------------------------------------------------------------
@dataclass
class TextDoc:
    """A text file as lines of cells; ``prefix`` lines (``#``/``##`` headers) are kept apart."""

    lines: list[str]
    delim: str
    newline: str = "\n"

    @classmethod
    def parse(cls, raw: bytes) -> TextDoc:
        text = raw.decode("utf-8", errors="surrogateescape")
        newline = "\r\n" if "\r\n" in text else "\n"
        lines = text.split(newline)
        if lines and lines[-1] == "":
            lines.pop()
        sample = "\n".join(ln for ln in lines[:50] if not ln.startswith("##"))
        counts = {d: sample.count(d) for d in ("\t", ",", ";")}
        delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
        return cls(lines, delim, newline)

    def to_bytes(self, *, final_newline: bool = True) -> bytes:
        text = self.newline.join(self.lines) + (self.newline if final_newline else "")
        return text.encode("utf-8", errors="surrogateescape")

    def data_rows(self) -> list[int]:
        """Indices of lines that hold cells (not ``##`` meta lines, not blank)."""
        return [i for i, ln in enumerate(self.lines) if ln.strip() and not ln.startswith("##")]

    def cells(self, i: int) -> list[str]:
        return self.lines[i].split(self.delim)

    def set_cells(self, i: int, cells: list[str]) -> None:
        self.lines[i] = self.delim.join(cells)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric_cells(doc: TextDoc) -> list[tuple[int, int]]:
    out = []
    for i in doc.data_rows():
        for j, c in enumerate(doc.cells(i)):
            if _is_number(c.strip()):
                out.append((i, j))
    return out


def _any_cell(draw: Draw, doc: TextDoc) -> tuple[int, int] | None:
    rows = doc.data_rows()
    if not rows:
        return None
    i = draw.choice(rows)
    n = len(doc.cells(i))
    return i, draw.integer(0, n - 1)


def truncate_lines(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    """Keep the first k lines (k = 0 .. all-1): every section boundary, header-only included."""
    k = draw.integer(0, max(len(doc.lines) - 1, 0))
    doc.lines = doc.lines[:k]
    return doc.to_bytes(final_newline=draw.integer(0, 1) == 1)


def truncate_inside_line(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    """Cut in the middle of a line (a file written by a crashed process)."""
    if not doc.lines:
        return b""
    i = draw.integer(0, len(doc.lines) - 1)
    line = doc.lines[i]
    cut = draw.integer(0, max(len(line) - 1, 0))
    doc.lines = [*doc.lines[:i], line[:cut]]
    return doc.to_bytes(final_newline=False)


def drop_column(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    rows = doc.data_rows()
    if not rows:
        return raw
    width = max(len(doc.cells(i)) for i in rows)
    j = draw.integer(0, max(width - 1, 0))
    header_only = draw.integer(0, 3) == 0
    for n, i in enumerate(rows):
        if header_only and n > 0:
            break
        cells = doc.cells(i)
        if j < len(cells):
            del cells[j]
        doc.set_cells(i, cells)
    return doc.to_bytes()


def duplicate_column(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    rows = doc.data_rows()
    if not rows:
        return raw
    width = max(len(doc.cells(i)) for i in rows)
    j = draw.integer(0, max(width - 1, 0))
    for i in rows:
        cells = doc.cells(i)
        if j < len(cells):
            cells.insert(j, cells[j])
        doc.set_cells(i, cells)
    return doc.to_bytes()


def swap_columns(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    """Swap two header names only (columns mislabelled)."""
    rows = doc.data_rows()
    if not rows:
        return raw
    cells = doc.cells(rows[0])
    if len(cells) < 2:
        return raw
    a, b = draw.integer(0, len(cells) - 1), draw.integer(0, len(cells) - 1)
    cells[a], cells[b] = cells[b], cells[a]
    doc.set_cells(rows[0], cells)
    return doc.to_bytes()


def swap_delimiter(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    new = draw.choice([d for d in ("\t", ",", ";", " ", "|") if d != doc.delim])
    everywhere = draw.integer(0, 2) > 0
    rows = doc.data_rows()
    for n, i in enumerate(rows):
        if everywhere or n == 0 or draw.integer(0, 3) == 0:
            doc.lines[i] = doc.lines[i].replace(doc.delim, new)
    return doc.to_bytes()


def decimal_comma(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    """European decimals: ``1.5`` -> ``1,5`` in one or every numeric cell (then, sometimes,
    ``;`` between cells, as a European spreadsheet exports CSV)."""
    cells = _numeric_cells(doc)
    if not cells:
        return raw
    every = draw.integer(0, 1) == 1
    chosen = set(cells) if every else {draw.choice(cells)}
    out_delim = ";" if every and doc.delim == "," and draw.integer(0, 1) else doc.delim
    for i in doc.data_rows():
        row = doc.cells(i)
        row = [c.replace(".", ",") if (i, j) in chosen else c for j, c in enumerate(row)]
        doc.lines[i] = out_delim.join(row)
    return doc.to_bytes()


def extreme_value(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    cells = _numeric_cells(doc)
    target = draw.choice(cells) if cells and draw.integer(0, 3) else _any_cell(draw, doc)
    if target is None:
        return raw
    i, j = target
    row = doc.cells(i)
    if j >= len(row):
        return raw
    row[j] = draw.choice(EXTREME_NUMBERS)
    doc.set_cells(i, row)
    return doc.to_bytes()


def scale_column(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    """Every number of one column multiplied (or negated, zeroed): a unit or sign error."""
    rows = doc.data_rows()
    if len(rows) < 2:
        return raw
    width = len(doc.cells(rows[0]))
    j = draw.integer(0, max(width - 1, 0))
    factor = draw.choice([0.0, -1.0, 1e-9, 1e9, 1e300, 1000.0])
    for i in rows[1:]:
        row = doc.cells(i)
        if j < len(row) and _is_number(row[j].strip()):
            try:
                row[j] = repr(float(row[j]) * factor)
            except (OverflowError, ValueError):  # a number to _is_number, not to float()
                row[j] = "inf"
            doc.set_cells(i, row)
    return doc.to_bytes()


def odd_text(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    target = _any_cell(draw, doc)
    if target is None:
        return raw
    i, j = target
    row = doc.cells(i)
    row[j] = draw.choice(ODD_TEXT) if draw.integer(0, 2) else row[j] + draw.choice(ODD_TEXT)
    doc.set_cells(i, row)
    return doc.to_bytes()


def duplicate_rows(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    rows = doc.data_rows()
    if len(rows) < 2:
        return raw
    i = draw.choice(rows[1:])
    copies = draw.integer(1, 3)
    doc.lines[i + 1 : i + 1] = [doc.lines[i]] * copies
    return doc.to_bytes()


def delete_rows(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    rows = doc.data_rows()
    if len(rows) < 2:
        return raw
    keep = draw.integer(0, 1)
    drop = set(rows[1:]) if keep == 0 and draw.integer(0, 3) == 0 else {draw.choice(rows[1:])}
    doc.lines = [ln for i, ln in enumerate(doc.lines) if i not in drop]
    return doc.to_bytes()


def shuffle_rows(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    rows = doc.data_rows()[1:]
    if len(rows) < 2:
        return raw
    a, b = draw.choice(rows), draw.choice(rows)
    doc.lines[a], doc.lines[b] = doc.lines[b], doc.lines[a]
    return doc.to_bytes()


def ragged_row(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    target = _any_cell(draw, doc)
    if target is None:
        return raw
    i, j = target
    row = doc.cells(i)
    if draw.integer(0, 1):
        row.append(draw.choice(["", "1", "extra"]))
    else:
        del row[j]
    doc.set_cells(i, row)
    return doc.to_bytes()


def blank_lines(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    at = draw.integer(0, len(doc.lines))
    doc.lines[at:at] = [draw.choice(["", "   ", doc.delim * 3, "#", "\x00"])]
    return doc.to_bytes()


def line_endings(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    doc.newline = draw.choice(["\r\n", "\r", "\n\n"])
    return doc.to_bytes(final_newline=draw.integer(0, 1) == 1)


def reencode(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    """Latin-1 / CP1252 / UTF-16 / BOM versions of the file (with a µ or é to make it matter)."""
    target = _any_cell(draw, doc)
    if target is not None:
        i, j = target
        row = doc.cells(i)
        row[j] = row[j] + draw.choice(["é", "µ", "–", "ü"])
        doc.set_cells(i, row)
    text = doc.newline.join(doc.lines) + doc.newline
    enc = draw.choice(["latin-1", "cp1252", "utf-16", "utf-8-sig", "utf-16-le"])
    return text.encode(enc, errors="replace")


def inject_bytes(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    if not raw:
        return draw.choice(NON_UTF8)
    at = draw.integer(0, len(raw))
    return raw[:at] + draw.choice(NON_UTF8) + raw[at:]


def byte_flips(draw: Draw, raw: bytes, doc: TextDoc | None = None) -> bytes:
    if not raw:
        return raw
    out = bytearray(raw)
    for _ in range(draw.integer(1, 8)):
        k = draw.integer(0, len(out) - 1)
        out[k] ^= draw.integer(1, 255)
    return bytes(out)


def repeat_file(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    """The file twice (a concatenated export: the header and every record duplicated)."""
    return raw + raw if draw.integer(0, 1) else raw + b"\n".join(raw.splitlines()[1:]) + b"\n"


def empty_file(draw: Draw, raw: bytes, doc: TextDoc) -> bytes:
    return draw.choice([b"", b"\n", b"\xef\xbb\xbf", b" \n\n", b"\x00" * 16])


TEXT_MUTATORS: tuple[Callable[[Draw, bytes, TextDoc], bytes], ...] = (
    truncate_lines, truncate_inside_line, drop_column, duplicate_column, swap_columns,
    swap_delimiter, decimal_comma, extreme_value, extreme_value, scale_column, odd_text,
    duplicate_rows, delete_rows, shuffle_rows, ragged_row, blank_lines, line_endings, reencode,
    inject_bytes, byte_flips, repeat_file, empty_file,
)  # fmt: skip


# -- binary files --------------------------------------------------------------------------
def bin_truncate_section(draw: Draw, raw: bytes, sections: Sequence[int]) -> bytes:
    cuts = [s for s in sections if 0 <= s < len(raw)] or [0]
    at = draw.choice(cuts) + draw.choice([0, 0, -1, 1, 7])
    return raw[: max(at, 0)]


def bin_truncate_random(draw: Draw, raw: bytes, sections: Sequence[int]) -> bytes:
    return raw[: draw.integer(0, max(len(raw) - 1, 0))]


def bin_flips(draw: Draw, raw: bytes, sections: Sequence[int]) -> bytes:
    if not raw:
        return raw
    out = bytearray(raw)
    # flips near a section start hit headers and offsets, not just payload
    base = draw.choice([*[s for s in sections if s < len(raw)], 0])
    for _ in range(draw.integer(1, 6)):
        k = min(len(out) - 1, base + draw.integer(0, 256)) if draw.integer(0, 1) else None
        k = draw.integer(0, len(out) - 1) if k is None else k
        out[k] ^= draw.integer(1, 255)
    return bytes(out)


def bin_zero_range(draw: Draw, raw: bytes, sections: Sequence[int]) -> bytes:
    if not raw:
        return raw
    a = draw.integer(0, len(raw) - 1)
    b = min(len(raw), a + draw.integer(1, 512))
    return raw[:a] + b"\x00" * (b - a) + raw[b:]


def bin_append(draw: Draw, raw: bytes, sections: Sequence[int]) -> bytes:
    return raw + draw.choice([b"\x00" * 100, raw[:100], b"garbage\n", os.urandom(0)])


def bin_empty(draw: Draw, raw: bytes, sections: Sequence[int]) -> bytes:
    return draw.choice([b"", b"\x00", raw[:4]])


BINARY_MUTATORS: tuple[Callable[[Draw, bytes, Sequence[int]], bytes], ...] = (
    bin_truncate_section, bin_truncate_section, bin_truncate_random, bin_flips, bin_flips,
    bin_zero_range, bin_append, bin_empty,
)  # fmt: skip


def mutate_text(draw: Draw, raw: bytes) -> tuple[bytes, list[str]]:
    """1-3 structural mutations of a text file; returns the bytes and the mutation names."""
    names: list[str] = []
    for _ in range(draw.integer(1, 3)):
        fn = draw.choice(TEXT_MUTATORS)
        raw = fn(draw, raw, TextDoc.parse(raw))
        names.append(fn.__name__)
    return raw, names


def mutate_binary(draw: Draw, raw: bytes, sections: Sequence[int]) -> tuple[bytes, list[str]]:
    fn = draw.choice(BINARY_MUTATORS)
    return fn(draw, raw, sections), [fn.__name__]


# -- file names ----------------------------------------------------------------------------
#: Stems for the mutated file: ASCII, spaces, Unicode, and (as bytes) non-UTF-8.
NAME_STEMS: tuple[str | bytes, ...] = (
    "input", "my file", "donnée_µM", "試料-1", "emoji😀", "a'b", "--dash", b"latin\xe9",
    b"bad\xff\xfe",
)  # fmt: skip


def file_name(draw: Draw, suffix: str, *, wrong_suffix: Sequence[str] = ()) -> str:
    """A file name with the seed's suffix (or, sometimes, a wrong one such as ``.xlsx``)."""
    stem = draw.choice(NAME_STEMS)
    if isinstance(stem, bytes):
        stem = os.fsdecode(stem)  # surrogate-escaped, as Python sees such a name on Linux
    if wrong_suffix and draw.integer(0, 9) == 0:
        suffix = draw.choice(wrong_suffix)
    return stem + suffix
