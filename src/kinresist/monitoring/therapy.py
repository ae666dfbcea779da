"""Therapy lines of a study: ``subject, drug, start, end`` (end empty = ongoing).

Optional columns ``best_response`` and ``note``. Lines of one subject may not overlap (a
combination is one line: ``"lorlatinib + crizotinib"``); a line may end on the day the next
starts. Drug names are normalised with the knowledge base (``Alecensa`` -> ``alectinib``); a drug
the KB does not know is kept as given (lower case) with a warning, never guessed.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from kinresist.errors import InputError

__all__ = [
    "TherapyLineRow",
    "TherapySpan",
    "TherapyTable",
    "current_line",
    "next_change",
    "normalise_drug",
    "read_therapy",
]

_REQUIRED = ("subject", "drug", "start", "end")
_OPTIONAL = ("best_response", "note")


@dataclass(frozen=True, slots=True)
class TherapyLineRow:
    """One therapy line of one subject."""

    number: int
    line: int
    subject: str
    drug: str
    start: dt.date
    end: dt.date | None
    best_response: str | None = None
    note: str = ""
    known_drug: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.number,
            "subject": self.subject,
            "drug": self.drug,
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "best_response": self.best_response,
        }


@dataclass(frozen=True, slots=True)
class TherapyTable:
    """A validated therapy CSV."""

    path: Path
    rows: tuple[TherapyLineRow, ...]

    def __iter__(self) -> Iterator[TherapyLineRow]:
        return iter(self.rows)

    def warnings(self) -> list[str]:
        return [
            f"therapy row {r.number}: drug {r.drug!r} is not in the knowledge base; its calls "
            "will be unknown"
            for r in self.rows
            if not r.known_drug
        ]


def normalise_drug(name: str) -> tuple[str, bool]:
    """``(canonical name, known)``: each part of a ``+`` combination looked up in the KB."""
    from kinresist.kb import load_kb

    kb = load_kb()
    parts = [p.strip() for p in name.split("+") if p.strip()]
    out, known = [], True
    for part in parts:
        drug = kb.drug(part)
        if drug is None:
            known = False
            out.append(part.lower())
        else:
            out.append(drug.name)
    return " + ".join(out), known


def _date(text: str, *, column: str, path: Path, line: int, where: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"{where}: {column} {text!r} is not an ISO date (YYYY-MM-DD)"
        raise InputError(msg, path=path, line=line, column=column) from None


def read_therapy(path: str | PathLike[str]) -> TherapyTable:
    """Read and validate a therapy CSV/TSV (see the module docstring)."""
    from kinresist.interpret.readers._textio import read_delimited

    p = Path(path)
    if not p.is_file():
        msg = "therapy file not found (check the path)"
        raise InputError(msg, path=p)
    header, table = read_delimited(p)
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        msg = f"therapy file lacks the column(s) {', '.join(missing)}; expected subject, drug, start, end"
        raise InputError(msg, path=p, line=1)
    unknown = [c for c in header if c not in _REQUIRED + _OPTIONAL]
    if unknown:
        msg = f"unknown therapy column(s) {', '.join(map(repr, unknown))}; known: {', '.join(_REQUIRED + _OPTIONAL)}"
        raise InputError(msg, path=p, line=1)
    rows = []
    for number, (line, cells) in enumerate(table, start=1):
        where = f"therapy row {number}"
        subject, drug = cells["subject"].strip(), cells["drug"].strip()
        if not subject or not drug:
            msg = f"{where}: empty subject or drug"
            raise InputError(msg, path=p, line=line)
        start = _date(cells["start"].strip(), column="start", path=p, line=line, where=where)
        if start is None:
            msg = f"{where}: empty start; every line needs a start date (end empty = ongoing)"
            raise InputError(msg, path=p, line=line, column="start")
        end = _date(cells["end"].strip(), column="end", path=p, line=line, where=where)
        if end is not None and end < start:
            msg = f"{where}: {drug} ends {end} before it starts {start}"
            raise InputError(msg, path=p, line=line, column="end")
        name, known = normalise_drug(drug)
        rows.append(
            TherapyLineRow(
                number=number,
                line=line,
                subject=subject,
                drug=name,
                start=start,
                end=end,
                best_response=(cells.get("best_response") or "").strip() or None,
                note=(cells.get("note") or "").strip(),
                known_drug=known,
            )
        )
    _check_overlaps(rows, p)
    return TherapyTable(p, tuple(rows))


def _check_overlaps(rows: Sequence[TherapyLineRow], path: Path) -> None:
    by_subject: dict[str, list[TherapyLineRow]] = {}
    for r in rows:
        by_subject.setdefault(r.subject, []).append(r)
    for lines in by_subject.values():
        lines.sort(key=lambda r: r.start)
        for a, b in itertools.pairwise(lines):
            if a.end is None or a.end > b.start:
                until = "is ongoing" if a.end is None else f"runs to {a.end}"
                msg = (
                    f"therapy rows {a.number} and {b.number} overlap: {a.drug} {until} but "
                    f"{b.drug} starts {b.start}; end the earlier line, or give a combination as "
                    "one line ('lorlatinib + crizotinib')"
                )
                raise InputError(msg, path=path, line=b.line)


@dataclass(frozen=True, slots=True)
class TherapySpan:
    """A therapy line as the timeline sees it."""

    number: int
    drug: str
    start: dt.date | None
    end: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.number,
            "drug": self.drug,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
        }


def current_line(lines: Sequence[TherapySpan], when: dt.date) -> TherapySpan | None:
    """The line active on ``when`` (``start <= when <= end``; on a switch day, the new line)."""
    best: TherapySpan | None = None
    for line in lines:
        if line.start is None or line.start > when or (line.end is not None and when > line.end):
            continue
        if best is None or best.start is None or line.start >= best.start:
            best = line
    return best


def next_change(lines: Sequence[TherapySpan], when: dt.date) -> dt.date | None:
    """The first therapy change after ``when``: the current line's end or a later line's start."""
    current = current_line(lines, when)
    dates = [line.start for line in lines if line.start is not None and line.start > when]
    if current is not None and current.end is not None:
        dates.append(current.end)
    return min(dates) if dates else None
