"""Number formatting shared by the clinical tables (no statistics here)."""

from __future__ import annotations

import math

__all__ = ["NR", "fmt_ci", "fmt_num", "fmt_p", "json_num"]

#: How a median (or a CI limit) that the curve does not reach is written, as R/survminer print NA.
NR = "NR"


def fmt_num(value: float | None, digits: int = 1) -> str:
    """``270`` for whole numbers, else ``digits`` decimals; ``NR`` for None; ``Inf``/``NA``."""
    if value is None:
        return NR
    if math.isnan(value):
        return "NA"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}f}"


def fmt_ci(estimate: float | None, low: float | None, high: float | None, digits: int = 1) -> str:
    """``"270 (212–310)"``; limits that are not reached print as NR."""
    return f"{fmt_num(estimate, digits)} ({fmt_num(low, digits)}–{fmt_num(high, digits)})"


def fmt_p(p: float | None) -> str:
    """P values as journals print them: 3 significant digits, ``<0.001`` below 0.001."""
    if p is None or math.isnan(p):
        return "NA"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3g}" if p < 0.1 else f"{p:.2f}"


def json_num(value: float | None) -> float | str | None:
    """A median or CI limit for JSON: the number, or ``"NR"`` when not reached (None)."""
    return NR if value is None else float(value)
