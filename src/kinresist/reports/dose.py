"""Dose-response report: renders a ``dose.*`` :class:`~kinresist.core.Result` (computes nothing)."""

from __future__ import annotations

from typing import Any

import numpy as np

from kinresist.core.result import Result
from kinresist.reports.result import _Fig, figure_markup, render_page, render_result

__all__ = ["render", "text"]


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{v:.{digits}g}" if np.isfinite(v) else "n/a"


def render(result: Result, *, title: str | None = None) -> str:
    """The HTML report of a dose result (plate/fit/compare pages; other dose results: generic)."""
    b = result.body
    if "fits" not in b:
        return render_result(result, title=title, sentences=b.get("summary", []))
    figures = [_Fig(f.name, f.caption, figure_markup(f)) for f in result.figures]
    return render_page(
        "dose_report.html.j2",
        title=title or "Dose-response report",
        envelope=result.envelope(),
        fmt=_fmt,
        model=b.get("model") or (b["fits"][0]["model"] if b["fits"] else ""),
        se_method=b.get("se_method"),
        ci_pct=round(100 * float(b.get("ci_level", 0.95))),
        unit=b.get("dose_unit") or "dose units",
        sentences=b.get("summary", []),
        qc=b.get("qc", []),
        fits=b["fits"],
        comparisons=b.get("comparisons", []),
        figures=figures,
        shared=b.get("shared", []),
        kill_as_zero=b.get("kill_as_zero", False),
    )


def text(result: Result) -> str:
    """A terminal summary: the sentences, then one line per curve (IC50 with CI, status)."""
    b = result.body
    lines = list(b.get("summary", []))
    lines += [f"warning: {w}" for w in result.warnings]
    for q in b.get("qc", []):
        lines.append(
            f"plate {q['plate']}: Z' {_fmt(q['z_prime'], 2)}, vehicle CV {_fmt(q['vehicle_cv'], 2)} %, "
            f"{q['n_vehicle']} vehicle / {q['n_blank']} blank / {q['n_positive']} positive wells"
            + (f" [{', '.join(q['flags'])}]" if q.get("flags") else "")
        )
    unit = b.get("dose_unit") or ""
    for f in b.get("fits", []):
        e = f["ed50"]
        lines.append(
            f"{f['group']}: IC50 {_fmt(e['estimate'])} {unit} (95% CI {_fmt(e['ci_low'])}–"
            f"{_fmt(e['ci_high'])}), {f['model']}, {f['status']}"
            + (f" [{', '.join(f['flags'])}]" if f["flags"] else "")
        )
    for c in b.get("comparisons", []):
        for r in c["ratios"]:
            lines.append(
                f"{c['panel']}: {r['numerator']}/{r['denominator']} fold shift {_fmt(r['estimate'])}"
            )
    if not lines:
        frame = result.primary_table
        lines.append(frame.to_string(index=False, max_rows=200))
    return "\n".join(lines)
