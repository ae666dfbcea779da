"""Human summaries of clinical results (``--format text``): rendering only, from the JSON body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kinresist.clinical._format import fmt_ci, fmt_p

if TYPE_CHECKING:
    from kinresist.core.result import Result

__all__ = ["response_text", "summary_text", "survival_text"]


def _num(v: Any) -> float | None:
    return None if v is None or v == "NR" else float(v)


def _ci(est: Any, ci: Any, *, scale: float = 1.0, digits: int = 1) -> str:
    """``est (lo–hi)`` from JSON values (numbers, ``"NR"`` or None)."""
    vals = [_num(v) for v in (est, ci[0], ci[1])]
    e, lo, hi = (None if v is None else scale * v for v in vals)
    return fmt_ci(e, lo, hi, digits)


def _survival_lines(body: dict[str, Any]) -> list[str]:
    unit = f" ({body['time_unit']})" if body.get("time_unit") else ""
    conf = round(100 * body["conf_level"])
    lines = [
        f"Kaplan-Meier{unit}: {conf}% CI, {body['conf_type']} transform; median CI "
        "Brookmeyer-Crowley; follow-up by reverse KM"
    ]
    width = max([len(str(g["group"])) for g in body["groups"]] + [5])
    lines.append(f"  {'group':<{width}}  {'n':>5}  {'events':>6}  median ({conf}% CI)    follow-up")
    for g in body["groups"]:
        med = _ci(g["median"], g["median_ci"])
        fu = _ci(g["follow_up_median"], g["follow_up_ci"])
        lines.append(f"  {g['group']!s:<{width}}  {g['n']:>5}  {g['events']:>6}  {med:<20} {fu}")
        for lm in g["landmarks"]:
            s = (
                "unknown (beyond follow-up)"
                if lm["surv"] is None
                else _ci(lm["surv"], lm["ci"], scale=100) + " %"
            )
            lines.append(f"  {'':<{width}}  S({lm['time']:g}) = {s}, at risk {lm['n_risk']}")
    lr = body.get("logrank")
    if lr:
        strat = f", stratified by {lr['stratified_by']}" if lr.get("stratified_by") else ""
        lines.append(
            f"Log-rank: chi2 = {lr['chi2']:.4f}, df {lr['df']}, p = {fmt_p(lr['p'])}{strat}"
        )
    cox = body.get("cox")
    if cox:
        what = f"Cox ({cox['method']}{', ' + cox['ci_method'] + ' CI' if cox['method'] == 'firth' else ''})"
        for t in cox["terms"]:
            lines.append(
                f"{what}: HR {t['term']} = {_ci(t['hr'], t['ci'], digits=2)}, p = {fmt_p(t['p'])}"
            )
        if cox["flags"]:
            lines.append(f"  flags: {', '.join(cox['flags'])}")
    return lines


def survival_text(result: Result) -> str:
    lines = [f"{result.workflow}: {result.body.get('endpoint', '')}"]
    split = result.body.get("split")
    if split:
        study = f" (study {split['study']})" if split.get("study") else ""
        lines.append(f"Groups from the store{study}: {split['rule']}")
    lines += _survival_lines(result.body)
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def response_text(result: Result) -> str:
    b = result.body
    conf = round(100 * b["conf_level"])
    lines = [f"{result.workflow}: by {b['grouped_by']}, N = {b['denominator']}, {b['ci_method']}"]
    for g in b["groups"]:
        parts = []
        for name in ("orr", "dcr"):
            p = g[name]
            parts.append(
                f"{name.upper()} NA"
                if p is None
                else f"{name.upper()} {p['k']}/{p['n']} {_ci(p['estimate'], p['ci'], scale=100)} %"
            )
        lines.append(f"  {g['group']}: " + "; ".join(parts) + f" ({conf}% CI)")
    d = b.get("orr_difference")
    if d:
        lines.append(
            f"ORR difference {d['comparison']}: "
            f"{_ci(d['difference'], d['ci'], scale=100)} points (Newcombe)"
        )
    f = b.get("fisher")
    if f:
        lines.append(
            f"Fisher exact {f['table']}: p = {fmt_p(f['p'])}, conditional OR {f['odds_ratio']} "
            f"({f['odds_ratio_ci'][0]}–{f['odds_ratio_ci'][1]})"
        )
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def summary_text(result: Result) -> str:
    import pandas as pd

    table = result.tables.get("summary")
    lines = [f"{result.workflow}: {result.body['endpoint']}, reference {result.body['reference']}"]
    if isinstance(table, pd.DataFrame):
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            lines.append(table.to_string(index=False))
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)
