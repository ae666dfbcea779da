"""ALEX-style efficacy summary: one row per arm with PFS median (CI), HR (CI) vs the reference arm,
log-rank p, ORR (CI) and intracranial ORR (CI); subgroup hazard ratios for a forest plot.

The HR of each arm is from one Cox model of all arms (reference as named; Efron ties unless
told otherwise; Firth-penalised and flagged when an arm has no events). The p of each arm is the
log-rank test of that arm against the reference (stratified when strata are given), as trial
reports print it. Intracranial ORR is computed over the patients with a value in the intracranial
column (patients with measurable CNS disease); an empty cell means "not in that population".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kinresist.clinical._cox import CoxResult, FirthMode, Ties, cox_ph
from kinresist.clinical._format import fmt_ci, fmt_p
from kinresist.clinical._km import ConfType
from kinresist.clinical._logrank import logrank_test
from kinresist.clinical._validate import Where, as_events, as_groups, as_times, level_order
from kinresist.clinical.response import (
    Denominator,
    ProportionDifference,
    ResponseRates,
    orr_difference,
    response_rates_from_counts,
)
from kinresist.clinical.survival import SurvivalAnalysis, analyze_survival
from kinresist.errors import FitError, InputError, KinresistWarning

__all__ = ["EfficacySummary", "efficacy_summary", "subgroup_hazard_ratios"]


@dataclass(frozen=True, eq=False)
class EfficacySummary:
    """Arms x (PFS, HR, p, ORR, intracranial ORR) with the analyses behind each cell."""

    arms: tuple[str, ...]
    reference: str
    survival: SurvivalAnalysis
    pairwise_logrank: Mapping[str, float]
    response: Mapping[str, ResponseRates]
    intracranial: Mapping[str, ResponseRates]
    orr_differences: Mapping[str, ProportionDifference]
    subgroups: pd.DataFrame | None
    endpoint: str = "PFS"
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def numeric_table(self) -> pd.DataFrame:
        cox = self.survival.cox
        terms = {} if cox is None else {t.level: t for t in cox.terms if t.level is not None}
        medians = self.survival.km.medians()
        rows = []
        for arm in self.arms:
            c = self.survival.km[arm]
            m = medians[arm]
            t = terms.get(arm)
            r = self.response.get(arm)
            ic = self.intracranial.get(arm)
            rows.append(
                {
                    "arm": arm,
                    "n": c.n,
                    "events": c.events,
                    "median": m.estimate,
                    "median_lower": m.lower,
                    "median_upper": m.upper,
                    "hr": None if t is None else t.hr,
                    "hr_lower": None if t is None else t.ci_low,
                    "hr_upper": None if t is None else t.ci_high,
                    "hr_method": None if (cox is None or arm == self.reference) else cox.method,
                    "p_logrank": self.pairwise_logrank.get(arm),
                    "orr": None if r is None or r.orr is None else r.orr.estimate,
                    "orr_lower": None if r is None or r.orr is None else r.orr.ci_low,
                    "orr_upper": None if r is None or r.orr is None else r.orr.ci_high,
                    "orr_n": None if r is None else r.n,
                    "ic_orr": None if ic is None or ic.orr is None else ic.orr.estimate,
                    "ic_orr_lower": None if ic is None or ic.orr is None else ic.orr.ci_low,
                    "ic_orr_upper": None if ic is None or ic.orr is None else ic.orr.ci_high,
                    "ic_n": None if ic is None else ic.n,
                }
            )
        return pd.DataFrame(rows)

    def table(self, *, digits: int = 1) -> pd.DataFrame:
        """The formatted summary (text cells, as a trial report's table)."""
        cox = self.survival.cox
        num = self.numeric_table()
        conf = round(self.survival.km.conf_level * 100)
        unit = f", {self.survival.time_unit}" if self.survival.time_unit else ""
        out = []
        for _, r in num.iterrows():
            arm = r["arm"]
            if arm == self.reference:
                hr_text, p_text = "reference", ""
            elif cox is None or r["hr"] is None or _nan(r["hr"]):
                hr_text, p_text = "not estimable", fmt_p(_opt(r["p_logrank"]))
            else:
                hr_text = fmt_ci(r["hr"], _opt(r["hr_lower"]), _opt(r["hr_upper"]), 2)
                if cox.method == "firth":
                    hr_text += " (Firth)"
                p_text = fmt_p(_opt(r["p_logrank"]))
            row = {
                "arm": arm,
                "n": int(r["n"]),
                f"{self.endpoint} events": int(r["events"]),
                f"median {self.endpoint} ({conf}% CI{unit})": fmt_ci(
                    _opt(r["median"]), _opt(r["median_lower"]), _opt(r["median_upper"]), digits
                ),
                f"HR ({conf}% CI)": hr_text,
                "p (log-rank)": p_text,
            }
            resp = self.response.get(arm)
            if self.response:
                row[f"ORR ({conf}% CI)"] = (
                    "NA"
                    if resp is None or resp.orr is None
                    else f"{resp.orr.k}/{resp.orr.n}, {resp.orr.text(digits)}"
                )
            ic = self.intracranial.get(arm)
            if self.intracranial:
                row[f"intracranial ORR ({conf}% CI)"] = (
                    "NA"
                    if ic is None or ic.orr is None
                    else f"{ic.orr.k}/{ic.orr.n}, {ic.orr.text(digits)}"
                )
            out.append(row)
        return pd.DataFrame(out)

    def body(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "reference": self.reference,
            "arms": [
                {
                    **{k: _json(v) for k, v in row.items()},
                    "response": (
                        None
                        if row["arm"] not in self.response
                        else self.response[row["arm"]].to_dict()
                    ),
                    "intracranial_response": (
                        None
                        if row["arm"] not in self.intracranial
                        else self.intracranial[row["arm"]].to_dict()
                    ),
                    "orr_difference_vs_reference": (
                        None
                        if row["arm"] not in self.orr_differences
                        else self.orr_differences[row["arm"]].to_dict()
                    ),
                }
                for row in self.numeric_table().to_dict("records")
            ],
            "survival": self.survival.body(),
            "subgroups": None
            if self.subgroups is None
            else [{k: _json(v) for k, v in r.items()} for r in self.subgroups.to_dict("records")],
        }


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _opt(v: Any) -> float | None:
    return None if v is None or _nan(v) else float(v)


def _json(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _cox_quiet(**kwargs: Any) -> tuple[CoxResult | None, list[str]]:
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KinresistWarning)
        try:
            res: CoxResult | None = cox_ph(**kwargs)
        except FitError as exc:
            res = None
            notes.append(str(exc))
    notes += [str(w.message) for w in caught if issubclass(w.category, KinresistWarning)]
    return res, notes


def subgroup_hazard_ratios(
    time: Any,
    event: Any,
    arm: Any,
    subgroups: Mapping[str, Sequence[Any]],
    *,
    reference: str,
    ties: Ties = "efron",
    alpha: float = 0.05,
    firth: FirthMode = "auto",
) -> pd.DataFrame:
    """HR of the non-reference arm vs ``reference`` overall and within each subgroup level.

    Needs exactly two arms. A level where an arm has no patients gives no estimate (flagged
    ``not_estimable``); an arm without events gives a Firth estimate (flagged).
    """
    t = as_times(time)
    e = as_events(event)
    a = as_groups(arm, min_size=1)
    arms = level_order(list(a))
    if len(arms) != 2 or reference not in arms:
        msg = f"subgroup hazard ratios need two arms including the reference {reference!r}; got {arms}"
        raise FitError(msg)
    other = next(x for x in arms if x != reference)
    specs: list[tuple[str, str, np.ndarray]] = [("All patients", "", np.ones(t.size, dtype=bool))]
    for name, values in subgroups.items():
        labels = np.array(["" if v is None else str(v).strip() for v in values], dtype=object)
        for level in level_order([v for v in labels if v not in ("", "nan", "NA")]):
            specs.append((name, level, labels == level))
    rows = []
    for name, level, mask in specs:
        sub_a = a[mask]
        counts = {x: int((sub_a == x).sum()) for x in arms}
        events = {x: int(e[mask][sub_a == x].sum()) for x in arms}
        row: dict[str, Any] = {
            "subgroup": name,
            "level": level,
            "n": int(mask.sum()),
            f"n_{reference}": counts[reference],
            f"n_{other}": counts[other],
            f"events_{reference}": events[reference],
            f"events_{other}": events[other],
            "hr": None,
            "ci_low": None,
            "ci_high": None,
            "p": None,
            "method": None,
            "flags": "",
        }
        if min(counts.values()) == 0 or sum(events.values()) == 0:
            row["flags"] = "not_estimable"
            rows.append(row)
            continue
        res, _notes = _cox_quiet(
            time=t[mask],
            event=e[mask],
            group=sub_a,
            reference=reference,
            ties=ties,
            alpha=alpha,
            firth=firth,
            min_group_size=1,
        )
        if res is None or res.main is None:
            row["flags"] = "not_estimable"
        else:
            m = res.main
            row.update(
                hr=m.hr,
                ci_low=m.ci_low,
                ci_high=m.ci_high,
                p=m.p,
                method=res.method,
                flags=";".join(res.flags),
            )
        rows.append(row)
    return pd.DataFrame(rows)


def efficacy_summary(
    time: Any,
    event: Any,
    arm: Any,
    *,
    reference: str | None = None,
    strata: Any = None,
    best_response: Sequence[str | None] | None = None,
    intracranial_response: Sequence[str | None] | None = None,
    subgroups: Mapping[str, Sequence[Any]] | None = None,
    conf_type: ConfType = "log",
    ties: Ties = "efron",
    alpha: float = 0.05,
    denominator: Denominator = "evaluable",
    time_unit: str = "months",
    landmarks: Sequence[float] = (),
    endpoint: str = "PFS",
    firth: FirthMode = "auto",
    arm_where: Where | None = None,
    strata_where: Where | None = None,
) -> EfficacySummary:
    """The per-arm summary table of a trial from patient-level data.

    ``best_response``/``intracranial_response`` hold one code per patient (CR, PR, SD,
    NON-CR/NON-PD, PD, NE; None = not in that population, e.g. no measurable CNS disease).
    ``subgroups`` maps a subgroup name to one label per patient (forest plot; two arms only).
    """
    aw = arm_where or Where("arm")
    labels = as_groups(arm, aw, min_size=2)
    arms = level_order(list(labels))
    ref = arms[0] if reference is None else str(reference)
    if ref not in arms:
        msg = f"reference arm {ref!r} is not among the arms {arms} of column {aw.column!r}"
        raise InputError(msg, path=aw.path, column=aw.column)
    t = as_times(time)
    e = as_events(event)
    survival = analyze_survival(
        t,
        e,
        group=labels,
        strata=strata,
        reference=ref,
        conf_type=conf_type,
        ties=ties,
        alpha=alpha,
        landmarks=landmarks,
        time_unit=time_unit,
        firth=firth,
        group_where=aw,
        strata_where=strata_where,
    )
    s = None if strata is None else np.asarray([str(v) for v in strata], dtype=object)
    pairwise: dict[str, float] = {}
    for a in arms:
        if a == ref:
            continue
        m = (labels == a) | (labels == ref)
        lr = logrank_test(
            t[m], e[m], labels[m], strata=None if s is None else s[m], min_group_size=1
        )
        pairwise[a] = lr.p
    response: dict[str, ResponseRates] = {}
    intracranial: dict[str, ResponseRates] = {}
    for values, target in ((best_response, response), (intracranial_response, intracranial)):
        if values is None:
            continue
        if len(values) != t.size:
            msg = f"responses have {len(values)} values but there are {t.size} patients"
            raise InputError(msg)
        for a in arms:
            codes = [v for v, lab in zip(values, labels, strict=True) if lab == a and v is not None]
            counts = {c: codes.count(c) for c in set(codes)}
            target[a] = response_rates_from_counts(
                counts, denominator=denominator, alpha=alpha, label=a
            )
    diffs: dict[str, ProportionDifference] = {}
    ref_rr = response.get(ref)
    if ref_rr is not None and ref_rr.orr is not None:
        for a, rr in response.items():
            if a != ref and rr.orr is not None:
                diffs[a] = orr_difference(
                    rr.orr.k, rr.orr.n, ref_rr.orr.k, ref_rr.orr.n, alpha=alpha
                )
    notes = list(survival.warnings)
    sub_table = None
    if subgroups:
        if len(arms) == 2:
            sub_table = subgroup_hazard_ratios(
                t, e, labels, subgroups, reference=ref, ties=ties, alpha=alpha, firth=firth
            )
        else:
            notes.append("subgroup hazard ratios need exactly two arms; not computed")
    return EfficacySummary(
        arms=tuple(arms),
        reference=ref,
        survival=survival,
        pairwise_logrank=pairwise,
        response=response,
        intracranial=intracranial,
        orr_differences=diffs,
        subgroups=sub_table,
        endpoint=endpoint,
        warnings=tuple(notes),
    )
