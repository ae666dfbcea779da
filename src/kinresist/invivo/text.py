"""Human summary of an ``invivo analyze`` result (formatting only; every number names its variant)."""

from __future__ import annotations

from typing import Any

__all__ = ["summary"]


def _f(v: Any, digits: int = 1) -> str:
    return "NA" if v is None else f"{v:.{digits}f}"


def _est(e: dict[str, Any] | None, digits: int = 1) -> str:
    if e is None or e.get("estimate") is None:
        return "NA"
    ci = ""
    if e.get("ci_low") is not None:
        ci = f" ({_f(e['ci_low'], digits)} to {_f(e['ci_high'], digits)})"
    return f"{_f(e['estimate'], digits)}{ci}"


def summary(result: Any) -> str:
    """One screen: arms at day D with every TGI variant, mixed model, synergy, endpoint."""
    b = result.body
    unit = b.get("unit") or ""
    lines = [
        f"invivo.analyze (kinresist {result.provenance.kinresist_version}): {b['design']} study, "
        f"{b['quantity']}{' (' + unit + ')' if unit else ''}, control {b['control']!r}",
    ]
    if b.get("formula"):
        lines.append(f"caliper formula: {b['formula']} = {b['formula_text']}")
    base = b["baseline"]
    lines.append(
        f"baseline: {base['rule']} ({base['description']}); day D = "
        f"{_f(b['day'], 0) if b['day'] is not None else 'per animal'} ({b['day_rule']})"
    )
    boot = b["bootstrap"]
    lines.append(
        f"CIs: {boot['ci_type']} bootstrap, {boot['n']} resamples stratified by arm, seed "
        f"{boot['seed']}, level {boot['level']}"
    )
    lines += [f"warning: {w}" for w in result.warnings]
    lines += [f"note: {n}" for n in b["notes"]]
    lines.append("")
    for arm, a in b["arms"].items():
        mr = a["mrecist"]
        mr_text = " ".join(f"{k}={v}" for k, v in mr.items() if v)
        if a["mean"] is None and a.get("median_best_response") is not None:
            size = (
                f"n={a['n_start']}, median best response {_f(a['median_best_response'])} %, "
                f"median best average response {_f(a['median_best_avg_response'])} %"
            )
        else:
            size = f"n={a['n']}/{a['n_start']}, mean {_f(a['mean'])} ± SEM {_f(a['sem'])}"
        lines.append(f"{arm}: {size}, mRECIST {mr_text or '-'}")
        if a.get("tgi_delta") is not None:
            lines.append(
                f"  tgi_delta {_est(a['tgi_delta'])} | tgi_rtv {_est(a['tgi_rtv'])} | "
                f"tgi_auc {_est(a['tgi_auc'])} | tgi_endpoint {_est(a['tgi_endpoint'])} %"
            )
            lines.append(
                f"  t_over_c {_est(a['t_over_c'])} % ({a['nci_activity'] or 'NA'}) | "
                f"tgi_xeva (ratio, for comparison) {_est(a['tgi_xeva'], 2)}"
            )
        if a.get("regression_pct") is not None:
            lines.append(f"  regression {_est(a['regression_pct'])} %")
    lmm = b.get("lmm")
    if lmm:
        lines.append("")
        lines.append(f"mixed model ({lmm['method']}, {lmm['model']}):")
        for arm, s in lmm["slopes"].items():
            lines.append(f"  {arm}: slope {s['estimate']:.6f} ± {s['se']:.6f} /day")
        lines.append(
            f"  random-slope variance {lmm['random_slope_variance']:.4g}, residual variance "
            f"{lmm['residual_variance']:.6f}, converged {lmm['converged']}"
        )
    syn = b.get("synergy")
    if syn:
        lines.append(f"in vivo synergy of {syn['combination']!r} ({syn['scale']}):")
        for name in ("bliss", "hsa", "response_additivity"):
            s = syn[name]
            lines.append(
                f"  {name}: contrast {s['contrast']:.6g} (SE {s['se']:.4g}), p {s['p']:.3g}: "
                f"{s['call']}"
            )
    ep = b.get("endpoint")
    if ep:
        lines.append(f"time to endpoint ({ep['threshold']:g}, {ep['interpolation']}):")
        for g in ep["km"]["groups"]:
            m = g["median"]
            med = f"{m:.1f}" if isinstance(m, int | float) else "NR"
            lines.append(f"  {g['group']}: n={g['n']}, events={g['events']}, median {med} days")
        for d in ep["growth_delay"]:
            lines.append(
                f"  growth delay {d['arm']}: {_f(d['tgd_days'])} days "
                f"({_f(d['tgd_pct'])} %){' - ' + d['note'] if d['note'] else ''}"
            )
    return "\n".join(lines)
