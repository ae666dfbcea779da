"""HTML reports and text summaries of the sequencing workflows (``ngs.call``, ``ngs.cnv``,
``ngs.align``). They render the Result (its rows and the figures it carries); nothing here
computes a statistic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kinresist.reports.result import _Fig, figure_markup, render_page, render_result

if TYPE_CHECKING:
    from kinresist.core.result import Result

__all__ = ["align_text", "calls_text", "cnv_text", "render_calls", "render_cnv"]


def render_calls(result: Result) -> str:
    """The self-contained HTML page of an ``ngs.call`` result."""
    figures = [_Fig(f.name, f.caption, figure_markup(f)) for f in result.figures]
    return render_page(
        "ngs_calls.html.j2",
        title=f"Liquid-biopsy sequencing: {result.body.get('sample_name', '')}",
        envelope=result.envelope(),
        p=result.body,
        params=result.provenance.parameters,
        figures=figures,
    )


def render_cnv(result: Result) -> str:
    """The HTML page of an ``ngs.cnv`` result (the gene table and measurements)."""
    sentences = [
        f"{g['gene']}: {g['call']} (log2 {g['log2']:+.3f}, CN {g['copy_number']:.1f})"
        for g in result.body.get("genes", [])
        if g.get("log2") is not None and g.get("copy_number") is not None
    ]
    return render_result(result, title="Gene copy number", sentences=sentences)


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}%"


def _lod_note(r: dict[str, Any]) -> str:
    """Which LoD the line shows, and what a call below it means."""
    lod, af = r.get("lod"), r.get("af")
    depth = r.get("depth_molecules")
    tier = "hotspot tier" if r.get("hotspot") else "genome-wide tier"
    text = f"LoD95 {_pct(lod)} for this allele at its {depth:,} molecules ({tier})"
    if lod is not None and af is not None and af < lod:
        text += (
            "; the call lies below it: detected, but an allele at this VAF and depth is found "
            "in fewer than 95 % of runs - a negative repeat would not refute it"
        )
    return text


def calls_text(result: Result) -> str:
    """One line per PASS call (VAF, molecules, 95 % CI), then its LoD: the call's own LoD95 -
    the VAF detected with 95 % probability at that allele's molecule depth and calling tier,
    not a panel-wide or reference-sample figure - then the warnings."""
    calls = result.body.get("calls", [])
    passed = [c for c in calls if c.get("filter") == "PASS"]
    lines = [f"{len(passed)} PASS call(s) of {len(calls)} tested alleles"]
    for r in passed:
        lo, hi = r.get("af_ci_low"), r.get("af_ci_high")
        ci = "" if lo is None or hi is None else f", 95% CI {_pct(lo)}-{_pct(hi)}"
        lines.append(
            f"  {r['gene']} {r['alteration']}  VAF {_pct(r['af'])} ({r['alt_molecules']}/"
            f"{r['depth_molecules']} molecules{ci})"
        )
        lines.append(f"      {_lod_note(r)}")
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def cnv_text(result: Result) -> str:
    """A gene table: log2 ratio with its CI, copy number and call."""
    lines = [f"{'gene':8} {'log2':>7} {'CI95':>17} {'CN':>6}  call"]
    for g in result.body.get("genes", []):
        log2, lo, hi, cn = (g.get(k) for k in ("log2", "ci_low", "ci_high", "copy_number"))
        ci = "" if lo is None or hi is None else f"[{lo:+7.3f},{hi:+7.3f}]"
        lines.append(
            f"{g['gene']:8} {'' if log2 is None else f'{log2:+7.3f}':>7} {ci:>17} "
            f"{'' if cn is None else f'{cn:6.1f}':>6}  {g['call']}"
        )
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def align_text(result: Result) -> str:
    """One line: the BAM and its record counts."""
    b = result.body
    return (
        f"{b['bam']}: {b['records']:,} records, {b['mapped']:,} mapped, {b['umi_tagged']:,} with "
        f"RX ({b['reads_in']:,} reads in, {b['reads_after_trimming']:,} after trimming)"
    )
