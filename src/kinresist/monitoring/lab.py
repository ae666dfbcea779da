"""The lab's side of an alteration: IC50s of cell lines and their fold shift over the parental line.

An IC50 enters the store as a ``dose_response`` measurement of a line (subject), keyed by the
line's genotype when the dose run was given one (``--genotype``, or the manifest's ``genotype``
column). Its fold shift is not recomputed here: it is read from the same run's ``comparisons``
(the fold shift ``dose.plate`` estimated with its delta and Fieller CIs), and reported with the
Fieller interval when it is bounded, else the delta interval, exactly as the dose report does.
A line whose run holds no comparison keeps its IC50 and ``fold_shift`` None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["fold_shift_from_run", "ic50_rows"]


def fold_shift_from_run(
    outputs: Mapping[str, Any] | None, *, drug: str, line: str
) -> dict[str, Any]:
    """The fold shift of ``line`` over its reference for ``drug`` in a stored dose run's body."""
    none = {
        "reference_line": None,
        "reference_ic50": None,
        "fold_shift": None,
        "fold_ci_low": None,
        "fold_ci_high": None,
        "fold_ci_method": None,
    }
    body = (outputs or {}).get("body") or {}
    for comp in body.get("comparisons") or []:
        if str(comp.get("panel")) != drug:
            continue
        eds = {str(e.get("group")): e for e in comp.get("ed") or []}
        for r in comp.get("ratios") or []:
            if str(r.get("numerator")) != line:
                continue
            fieller = r.get("fieller") or {}
            bounded = bool(fieller.get("bounded"))
            ci = fieller if bounded else (r.get("delta") or {})
            ref = str(r.get("denominator"))
            return {
                "reference_line": ref,
                "reference_ic50": (eds.get(ref) or {}).get("estimate"),
                "fold_shift": r.get("estimate"),
                "fold_ci_low": ci.get("ci_low"),
                "fold_ci_high": ci.get("ci_high"),
                "fold_ci_method": "fieller" if bounded else "delta",
            }
    return none


def ic50_rows(
    session: Session,
    *,
    alteration: str | None = None,
    subject_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """IC50 measurements (by alteration key, or of some subjects) with their fold shifts."""
    from sqlalchemy import select

    from kinresist.store.models import AnalysisRun, Measurement, Sample, Study, Subject

    q = (
        select(Measurement, Sample, Subject, Study, AnalysisRun)
        .join(Sample, Measurement.sample_id == Sample.id)
        .join(Subject, Sample.subject_id == Subject.id)
        .join(Study, Subject.study_id == Study.id)
        .outerjoin(AnalysisRun, Measurement.run_id == AnalysisRun.id)
        .where(Measurement.quantity == "ic50")
    )
    if alteration is not None:
        q = q.where(Measurement.alteration_key == alteration)
    if subject_ids is not None:
        q = q.where(Subject.id.in_(list(subject_ids)))
    out = []
    seen: set[tuple[int, int | None, str]] = set()
    for m, smp, subj, st, run in session.execute(q.order_by(Measurement.id)):
        if (smp.id, m.run_id, m.target) in seen:
            continue  # one line, several genotype keys: the same IC50 once
        seen.add((smp.id, m.run_id, m.target))
        when: dt.date | None = smp.collected
        out.append(
            {
                "study": st.name,
                "line": subj.label,
                "sample": smp.label,
                "collected": None if when is None else when.isoformat(),
                "drug": m.target,
                "alteration": m.alteration_key,
                "ic50": m.value,
                "unit": m.unit,
                "ci_low": m.ci_low,
                "ci_high": m.ci_high,
                "flags": list(m.flags or []),
                "run_id": m.run_id,
                **fold_shift_from_run(
                    None if run is None else run.outputs, drug=m.target, line=subj.label
                ),
            }
        )
    out.sort(key=lambda r: (r["collected"] or "", r["line"], r["drug"]))
    return out
