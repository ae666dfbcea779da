"""Validation of survival inputs: times, event indicators and group labels.

Every public survival/response function validates its arrays here, so that bad values are
refused with the same message whether they come from a file (the reader passes the file's line
numbers and the column name) or from a caller's arrays (positions are reported as 0-based rows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kinresist.errors import InputError

__all__ = ["Where", "as_events", "as_groups", "as_times", "level_order"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_TRUE = {"1", "1.0", "true"}
_FALSE = {"0", "0.0", "false"}


@dataclass(frozen=True)
class Where:
    """Where the values come from: a file and its line numbers, or a caller's array."""

    column: str
    path: str | None = None
    lines: Sequence[int] | None = None

    def line(self, position: int) -> int | None:
        return None if self.lines is None else int(self.lines[position])

    def describe(self, position: int) -> str:
        """``"line 7"`` for a file, ``"row 5 (0-based)"`` for an array."""
        if self.lines is not None:
            return f"line {self.lines[position]}"
        return f"row {position} (0-based)"

    def error(self, message: str, position: int | None = None) -> InputError:
        line = None if position is None else self.line(position)
        if position is not None and self.lines is None:
            message = f"row {position} (0-based): {message}"
        return InputError(message, path=self.path, line=line, column=self.column)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in ("", "NA", "NaN", "nan", "N/A")


#: Longest follow-up read (1e9 days is 2.7 million years): above it, an overflow or unit error.
MAX_TIME = 1e9


def as_times(values: Any, where: Where | None = None) -> FloatArray:
    """Follow-up times as floats: present, finite and >= 0."""
    where = where or Where("time")
    raw = list(np.asarray(values, dtype=object).ravel())
    out = np.empty(len(raw), dtype=np.float64)
    for i, v in enumerate(raw):
        if _is_missing(v):
            msg = (
                "missing follow-up time; every patient needs a time to event or censoring "
                "(fill it in or remove the row)"
            )
            raise where.error(msg, i)
        try:
            t = float(str(v).strip()) if isinstance(v, str) else float(v)
        except (TypeError, ValueError):
            msg = f"follow-up time {v!r} is not a number; expected a time >= 0 (e.g. 12.4)"
            raise where.error(msg, i) from None
        if not math.isfinite(t):
            msg = f"follow-up time {v!r} is not finite; expected a time >= 0"
            raise where.error(msg, i)
        if t > MAX_TIME:
            msg = (
                f"follow-up time {v!r} is implausibly long (above {MAX_TIME:g} in any unit: "
                "days, weeks, months or years); an overflow or a unit error in the export"
            )
            raise where.error(msg, i)
        if t < 0:
            msg = (
                f"negative follow-up time {t:g}; times are measured from the start of follow-up "
                "(randomisation, treatment start) and must be >= 0 - check the dates it came from"
            )
            raise where.error(msg, i)
        out[i] = t
    return out


def as_events(values: Any, where: Where | None = None) -> IntArray:
    """Event indicators as 0/1: accepts 0/1 and TRUE/FALSE (any case), nothing else."""
    where = where or Where("event")
    raw = list(np.asarray(values, dtype=object).ravel())
    out = np.empty(len(raw), dtype=np.int64)
    for i, v in enumerate(raw):
        if isinstance(v, bool | np.bool_):
            out[i] = int(bool(v))
            continue
        if _is_missing(v):
            msg = "missing event indicator; expected 1 (event) or 0 (censored), or TRUE/FALSE"
            raise where.error(msg, i)
        text = str(v).strip().lower()
        if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
            text = repr(float(v)) if float(v) in (0.0, 1.0) else str(v)
        if text in _TRUE:
            out[i] = 1
        elif text in _FALSE:
            out[i] = 0
        else:
            hint = (
                " (R's survival::lung codes status 1 = censored, 2 = dead: recode to 0/1)"
                if text in ("2", "2.0")
                else ""
            )
            msg = f"event value {v!r} is not 0/1 or TRUE/FALSE; expected 1 = event, 0 = censored{hint}"
            raise where.error(msg, i)
    return out


def _natural_key(values: Sequence[str]) -> list[Any]:
    try:
        return [(float(v), v) for v in values]
    except ValueError:
        return [(math.inf, v) for v in values]


def level_order(labels: Sequence[str], levels: Sequence[str] | None = None) -> list[str]:
    """Group levels: ``levels`` when given (checked), else sorted (numerically when all numbers)."""
    present = [str(v) for v in dict.fromkeys(labels)]
    if levels is not None:
        levels = [str(v) for v in levels]
        unknown = [v for v in present if v not in levels]
        if unknown:
            msg = f"group values {unknown} are not among the declared levels {levels}"
            raise InputError(msg)
        return [v for v in levels if v in present]
    keys = _natural_key(present)
    return [v for _, v in sorted(keys)]


def as_groups(
    values: Any,
    where: Where | None = None,
    *,
    min_size: int = 2,
) -> npt.NDArray[np.str_]:
    """Group labels as strings; missing labels and groups smaller than ``min_size`` are refused."""
    where = where or Where("group")
    raw = list(np.asarray(values, dtype=object).ravel())
    out: list[str] = []
    for i, v in enumerate(raw):
        if _is_missing(v):
            msg = "missing group label; every patient needs a group (arm, biomarker class)"
            raise where.error(msg, i)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(str(v).strip())
    arr = np.asarray(out, dtype=str)
    if min_size > 1:
        labels, counts = np.unique(arr, return_counts=True)
        small = [(str(lab), int(c)) for lab, c in zip(labels, counts, strict=True) if c < min_size]
        if small:
            lab, c = small[0]
            pos = int(np.flatnonzero(arr == lab)[0])
            at = "" if where.lines is not None else f" ({where.describe(pos)})"
            msg = (
                f"group {lab!r} has {c} patient{'s' if c != 1 else ''}{at}; "
                f"each group needs at least {min_size} - check for a misspelt label "
                f"(groups: {sorted(set(out))})"
            )
            raise InputError(msg, path=where.path, line=where.line(pos), column=where.column)
    return arr
