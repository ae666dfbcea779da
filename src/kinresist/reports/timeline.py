"""Reports of the monitoring workflows: the timeline page, terminal summaries, the workbench index.

* :func:`render` / :func:`text` - the ``timeline`` result (HTML page with the plotly figure and
  the bundled plotly.js; a terminal summary).
* :func:`render_import` / :func:`import_text` - the ``study.import`` result.
* :func:`lineage_text` - the ``lineage.show`` result.
* :func:`render_index` - the demo's one-page index linking every report.

Everything here renders numbers the library computed; nothing is computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kinresist.reports.result import figure_markup, render_page, render_result, table_html

if TYPE_CHECKING:
    from kinresist.core.result import Result

__all__ = ["import_text", "lineage_text", "render", "render_import", "render_index", "text"]

_KEY_DRUGS = ("crizotinib", "ceritinib", "alectinib", "brigatinib", "lorlatinib")
_QC_KEYS = ("tube", "hours_to_processing", "haploid_genome_equivalents", "theoretical_lod_percent")


def _num(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    return f"{float(v):.{digits}g}"


def _ci(p: Mapping[str, Any]) -> str:
    if p.get("ci_low") is None or p.get("ci_high") is None:
        return "–"
    return f"{_num(p['ci_low'])}–{_num(p['ci_high'])}"


def _lab_sentence(r: Mapping[str, Any]) -> str:
    ic50 = f"IC50 {_num(r['ic50'])} {r['unit']}"
    if r.get("ci_low") is not None and r.get("ci_high") is not None:
        ic50 += f" (95% CI {_num(r['ci_low'])}–{_num(r['ci_high'])})"
    if r.get("fold_shift") is None:
        return f"{r['line']} ({r['sample']}) × {r['drug']}: {ic50}; no fold shift in that run"
    return (
        f"{r['line']} ({r['sample']}) × {r['drug']}: {ic50}, {_num(r['fold_shift'])}-fold "
        f"{r['reference_line']} (95% CI {_num(r['fold_ci_low'])}–{_num(r['fold_ci_high'])}, "
        f"{r['fold_ci_method']})"
    )


def _ensure_figure(result: Result) -> Any:
    fig = next((f for f in result.figures if f.plotly is not None), None)
    if fig is None:
        from kinresist.monitoring.plots import add_timeline_figure

        add_timeline_figure(result)
        fig = next(f for f in result.figures if f.plotly is not None)
    return fig


def render(result: Result, *, title: str | None = None) -> str:
    """The timeline page (extends ``base.html.j2``)."""
    body = result.body
    fig = _ensure_figure(result)
    alterations = [
        {
            **alt,
            "rows": [{**p, "ci": _ci(p), "lod_text": _num(p["lod"])} for p in alt["series"]],
            "lab_sentences": [_lab_sentence(r) for r in alt["lab"]],
        }
        for alt in body["alterations"]
    ]
    draws = []
    for d in body["draws"]:
        interp = d["interpretation"]
        calls = [
            c
            for c in interp.get("drugs", [])
            if c["drug"] in _KEY_DRUGS or c["call"] == "resistant"
        ]
        qc = dict.fromkeys(_QC_KEYS) | dict(d.get("plasma_qc") or {})
        draws.append({**d, "calls": calls, "qc": qc})
    return render_page(
        "timeline.html.j2",
        title=title or f"Timeline: {body['subject']}",
        envelope=result.envelope(),
        body=body,
        figure=figure_markup(fig),
        caption=fig.caption,
        alterations=alterations,
        draws=draws,
        num=_num,
    )


def text(result: Result) -> str:
    """A terminal summary: therapy, each alteration's values per draw, alerts."""
    b = result.body
    lines = [
        f"{b['subject']} ({b['study']}): {len(b['draws'])} draws, {len(b['alterations'])} "
        f"alterations, {len(b['alerts'])} alerts"
    ]
    lines += [f"warning: {w}" for w in result.warnings]
    for t in b["therapy"]:
        lines.append(f"  line {t['line']}: {t['drug']} {t['start']} to {t['end'] or 'ongoing'}")
    for alt in b["alterations"]:
        lines.append(alt["alteration"])
        for p in alt["series"]:
            depth = f", depth {p['depth']}" if p["depth"] is not None else ""
            lines.append(
                f"  {p['collected']:<16} {p['sample']:<14} {p['assay']:<6} {p['display']}{depth}"
            )
        lines += [f"  lab: {_lab_sentence(r)}" for r in alt["lab"]]
    for a in b["alerts"]:
        lines.append(f"ALERT {a['kind']} {a['collected']} {a['sample']}: {a['reason']}")
    return "\n".join(lines)


