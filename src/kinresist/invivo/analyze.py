"""``invivo analyze``: one tumour-growth study -> :class:`kinresist.core.Result`.

Body (``schema_version`` 1.0; every number names its variant, see ``variants``)::

    design, quantity, unit, formula, control, day, day_rule, baseline{rule, day}, zero_rule,
    variants{name: definition}, bootstrap{n, seed, ci_type, level, stratified_by},
    arms{arm: {n, n_start, mean, sem, mean_v0, mean_rtv, sem_rtv,
               tgi_delta, tgi_rtv, tgi_auc, tgi_endpoint, tgi_xeva, t_over_c, t_over_c_rtv,
               regression_pct: {estimate, ci_low, ci_high} | null, nci_activity, mrecist{CR..NE}}},
    animals[{subject, arm, rtv_day, auc_delta_day, slope, doubling_time, best_response,
             best_avg_response, mrecist, ...}],
    lmm{model, method, slopes{arm: {estimate, se}}, random_slope_variance, residual_variance,
        converged, contrasts[...], adjust} | null,
    synergy{bliss|hsa|response_additivity: {contrast, se, p, ci_low, ci_high, score, ...}} | null,
    endpoint{threshold, km, logrank, logrank_vs_control, cox, growth_delay} | null,
    notes[...]

Group studies (several animals per arm) get everything; PDX sets (Xeva/PDXE tables, or a
``line`` column: one animal per line and treatment, unaligned days) get the per-model Gao 2015
metrics and their per-arm summary: TGI variants and the mixed model need a control group
measured on the same days, which such sets do not have (said in ``notes``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.invivo import _arms
from kinresist.invivo._json import records
from kinresist.invivo.data import FORMULAS, ZERO_RULES, GrowthData, ZeroRule, log_values
from kinresist.invivo.lmm import Adjust, Combination, parse_combination
from kinresist.invivo.metrics import Aligned, BaselineRule, align, per_animal
from kinresist.invivo.tgi import TGI_VARIANTS, CIType, arm_tgi

__all__ = ["SCHEMA_VERSION", "analyze_growth", "table_result"]

SCHEMA_VERSION = "1.0"
WORKFLOW = "invivo.analyze"


def _check_design(data: GrowthData, control: str, *, pdx: bool) -> list[str]:
    arms = data.arms
    if control not in arms:
        msg = (
            f"control arm {control!r} is not in the data; arms found: {arms} (names are case- "
            "and space-sensitive; pass one of them as --control)"
        )
        raise InputError(msg, path=data.source, column="arm")
    if pdx:
        return arms
    counts = data.table.groupby("arm")["subject"].nunique()
    for arm in arms:
        if counts[arm] < 2:
            subject = data.table.loc[data.table["arm"] == arm, "subject"].iloc[0]
            msg = (
                f"arm {arm!r} has one animal ({subject!r}); a group comparison needs at least "
                "two animals per arm (mean ± SEM, bootstrap, mixed model); drop the arm or, for "
                "a one-animal-per-model PDX set, give a line column (or use the xeva reader)"
            )
            raise InputError(
                msg, path=data.source, line=data.first_line_of(str(subject)), column="arm"
            )
    return arms


def _pick_day(
    aligned: Aligned, control: str, day: float | None, data: GrowthData
) -> tuple[float, str]:
    """Day D: a study day, or days since each animal's baseline under the ``first`` rule."""
    t = aligned.table
    col = "t" if aligned.rule == "first" else "day"
    what = "day since baseline" if col == "t" else "measurement day"
    if day is not None:
        days = sorted(float(d) for d in t[col].unique())
        if not any(math.isclose(day, d) for d in days):
            msg = f"day {day:g} is not a {what}; days measured: {[f'{d:g}' for d in days]}"
            raise InputError(msg, path=data.source, column="day")
        return float(day), "given"
    c = t[t["arm"] == control].groupby(col)["subject"].nunique()
    ok = c[c >= 2]
    if ok.empty:
        msg = (
            f"the control arm {control!r} never has two animals measured on the same {what}; "
            "give the analysis day explicitly (--day)"
        )
        raise InputError(msg, path=data.source, column="day")
    return float(ok.index.max()), f"last {what} with at least two control animals measured"


