"""Validation shared by the findings readers: physical constraints, empty files, duplicates.

* A file with a header but no records is refused: a truncated export and "the caller found
  nothing" look the same, and an empty call set is not evidence that a mechanism is absent
  (it used to be reported as "no resistance mechanism").
* Read counts are non-negative integers and alt reads never exceed the depth (alt reads > 0 at
  depth 0 is impossible, not "VAF unknown").
* Duplicate records (the same sample and allele twice): identical copies are kept once with a
  :class:`~kinresist.errors.DataQualityWarning` naming the lines (a concatenated or re-exported
  file); copies that disagree (different VAF or copy number) are refused, because no choice
  between them is honest. Documented in docs/reliability.md.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from pathlib import Path

from kinresist.errors import DataQualityWarning, InputError, warn

__all__ = ["Duplicates", "no_records", "parse_count"]


def no_records(path: Path, what: str) -> InputError:
    """The error of a file that has a header but no records."""
    msg = (
        f"the file has a header but no {what}: a truncated export, or a call set with nothing "
        "in it. An empty file is not evidence that nothing is there; leave it out (or pass the "
        "findings with --finding) instead"
    )
    return InputError(msg, path=path)


def parse_count(text: str, *, what: str, path: Path, line: int) -> int | None:
    """A read count cell: empty/``.``/``NA`` -> None; else a finite non-negative integer."""
    t = text.strip()
    if t in {"", ".", "NA", "na", "NaN", "nan"}:
        return None
    try:
        v = float(t)
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or v < 0 or v != int(v):
        msg = f"{what} {text!r} is not a non-negative whole number of reads"
        raise InputError(msg, path=path, line=line, column=what)
    return int(v)


class Duplicates:
    """Tracks records by key: identical repeats are dropped (one warning per file at
    :meth:`finish`), conflicting repeats raise an InputError naming both lines."""

    def __init__(self, path: Path, what: str = "record") -> None:
        self.path = path
        self.what = what
        self.first: dict[Hashable, tuple[int, Hashable]] = {}
        self.repeats: list[tuple[int, int]] = []

    def seen(self, key: Hashable, value: Hashable, *, line: int, describe: str) -> bool:
        """True when ``key`` was seen before with the same ``value`` (skip this copy)."""
        if key not in self.first:
            self.first[key] = (line, value)
            return False
        line0, value0 = self.first[key]
        if value0 != value:
            msg = (
                f"{describe} appears twice with different values (line {line0}: {value0}, "
                f"line {line}: {value}); keep the right one (e.g. bcftools norm -d exact for a VCF)"
            )
            raise InputError(msg, path=self.path, line=line)
        self.repeats.append((line0, line))
        return True

    def finish(self) -> None:
        """Warn once about the identical copies that were dropped."""
        if not self.repeats:
            return
        shown = ", ".join(f"line {b} = line {a}" for a, b in self.repeats[:5])
        more = f" and {len(self.repeats) - 5} more" if len(self.repeats) > 5 else ""
        warn(
            f"{self.path.name}: {len(self.repeats)} duplicate {self.what}(s) kept once "
            f"({shown}{more})",
            DataQualityWarning,
        )