def import_text(result: Result) -> str:
    """What a study import recorded."""
    b = result.body
    lines = [
        f"imported {len(b['rows'])} rows ({b['samples']} samples) of {b['manifest']} into study "
        f"{b['study']!r} in one transaction"
    ]
    lines += [f"warning: {w}" for w in result.warnings]
    for r in b["rows"]:
        lines.append(
            f"  row {r['row']}: {r['subject']} {r['sample']} {r['assay']} -> run {r['run_id']} "
            f"({r['measurements']} measurements, {r['findings']} findings)"
        )
    for q in b["plasma_qc"]:
        lod = q["theoretical_lod_percent"]
        ge = q["haploid_genome_equivalents"]
        lines.append(
            f"  QC {q['sample']}: tube {q['tube'] or '?'}, {_num(q['hours_to_processing'])} h, "
            f"{_num(ge, 4)} GE, theoretical LoD {_num(lod)} %"
            + (f", FLAGS {', '.join(q['flags'])}" if q["flags"] else "")
        )
    for t in b["therapy"]:
        lines.append(
            f"  therapy {t['subject']} line {t['line']}: {t['drug']} {t['start']} to "
            f"{t['end'] or 'ongoing'} ({t['status']})"
        )
    return "\n".join(lines)


def render_import(result: Result) -> str:
    """The study import as a generic result page (rows, plasma QC)."""
    return render_result(result, title=f"Study import: {result.body['study']}")


def lineage_text(result: Result) -> str:
    """A line's history as text."""
    b = result.body
    lines = [f"{b['line']} ({b['study']}): {' -> '.join(b['ancestry'])}"]
    lines += [f"warning: {w}" for w in result.warnings]
    for e in b["events"]:
        dose = (
            f" {e['drug']} {e['dose_as_given'] or _num(e['dose_nm']) + ' nM'}" if e["drug"] else ""
        )
        passage = f" p{e['passage']}" if e["passage"] is not None else ""
        lines.append(f"  {e['date'] or '?':<10} {e['event']}{dose}{passage} {e['note']}".rstrip())
    for r in b["characterisations"]:
        lines.append(f"  IC50 {r['collected'] or '?'}: {_lab_sentence(r)}")
    if b["derived"]:
        lines.append("  derived: " + ", ".join(f"{d['line']} ({d['event']})" for d in b["derived"]))
    for a in b["sequenced_alterations"]:
        lines.append(
            f"  sequenced {a['collected'] or '?'} {a['sample']}: {a['alteration']} "
            f"({a['assay']} {_num(a['value'])} {a['unit']})"
        )
    if b["declared_genotype"]:
        lines.append("  genotype declared to dose runs: " + ", ".join(b["declared_genotype"]))
    return "\n".join(lines)


def render_index(
    *,
    title: str,
    links: Sequence[Mapping[str, str]],
    alerts: Sequence[Mapping[str, Any]] = (),
    summary: Sequence[str] = (),
    tables: Mapping[str, Any] | None = None,
) -> str:
    """The workbench index: one page linking every report (``links``: href, title, note and an
    optional section; the links of a section are listed together, sections in first-seen order)."""
    shown = [(name, table_html(frame)) for name, frame in (tables or {}).items()]
    sections: dict[str, list[Mapping[str, str]]] = {}
    for link in links:
        sections.setdefault(link.get("section", ""), []).append(link)
    return render_page(
        "workbench_index.html.j2",
        title=title,
        sections=list(sections.items()),
        alerts=list(alerts),
        summary=list(summary),
        tables=shown,
    )
