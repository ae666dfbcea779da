"""File-level entry points of ``kinresist clinical ...``: read a patient table, run the engine,
return a :class:`kinresist.core.Result` (bodies documented in docs/clinical.md, schema 1.0).

* :func:`run_survival` -> ``clinical.survival``: body ``groups[]`` (``median``, ``median_ci``,
  follow-up, landmarks), ``logrank`` (``chi2``, ``p``), ``cox`` (``hr``, ``ci``, ``p``,
  ``method``), ``risk_table``; tables groups, landmarks, risk_table, logrank, cox, curves.
* :func:`run_response` -> ``clinical.response``: ORR/DCR per group, ORR difference, Fisher.
* :func:`run_summary` -> ``clinical.summary``: the ALEX-style arm table, KM and forest plots.

With a patient-id column, every patient's time to event and objective response are also
:class:`~kinresist.core.Measurement` rows (subject = the patient), for the store.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kinresist.clinical._km import check_conf_type
from kinresist.clinical._validate import Where, level_order
from kinresist.clinical.readers import PatientTable, read_patient_table
from kinresist.clinical.response import (
    Denominator,
    ProportionMethod,
    ResponseRates,
    fisher_exact,
    orr_difference,
    response_rates_from_counts,
)
from kinresist.clinical.survival import FirthMode, SurvivalAnalysis, Ties, analyze_survival
from kinresist.core import Figure, Measurement, Provenance, Result
from kinresist.errors import InputError

if TYPE_CHECKING:
    from kinresist.clinical.store_split import AlterationSplit
    from kinresist.store.api import Store

__all__ = ["SCHEMA_VERSION", "run_response", "run_summary", "run_survival"]

SCHEMA_VERSION = "1.0"
ASSAY = "clinical"


def _alpha(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        msg = f"confidence level {conf_level!r} must be between 0 and 1 (e.g. 0.95)"
        raise InputError(msg)
    return 1 - conf_level


def _times_list(text: str | Sequence[float] | None, what: str) -> list[float] | None:
    if text is None:
        return None
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        try:
            v = float(item)
        except (TypeError, ValueError):
            msg = f"{what} {item!r} is not a number; give times like 0,6,12,18"
            raise InputError(msg) from None
        if not math.isfinite(v) or v < 0:
            msg = f"{what} {item!r} must be a finite time >= 0"
            raise InputError(msg)
        out.append(v)
    return out


def _km_figure(analysis: SurvivalAnalysis, *, ylabel: str, name: str = "km") -> Figure:
    from kinresist.clinical.plots import km_figure

    fig = km_figure(
        analysis.km,
        risk_times=list(analysis.risk_times),
        time_unit=analysis.time_unit,
        ylabel=ylabel,
    )
    cap = (
        f"Kaplan-Meier curves with {round(analysis.km.conf_level * 100)}% pointwise CI "
        f"({analysis.km.conf_type} transform), censoring ticks and numbers at risk."
    )
    return Figure.from_matplotlib(fig, name, cap)


def _survival_measurements(
    table: PatientTable,
    id_col: str,
    time: np.ndarray,
    event: np.ndarray,
    groups: Sequence[str | None] | np.ndarray | None,
    *,
    target: str,
    unit: str,
) -> list[Measurement]:
    ids = table.labels(id_col, unique=True)
    out = []
    for i, pid in enumerate(ids):
        attrs: dict[str, Any] = {"event": int(event[i])}
        if groups is not None and groups[i] is not None:
            attrs["group"] = str(groups[i])
        out.append(
            Measurement(
                assay=ASSAY,
                target=target,
                quantity="time_to_event",
                value=float(time[i]),
                unit=unit,
                subject=pid,
                flags=("event",) if event[i] else ("censored",),
                attributes=attrs,
            )
        )
    return out


def _response_measurements(
    table: PatientTable, id_col: str, codes: Sequence[str | None], *, target: str
) -> list[Measurement]:
    ids = table.labels(id_col, unique=True)
    out = []
    for pid, code in zip(ids, codes, strict=True):
        if code is None:
            continue
        value = None if code == "NE" else float(code in ("CR", "PR"))
        out.append(
            Measurement(
                assay=ASSAY,
                target=target,
                quantity="objective_response",
                value=value,
                subject=pid,
                flags=("not_evaluable",) if code == "NE" else (),
                attributes={"best_response": code},
            )
        )
    return out


def run_survival(
    file: str | PathLike[str],
    *,
    time_col: str,
    event_col: str,
    group_col: str | None = None,
    strata_col: str | None = None,
    id_col: str | None = None,
    reference: str | None = None,
    conf_type: str = "log",
    ties: str = "efron",
    conf_level: float = 0.95,
    landmark: Sequence[float] | None = None,
    risk_times: str | None = None,
    time_unit: str = "",
    firth: str = "auto",
    sheet: str | None = None,
    figures: bool = True,
    split_by_alteration: str | None = None,
    db: str | Store | None = None,
    study: str | None = None,
) -> Result:
    """``clinical.survival`` from a patient-level table.

    With ``split_by_alteration`` (``"ALK G1202R"``), the groups are read from the project store
    ``db`` instead of a column: each patient (``id_col`` = the store's subject label, in
    ``study``) is "<key> detected" or "<key> not detected" by its plasma ddPCR/NGS measurements;
    patients without a conclusive measurement are left out with a warning
    (:mod:`kinresist.clinical.store_split`).
    """
    path = Path(file)
    key = _split_key(split_by_alteration, group_col=group_col, db=db, id_col=id_col)
    table = read_patient_table(path, sheet=sheet)
    ct = check_conf_type(conf_type)
    t = table.times(time_col)
    e = table.events(event_col)
    g = table.groups(group_col) if group_col else None
    s = table.groups(strata_col, min_size=1) if strata_col else None
    landmarks = _times_list(list(landmark or []), "landmark") or []
    split = None
    keep = np.ones(len(t), dtype=bool)
    levels = None
    notes: list[str] = []
    if key is not None and db is not None and id_col is not None:  # _split_key checked both
        split = _read_split(db, key, table.labels(id_col, unique=True), study=study)
        labels = split.labels()
        keep = np.asarray([lab is not None for lab in labels], dtype=bool)
        g = np.asarray([lab for lab in labels if lab is not None], dtype=str)
        levels = _split_levels(split, g)
        if reference is None and len(levels) == 2:
            reference = split.not_detected_label
        notes = split.warnings()
        if len(levels) == 1:
            notes.append(
                f"every classified patient is {levels[0]}: no comparison (Kaplan-Meier only)"
            )
    analysis = analyze_survival(
        t[keep],
        e[keep],
        group=g,
        strata=None if s is None else s[keep],
        levels=levels,
        reference=reference,
        conf_type=ct,
        ties=_ties(ties),
        alpha=_alpha(conf_level),
        landmarks=landmarks,
        risk_times=_times_list(risk_times, "risk time"),
        time_unit=time_unit,
        firth=_firth(firth),
        group_where=table.where(group_col) if group_col else (Where(key) if key else None),
        strata_where=_strata_where(table, strata_col, subset=split is not None),
    )
    measurements = (
        _survival_measurements(
            table,
            id_col,
            t,
            e,
            g if split is None else split.labels(),
            target=table.column(time_col),
            unit=time_unit,
        )
        if id_col
        else []
    )
    body = {"endpoint": table.column(time_col), **analysis.body()}
    tables = analysis.tables()
    split_params: dict[str, Any] = {}
    if split is not None:
        body["split"] = split.body()
        tables["alteration_split"] = split.table()
        split_params = {
            "split_by_alteration": split.key,
            "split_rule": split.body()["rule"],
            "study": study,
        }
    inputs: dict[str, Path | bytes] = {path.name: path}
    if split is not None:  # what the store said, so that a changed store changes the input
        inputs[f"store: {split.key}"] = split.table().to_csv(index=False).encode()
    return Result(
        workflow="clinical.survival",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs=inputs,
            parameters={
                "time_col": time_col,
                "event_col": event_col,
                "group_col": group_col,
                "strata_col": strata_col,
                "id_col": id_col,
                "reference": reference,
                "conf_type": ct,
                "ties": ties,
                "conf_level": conf_level,
                "landmarks": landmarks,
                "risk_times": list(analysis.risk_times),
                "time_unit": time_unit,
                "firth": firth,
                "sheet": sheet,
                **split_params,
            },
        ),
        body=body,
        tables=tables,
        measurements=list(measurements),
        figures=[_km_figure(analysis, ylabel=f"{table.column(time_col)}: survival probability")]
        if figures
        else [],
        warnings=[*notes, *analysis.warnings],
    )


def _strata_where(table: PatientTable, column: str | None, *, subset: bool) -> Where | None:
    """Where the strata come from; without line numbers when only some rows are analysed."""
    if not column:
        return None
    return Where(table.column(column)) if subset else table.where(column)


def _split_key(
    text: str | None, *, group_col: str | None, db: str | Store | None, id_col: str | None
) -> str | None:
    """The canonical key of ``--split-by-alteration``, after checking the options it needs."""
    if text is None or not text.strip():
        return None
    from kinresist.clinical.store_split import canonical_alteration

    if group_col:
        msg = (
            f"--split-by-alteration and --group-col {group_col!r} both set the groups; give one "
            "(the split reads the groups from the store)"
        )
        raise InputError(msg)
    key = canonical_alteration(text)
    if db is None or (isinstance(db, str) and not db.strip()):
        msg = (
            f"--split-by-alteration {key!r} reads the patients' plasma results from the project "
            "store: add --db DB (or set $KINRESIST_DB)"
        )
        raise InputError(msg)
    if not id_col:
        msg = (
            f"--split-by-alteration {key!r} needs --id-col: the column of patient ids that are "
            "the store's subject labels"
        )
        raise InputError(msg)
    return key


def _read_split(
    db: str | Store, key: str, subjects: Sequence[str], *, study: str | None
) -> AlterationSplit:
    """One store query for ``key``; InputError when nobody can be classified."""
    from kinresist.clinical.store_split import alteration_split

    if isinstance(db, str):
        from kinresist.store import open_store

        with open_store(db) as store:
            split = alteration_split(store, key, subjects, study=study)
    else:
        split = alteration_split(db, key, subjects, study=study)
    if all(lab is None for lab in split.labels()):
        excluded = "; ".join(split.warnings())
        msg = (
            f"--split-by-alteration {key!r}: no patient has a conclusive plasma result ({excluded})"
        )
        raise InputError(msg)
    return split


def _split_levels(split: AlterationSplit, groups: np.ndarray) -> list[str]:
    """Groups present, reference ("not detected") first; a group of one patient is refused."""
    levels = []
    for lab in (split.not_detected_label, split.detected_label):
        ids = [p.subject for p in split.patients if split.label(p) == lab]
        if len(ids) == 1:
            msg = (
                f"--split-by-alteration {split.key!r}: group {lab!r} has 1 patient ({ids[0]}); "
                "a Kaplan-Meier comparison needs at least 2 per group"
            )
            raise InputError(msg)
        if ids:
            levels.append(lab)
    assert sum(int((groups == lab).sum()) for lab in levels) == len(groups)
    return levels


def _ties(value: str) -> Ties:
    if value not in ("efron", "breslow"):
        msg = f"unknown ties method {value!r}; expected efron or breslow"
        raise InputError(msg)
    return value  # type: ignore[return-value]


def _firth(value: str) -> FirthMode:
    if value not in ("auto", "never", "always"):
        msg = f"unknown firth mode {value!r}; expected auto, never or always"
        raise InputError(msg)
    return value  # type: ignore[return-value]


def _denominator(value: str) -> Denominator:
    if value not in ("evaluable", "all"):
        msg = f"unknown denominator {value!r}; expected evaluable or all"
        raise InputError(msg)
    return value  # type: ignore[return-value]


def _two_classes(
    table: PatientTable, column: str, cutoff: float | None
) -> tuple[list[str], list[str]]:
    """Biomarker classes per patient: ``>= cutoff``/``< cutoff`` or a 2-level label."""
    where = table.where(column)
    values = table.values(column)
    if cutoff is None:
        labels = list(table.groups(column, min_size=1))
        levels = sorted(set(labels))
        if len(levels) != 2:
            msg = (
                f"a biomarker x response table needs 2 biomarker classes, found {levels}; "
                "give --biomarker-cutoff for a numeric biomarker"
            )
            raise InputError(msg, path=where.path, column=where.column)
        return [str(v) for v in labels], levels
    hi, lo = f">= {cutoff:g}", f"< {cutoff:g}"
    out = []
    for i, v in enumerate(values):
        try:
            x = float(str(v).strip().rstrip("%"))
        except ValueError:
            msg = f"biomarker value {v!r} is not a number (cutoff {cutoff:g} given)"
            raise where.error(msg, i) from None
        if not math.isfinite(x):
            msg = f"biomarker value {v!r} is not a finite number"
            raise where.error(msg, i)
        out.append(hi if x >= cutoff else lo)
    return out, [hi, lo]


def _rates_by(
    codes: Sequence[str],
    labels: Sequence[str],
    levels: Sequence[str],
    *,
    denominator: Denominator,
    method: ProportionMethod,
    alpha: float,
) -> dict[str, ResponseRates]:
    out = {}
    for lev in levels:
        sub = [c for c, lab in zip(codes, labels, strict=True) if lab == lev]
        out[lev] = response_rates_from_counts(
            {c: sub.count(c) for c in set(sub)},
            denominator=denominator,
            method=method,
            alpha=alpha,
            label=lev,
        )
    return out


def _rates_frame(rates: dict[str, ResponseRates], by: str) -> pd.DataFrame:
    rows = []
    for r in rates.values():
        row: dict[str, Any] = {by: r.label, "n_total": r.n_total, "n": r.n}
        row.update({c.lower(): v for c, v in r.counts.items()})
        for name, prop in (("orr", r.orr), ("dcr", r.dcr)):
            row[name] = None if prop is None else prop.estimate
            row[f"{name}_lower"] = None if prop is None else prop.ci_low
            row[f"{name}_upper"] = None if prop is None else prop.ci_high
            row[f"{name}_text"] = "NA" if prop is None else f"{prop.k}/{prop.n}, {prop.text()}"
        row["denominator"] = r.denominator
        rows.append(row)
    return pd.DataFrame(rows)


def _read_counts(
    table: PatientTable, group_col: str | None
) -> tuple[list[str], list[dict[str, int]]]:
    """A counts table: one row per group with columns CR, PR, SD, PD, NE (any present)."""
    from kinresist.clinical.response import BEST_RESPONSES, normalise_response

    cats = {}
    for c in table.columns:
        try:
            cats[c] = normalise_response(c)
        except InputError:
            continue
    if not cats:
        msg = (
            f"a counts table needs columns named by best response ({list(BEST_RESPONSES)}); "
            f"found {table.columns}"
        )
        raise InputError(msg, path=table.path, line=1)
    labels = table.labels(group_col, unique=True) if group_col else ["all"] * len(table)
    counts = []
    for i in range(len(table)):
        row: dict[str, int] = {}
        for col, code in cats.items():
            v = table.frame[col].iloc[i]
            try:
                k = float(str(v).strip() or "nan")
            except ValueError:
                k = math.nan
            if not math.isfinite(k) or k < 0 or k != int(k):
                msg = f"count {v!r} is not a whole number >= 0"
                raise InputError(msg, path=table.path, line=int(table.lines[i]), column=col)
            row[code] = row.get(code, 0) + int(k)
        counts.append(row)
    return labels, counts


def run_response(
    file: str | PathLike[str],
    *,
    response_col: str = "best_response",
    group_col: str | None = None,
    reference: str | None = None,
    biomarker_col: str | None = None,
    biomarker_cutoff: float | None = None,
    id_col: str | None = None,
    input_kind: str = "patients",
    denominator: str = "evaluable",
    ci_method: str = "clopper-pearson",
    conf_level: float = 0.95,
    sheet: str | None = None,
) -> Result:
    """``clinical.response``: ORR/DCR per group (CI), ORR difference (Newcombe), Fisher 2 x 2."""
    path = Path(file)
    table = read_patient_table(path, sheet=sheet)
    alpha = _alpha(conf_level)
    den = _denominator(denominator)
    if ci_method not in ("clopper-pearson", "wilson", "agresti-coull"):
        msg = f"unknown CI method {ci_method!r}; expected clopper-pearson, wilson or agresti-coull"
        raise InputError(msg)
    method: ProportionMethod = ci_method  # type: ignore[assignment]
    warnings: list[str] = []
    measurements: list[Measurement] = []
    by = "group"
    if input_kind == "counts":
        if biomarker_col:
            msg = "--biomarker-col needs a per-patient table (--input-kind patients)"
            raise InputError(msg)
        labels, counts = _read_counts(table, group_col)
        rates = {
            lab: response_rates_from_counts(
                c, denominator=den, method=method, alpha=alpha, label=lab
            )
            for lab, c in zip(labels, counts, strict=True)
        }
        levels = list(rates)
    elif input_kind == "patients":
        codes = [str(c) for c in table.responses(response_col)]
        if id_col:
            measurements = _response_measurements(
                table, id_col, codes, target=table.column(response_col)
            )
        if biomarker_col:
            labels, levels = _two_classes(table, biomarker_col, biomarker_cutoff)
            by = table.column(biomarker_col)
        elif group_col:
            labels = [str(v) for v in table.groups(group_col)]
            levels = level_order(labels)
            by = table.column(group_col)
        else:
            labels, levels = ["all"] * len(codes), ["all"]
        rates = _rates_by(codes, labels, levels, denominator=den, method=method, alpha=alpha)
    else:
        msg = f"unknown input kind {input_kind!r}; expected patients or counts"
        raise InputError(msg)
    if reference is not None and reference not in levels:
        msg = f"reference {reference!r} is not among {levels}"
        raise InputError(msg)
    body: dict[str, Any] = {
        "grouped_by": by,
        "denominator": den,
        "ci_method": method,
        "conf_level": conf_level,
        "groups": [r.to_dict() for r in rates.values()],
        "orr_difference": None,
        "fisher": None,
    }
    tables = {"response": _rates_frame(rates, by)}
    if len(levels) == 2:
        # default reference: the first group (as the Cox model), or the class below the cutoff
        default_ref = levels[1] if (biomarker_col and biomarker_cutoff is not None) else levels[0]
        ref = reference if reference is not None else default_ref
        first = next(v for v in levels if v != ref)
        a, b = rates[first], rates[ref]
        if a.orr is not None and b.orr is not None:
            diff = orr_difference(a.orr.k, a.orr.n, b.orr.k, b.orr.n, alpha=alpha)
            body["orr_difference"] = {"comparison": f"{first} - {ref}", **diff.to_dict()}
            two = [[a.orr.k, a.orr.n - a.orr.k], [b.orr.k, b.orr.n - b.orr.k]]
            fisher = fisher_exact(two, alpha=alpha)
            body["fisher"] = {
                "rows": [first, ref],
                "columns": ["responder", "non-responder"],
                **fisher.to_dict(),
            }
            tables["fisher"] = pd.DataFrame(
                [
                    {
                        "comparison": f"{first} vs {ref}",
                        "responders_" + first: two[0][0],
                        "non_responders_" + first: two[0][1],
                        "responders_" + ref: two[1][0],
                        "non_responders_" + ref: two[1][1],
                        "p": fisher.p,
                        "odds_ratio": fisher.odds_ratio,
                        "or_lower": fisher.ci_low,
                        "or_upper": fisher.ci_high,
                        "orr_difference": diff.difference,
                        "difference_lower": diff.ci_low,
                        "difference_upper": diff.ci_high,
                    }
                ]
            )
    elif reference is not None:
        warnings.append("reference ignored: comparisons need exactly two groups")
    for r in rates.values():
        if r.orr is None:
            warnings.append(f"group {r.label!r}: no evaluable patients, ORR unknown")
    return Result(
        workflow="clinical.response",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs={path.name: path},
            parameters={
                "response_col": response_col,
                "group_col": group_col,
                "reference": reference,
                "biomarker_col": biomarker_col,
                "biomarker_cutoff": biomarker_cutoff,
                "id_col": id_col,
                "input_kind": input_kind,
                "denominator": den,
                "ci_method": method,
                "conf_level": conf_level,
                "sheet": sheet,
            },
        ),
        body=body,
        tables=tables,
        measurements=measurements,
        warnings=warnings,
    )


def run_summary(
    file: str | PathLike[str],
    *,
    arm_col: str,
    time_col: str,
    event_col: str,
    reference: str | None = None,
    response_col: str | None = None,
    ic_response_col: str | None = None,
    strata_col: str | None = None,
    subgroup_col: Sequence[str] | None = None,
    id_col: str | None = None,
    endpoint: str = "PFS",
    conf_type: str = "log",
    ties: str = "efron",
    conf_level: float = 0.95,
    denominator: str = "all",
    landmark: Sequence[float] | None = None,
    time_unit: str = "months",
    firth: str = "auto",
    sheet: str | None = None,
    figures: bool = True,
) -> Result:
    """``clinical.summary``: the ALEX-style table (TSV primary table; HTML via the report)."""
    from kinresist.clinical.summary import efficacy_summary

    path = Path(file)
    table = read_patient_table(path, sheet=sheet)
    ct = check_conf_type(conf_type)
    t = table.times(time_col)
    e = table.events(event_col)
    arms = table.groups(arm_col)
    best = table.responses(response_col) if response_col else None
    ic = table.responses(ic_response_col, blank="absent") if ic_response_col else None
    subgroups = {
        table.column(c): [None if v is None else str(v) for v in table.values(c)]
        for c in (subgroup_col or [])
    }
    summary = efficacy_summary(
        t,
        e,
        arms,
        reference=reference,
        strata=list(table.groups(strata_col, min_size=1)) if strata_col else None,
        best_response=best,
        intracranial_response=ic,
        subgroups=subgroups or None,
        conf_type=ct,
        ties=_ties(ties),
        alpha=_alpha(conf_level),
        denominator=_denominator(denominator),
        time_unit=time_unit,
        landmarks=_times_list(list(landmark or []), "landmark") or [],
        endpoint=endpoint,
        firth=_firth(firth),
        arm_where=table.where(arm_col),
        strata_where=table.where(strata_col) if strata_col else None,
    )
    measurements: list[Measurement] = []
    if id_col:
        measurements += _survival_measurements(
            table, id_col, t, e, arms, target=endpoint, unit=time_unit
        )
        if best is not None:
            measurements += _response_measurements(table, id_col, best, target="best_response")
        if ic is not None:
            measurements += _response_measurements(
                table, id_col, ic, target="intracranial_best_response"
            )
    figs: list[Figure] = []
    if figures:
        figs.append(_km_figure(summary.survival, ylabel=f"{endpoint} probability"))
        if summary.subgroups is not None:
            from kinresist.clinical.plots import forest_figure

            figs.append(
                Figure.from_matplotlib(
                    forest_figure(summary.subgroups),
                    "forest",
                    f"{endpoint} hazard ratio of {next(a for a in summary.arms if a != summary.reference)} "
                    f"vs {summary.reference} by subgroup (open markers: Firth-penalised).",
                )
            )
    tables = {"summary": summary.table(), "arms": summary.numeric_table()}
    if summary.subgroups is not None:
        tables["subgroups"] = summary.subgroups
    tables.update({f"survival_{k}": v for k, v in summary.survival.tables().items()})
    return Result(
        workflow="clinical.summary",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs={path.name: path},
            parameters={
                "arm_col": arm_col,
                "time_col": time_col,
                "event_col": event_col,
                "reference": summary.reference,
                "response_col": response_col,
                "ic_response_col": ic_response_col,
                "strata_col": strata_col,
                "subgroup_cols": list(subgroup_col or []),
                "id_col": id_col,
                "endpoint": endpoint,
                "conf_type": ct,
                "ties": ties,
                "conf_level": conf_level,
                "denominator": denominator,
                "time_unit": time_unit,
                "firth": firth,
                "sheet": sheet,
            },
        ),
        body=summary.body(),
        tables=tables,
        measurements=measurements,
        figures=figs,
        warnings=list(summary.warnings),
    )