def analyze_growth(
    data: GrowthData,
    /,
    *,
    control: str,
    day: float | None = None,
    combination: str | Combination | None = None,
    baseline: BaselineRule = "auto",
    baseline_day: float | None = None,
    zero_rule: ZeroRule = "drop",
    min_time: float = 10.0,
    n_boot: int = 2000,
    ci_type: CIType = "percentile",
    level: float = 0.95,
    seed: int = 20250101,
    adjust: Adjust = "holm",
    endpoint: float | None = None,
    interpolate: bool = True,
    conf_type: str = "log",
    lmm: bool = True,
    include_baseline_rows: bool = False,
    synergy_over_time: bool = True,
    figures: bool = True,
    inputs: Mapping[str, Any] | None = None,
) -> Any:
    """Analyse a tumour-growth study (see the module docstring for the result body).

    Parameters
    ----------
    data
        The study, from :func:`kinresist.invivo.read_growth` or built directly.
    control
        The control (vehicle) arm.
    day
        Analysis day D (a study day as in the file; days since each animal's baseline under
        ``baseline="first"``); default: the last such day with at least two control animals
        measured.
    combination
        ``"A+B=A,B"``: the combination arm and its single-agent arms (enables in vivo synergy).
    baseline
        ``study`` (every animal's value on the study baseline day), ``first`` (each animal's
        first measurement) or ``auto`` (``first`` for PDX sets).
    zero_rule
        Log-scale treatment of zero volumes (``drop``, ``half_min``, ``log1p``, ``plus1``).
    n_boot, ci_type, level, seed
        Stratified bootstrap of the TGI variants (``percentile`` or ``bca``).
    adjust
        Multiplicity adjustment of the pairwise slope contrasts (holm, bonferroni, BH, none).
    endpoint, interpolate, conf_type
        Volume threshold for time to endpoint (None: not analysed), log-linear interpolation,
        KM CI transform (``log`` = R default, ``log-log``, ``plain``).
    """
    from kinresist.core import Provenance, Result

    if zero_rule not in ZERO_RULES:
        msg = f"unknown zero rule {zero_rule!r}; expected one of {sorted(ZERO_RULES)}"
        raise InputError(msg)
    if n_boot < 0:
        msg = f"n_boot must be ≥ 0, got {n_boot}"
        raise InputError(msg)
    pdx = data.has_lines or data.reader == "xeva"
    arms = _check_design(data, control, pdx=pdx)
    aligned = align(data, baseline=baseline, baseline_day=baseline_day)
    notes: list[str] = list(aligned.notes)
    if data.excluded:
        notes.append(
            f"{len(data.excluded)} animal(s) excluded by the file (TumGrowth Use column empty): "
            + ", ".join(data.excluded[:10])
        )
    flux = data.quantity == "flux"
    if flux:
        notes.append(
            "bioluminescence flux: analysed on the log scale (mixed model, slopes, geometric "
            "means); TGI variants, T/C and mRECIST are defined on volumes and are not reported"
        )
    if data.quantity == "area":
        notes.append("values are areas (L·W), not volumes: TGI variants are computed on areas")
    combo: Combination | None = None
    if combination is not None:
        combo = (
            combination
            if isinstance(combination, Combination)
            else parse_combination(combination, arms)
        )

    if pdx:
        d_day: float | None = day
        day_rule = "given" if day is not None else "per animal: whole series (PDX set)"
        if day is not None:
            d_day, day_rule = _pick_day(aligned, control, day, data)
    else:
        d_day, day_rule = _pick_day(aligned, control, day, data)
    animals = per_animal(aligned, day=d_day, zero_rule=zero_rule, min_time=min_time)
    if flux:
        animals["best_response"] = np.nan
        animals["best_avg_response"] = np.nan
        animals["mrecist"] = None
    # -- arms and TGI --------------------------------------------------------------------
    rng = np.random.default_rng(seed)
    samples = _arms.arm_samples(animals, arms)
    estimates = None
    if not pdx and not flux:
        for arm in arms:
            if samples[arm].n == 0:
                notes.append(f"arm {arm!r} has no animal measured on day {d_day:g}: no TGI")
        estimates = arm_tgi(samples, control, n_boot=n_boot, level=level, ci_type=ci_type, rng=rng)
    elif pdx:
        notes.append(
            "PDX set (one animal per line and treatment, unaligned days): per-model Gao 2015 "
            "metrics only; TGI variants and the mixed model need a control group measured on "
            "the same days"
        )
    arms_block, arms_table = _arms.arms_block(
        arms, control, animals, samples, estimates, at_day=d_day is not None
    )
    arms_table.insert(1, "day", np.nan if d_day is None else d_day)
    # -- curves --------------------------------------------------------------------------
    from kinresist.invivo.tgi import summary_by_day

    at = aligned.table
    pos = at.loc[at["value"] > 0, "value"]
    logv = log_values(
        at["value"].to_numpy(float), zero_rule, min_positive=float(pos.min()) if len(pos) else None
    )
    curves = summary_by_day(at, log_value=logv)
    order = {a: i for i, a in enumerate(arms)}
    curves = curves.sort_values(["arm", "t"], key=lambda s: s.map(order) if s.name == "arm" else s)
    curves = curves.reset_index(drop=True)
    # -- mixed model and synergy ------------------------------------------------------------
    lmm_block: dict[str, Any] | None = None
    synergy_block: dict[str, Any] | None = None
    tables: dict[str, pd.DataFrame] = {}
    warnings_out: list[str] = []
    if lmm and not pdx:
        from kinresist.invivo.lmm import contrasts, fit_lmm, lmm_synergy, synergy_by_day

        fit = fit_lmm(
            aligned, arms, zero_rule=zero_rule, include_baseline_rows=include_baseline_rows
        )
        notes += list(fit.notes)
        warnings_out += list(fit.warnings)
        con = contrasts(fit, adjust=adjust, level=level)
        lmm_block = {
            "model": "log(V_t/V_0) ~ 0 + Time:arm, random slope ~0 + Time | animal (SynergyLMM)",
            "method": "REML",
            "engine": "statsmodels MixedLM",
            "time": "days since baseline",
            "baseline_rows": "included" if include_baseline_rows else "excluded (as SynergyLMM)",
            "slopes": {
                a: {"estimate": float(b), "se": float(s)}
                for a, b, s in zip(fit.arms, fit.slopes, fit.se, strict=True)
            },
            "doubling_time": {
                a: (math.log(2) / float(b) if b > 0 else None)
                for a, b in zip(fit.arms, fit.slopes, strict=True)
            },
            "random_slope_variance": fit.random_slope_variance,
            "residual_variance": fit.residual_variance,
            "converged": fit.converged,
            "n_animals": fit.n_subjects,
            "n_observations": fit.n_obs,
            "loglik_reml": fit.llf,
            "adjust": adjust,
            "contrasts": records(con),
        }
        tables["lmm_slopes"] = pd.DataFrame(
            {
                "arm": list(fit.arms),
                "slope_per_day": fit.slopes,
                "se": fit.se,
                "doubling_time_days": [math.log(2) / b if b > 0 else np.nan for b in fit.slopes],
            }
        )
        tables["lmm_variance"] = pd.DataFrame(
            {
                "component": ["random-slope variance (per day²)", "residual variance (log scale)"],
                "value": [fit.random_slope_variance, fit.residual_variance],
            }
        )
        tables["lmm_contrasts"] = con
        if combo is not None:
            syn = lmm_synergy(fit, combo, control, level=level)
            synergy_block = {
                "combination": combo.arm,
                "agents": list(combo.agents),
                "scale": "log-RTV growth rates (mixed-model slopes); contrast < 0 = synergy",
                **{k: v.as_dict() for k, v in syn.items()},
            }
            tables["synergy"] = pd.DataFrame(
                [
                    {"model": k, **{c: v for c, v in d.items() if c != "combination_index_ci"}}
                    for k, d in ((k, v.as_dict()) for k, v in syn.items())
                ]
            )
            if synergy_over_time:
                sbd = synergy_by_day(
                    aligned,
                    arms,
                    combo,
                    control,
                    zero_rule=zero_rule,
                    include_baseline_rows=include_baseline_rows,
                    adjust=adjust,
                )
                tables["synergy_by_day"] = sbd
    elif combo is not None:
        notes.append("synergy needs the mixed model of a group study: not computed")
    slope_anova = None
    if not pdx:
        slope_anova = _arms.slope_anova(animals, arms)
        if slope_anova is not None:
            tables["slope_tukey"] = pd.DataFrame(slope_anova["tukey"])
    # -- time to endpoint ----------------------------------------------------------------------
    endpoint_block = None
    km = None
    if endpoint is not None:
        from kinresist.invivo.endpoint import endpoint_analysis

        counts = aligned.table.groupby("arm")["subject"].nunique()
        ep_arms = [a for a in arms if counts.get(a, 0) >= 2]
        dropped = [a for a in arms if a not in ep_arms]
        if dropped:
            notes.append(
                f"time to endpoint: arm(s) with fewer than two animals left out: {dropped}"
            )
        if control not in ep_arms:
            msg = "time to endpoint needs at least two animals in the control arm"
            raise InputError(msg, path=data.source, column="arm")
        sub = Aligned(
            aligned.table[aligned.table["arm"].isin(ep_arms)],
            aligned.rule,
            aligned.study_day,
            aligned.notes,
        )
        ep = endpoint_analysis(
            sub, ep_arms, control, endpoint, interpolate=interpolate, conf_type=conf_type
        )
        endpoint_block = ep.body()
        warnings_out += list(ep.warnings)
        km = ep.survival
        tables["endpoint_times"] = ep.times
        tables["growth_delay"] = ep.delay
        animals = animals.merge(
            ep.times[["subject", "time", "event"]].rename(
                columns={"time": "time_to_endpoint", "event": "endpoint_reached"}
            ),
            on="subject",
            how="left",
        )
    # -- result ----------------------------------------------------------------------------
    body: dict[str, Any] = {
        "design": "pdx" if pdx else "group",
        "reader": data.reader,
        "quantity": data.quantity,
        "unit": data.unit,
        "formula": data.formula,
        "formula_text": FORMULAS.get(data.formula) if data.formula else None,
        "control": control,
        "arms_order": list(arms),
        "day": d_day,
        "day_rule": day_rule,
        "baseline": {
            "rule": aligned.rule,
            "day": aligned.study_day,
            "description": {
                "study": "value on the study baseline day",
                "first": "each animal's first measurement (times re-zeroed per animal)",
                "xeva": "each animal's first measurement, times on the study clock (Xeva, Gao 2015)",
            }[aligned.rule],
        },
        "zero_rule": {"name": zero_rule, "description": ZERO_RULES[zero_rule]},
        "variants": dict(TGI_VARIANTS),
        "mrecist_rules": {
            "source": "Gao et al. 2015 Nat Med 21:1318, as Xeva mRECIST()",
            "min_time": min_time,
            "classes": "CR: BR < −95 and BAR < −40; PR: BR < −50 and BAR < −20; "
            "SD: BR < 35 and BAR < 30; else PD; NE: < 2 measurements at t ≥ min_time",
        },
        "bootstrap": {
            "n": n_boot,
            "seed": seed,
            "ci_type": ci_type,
            "level": level,
            "stratified_by": "arm (animals resampled within arm)",
        },
        "arms": arms_block,
        "animals": records(animals),
        "lmm": lmm_block,
        "slope_anova": slope_anova,
        "synergy": synergy_block,
        "endpoint": endpoint_block,
        "notes": notes,
    }
    method_rows = [
        ("day D", f"{d_day if d_day is not None else 'per animal'} ({day_rule})"),
        ("baseline", f"{aligned.rule}: {body['baseline']['description']}"),
        (
            "volume",
            f"{data.quantity}"
            + (
                f" by {data.formula}: {FORMULAS[data.formula]}"
                if data.formula
                else " as given in the file"
            ),
        ),
        ("zero rule (log scale)", f"{zero_rule}: {ZERO_RULES[zero_rule]}"),
        (
            "CI",
            f"{ci_type} bootstrap, {n_boot} resamples of animals within arm, seed {seed}, "
            f"level {level}",
        ),
        (
            "mRECIST",
            f"{body['mrecist_rules']['source']}, window t ≥ {min_time:g} d: "
            f"{body['mrecist_rules']['classes']}",
        ),
    ]
    variants = pd.DataFrame(
        [*method_rows, *TGI_VARIANTS.items()], columns=["quantity", "definition"]
    )
    tables = {"arms": arms_table, "definitions": variants, **tables}
    tables["animals"] = animals
    tables["curves"] = curves
    if notes:
        tables["notes"] = pd.DataFrame({"note": notes})
    params = {
        "control": control,
        "day": day,
        "combination": None if combo is None else str(combo),
        "baseline": baseline,
        "baseline_day": baseline_day,
        "zero_rule": zero_rule,
        "min_time": min_time,
        "n_boot": n_boot,
        "ci_type": ci_type,
        "level": level,
        "seed": seed,
        "adjust": adjust,
        "endpoint": endpoint,
        "interpolate": interpolate,
        "conf_type": conf_type,
        "lmm": lmm,
        "include_baseline_rows": include_baseline_rows,
        "formula": data.formula,
        "reader": data.reader,
    }
    if inputs is None:
        if data.source and Path(data.source).is_file():
            inputs = {"data": Path(data.source)}
        else:
            inputs = {"data": data.table.to_csv(index=False).encode()}
    result = Result(
        workflow=WORKFLOW,
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs=inputs, parameters=params),
        body=body,
        tables=tables,
        measurements=_arms.measurements(animals, d_day, data),
        warnings=warnings_out,
    )
    if figures:
        result.figures.extend(_arms.figures(aligned, curves, animals, arms, data, d_day, km, pdx))
    return result


def table_result(data: GrowthData, /, *, inputs: Mapping[str, Any] | None = None) -> Any:
    """``invivo table``: the study as the tidy long table, with what was read."""
    from kinresist.core import Provenance, Result

    t = data.table
    body = {
        "reader": data.reader,
        "quantity": data.quantity,
        "unit": data.unit,
        "formula": data.formula,
        "formula_text": FORMULAS.get(data.formula) if data.formula else None,
        "baseline_day": data.baseline_day,
        "arms": {a: int(t.loc[t["arm"] == a, "subject"].nunique()) for a in data.arms},
        "n_animals": len(data.subjects),
        "n_measurements": int(t["value"].notna().sum()),
        "days": [float(d) for d in data.days],
        "excluded_animals": list(data.excluded),
        "censored_at_last": sorted(data.censored_at_last),
    }
    if inputs is None:
        inputs = {"data": Path(data.source)} if data.source else {"data": t.to_csv().encode()}
    return Result(
        workflow="invivo.table",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs=inputs, parameters={"reader": data.reader, "formula": data.formula}
        ),
        body=body,
        tables={"growth": t},
    )
