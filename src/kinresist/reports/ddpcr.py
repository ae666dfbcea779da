"""HTML report and text summary of a ddPCR result (``ddpcr.analyze|recompute|clusters``).

Renders a :class:`~kinresist.ddpcr.result.DdpcrResult` (or any Result with the same body):
call tables from the result's own rows, the figures the result carries (inline SVG). Nothing
here computes a statistic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kinresist.reports.result import _Fig, figure_markup, render_page

if TYPE_CHECKING:
    from kinresist.core.result import Result

__all__ = ["ddpcr_text", "render_ddpcr"]

_TITLES = {
    "ddpcr.analyze": "ddPCR plate",
    "ddpcr.recompute": "ddPCR results recomputed",
    "ddpcr.clusters": "ddPCR cluster export",
}


def render_ddpcr(result: Result) -> str:
    """The self-contained HTML page of a ddPCR result."""
    body = result.body
    title = _TITLES.get(result.workflow, result.workflow)
    if body.get("plate"):
        title += f" {body['plate']}"
    figures = [_Fig(f.name, f.caption, figure_markup(f)) for f in result.figures]
    return render_page(
        "ddpcr.html.j2",
        title=title,
        envelope=result.envelope(),
        body=body,
        plate_figures=[f for f in figures if not f.name.startswith("scatter_")],
        scatters=[f for f in figures if f.name.startswith("scatter_")],
    )


def _num(v: Any, spec: str = ".3g") -> str:
    return "" if v is None else format(v, spec)


def _count(r: dict[str, Any]) -> str:
    """Positives, with the gating range when the thresholds' bootstrap range moves them."""
    p, lo, hi = r.get("positives"), r.get("positives_low"), r.get("positives_high")
    if p is None:
        return ""
    if lo is None or hi is None or lo == hi == p:
        return f"{p:d}"
    return f"{p:d} ({lo:d}-{hi:d})"


def ddpcr_text(result: Result) -> str:
    """A fixed-width summary: one line per well x channel (and per sample).

    The FA column is filled on mutant rows only: a wild-type / reference row is a
    concentration (its call text says copies/µL), never a fractional abundance. Positives show
    their gating range when the threshold's bootstrap range moves them; flags follow the call.
    """
    lines = [f"{result.workflow} (kinresist {result.provenance.kinresist_version})"]
    lines += [f"warning: {w}" for w in result.warnings]
    head = (
        f"{'well':7} {'ch':2} {'target':16} {'positives':>15} {'N':>6} {'copies/µL':>10} "
        f"{'95% CI':>19} {'FA %':>6}  call"
    )
    for name in ("samples", "wells"):
        rows = result.body.get(name) or []
        if not rows:
            continue
        lines += ["", f"{name}:", head]
        for r in rows:
            lo, hi = r.get("ci95_low"), r.get("ci95_high")
            ci = "" if lo is None or hi is None else f"[{lo:.3g}, {hi:.3g}]"
            label = str(r.get("sample") or r.get("well"))[:7] if name == "samples" else r["well"]
            reference = r.get("channel") != 1 or bool(r.get("wild_type"))
            fa = "" if reference else _num(r.get("fractional_abundance"))
            flags = str(r.get("flags") or "")
            lines.append(
                f"{label:7} {r['channel']:2} {str(r.get('target', ''))[:16]:16} "
                f"{_count(r):>15} {_num(r.get('accepted'), 'd'):>6} "
                f"{_num(r.get('copies_per_ul')):>10} {ci:>19} "
                f"{fa:>6}  {r.get('call_text', r.get('call'))}" + (f"  [{flags}]" if flags else "")
            )
    return "\n".join(lines)
