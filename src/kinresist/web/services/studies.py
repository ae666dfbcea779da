"""Studies, subjects, samples and runs as the user may see them (404 otherwise)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kinresist.errors import InputError
from kinresist.store.models import (
    AnalysisRun,
    Finding,
    Measurement,
    Sample,
    Study,
    StudyMember,
    Subject,
    User,
)
from kinresist.web.auth import Principal
from kinresist.web.services._common import NotFound, _iso, _visible, audit_in

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kinresist.store.api import Store, Transaction

__all__ = [
    "create_study",
    "measurements_by_alteration",
    "run",
    "sample",
    "studies",
    "study",
    "study_by_name",
    "study_names",
    "subject",
    "subject_by_label",
]


def studies(store: Store, principal: Principal) -> list[dict[str, Any]]:
    with store.session() as s:
        subj = (
            select(Subject.study_id, func.count(Subject.id).label("n"))
            .group_by(Subject.study_id)
            .subquery()
        )
        runs = (
            select(AnalysisRun.study_id, func.count(AnalysisRun.id).label("n"))
            .group_by(AnalysisRun.study_id)
            .subquery()
        )
        q = (
            select(Study, subj.c.n, runs.c.n)
            .outerjoin(subj, subj.c.study_id == Study.id)
            .outerjoin(runs, runs.c.study_id == Study.id)
            .where(_visible(principal))
            .order_by(Study.name)
        )
        return [
            {
                "id": st.id,
                "name": st.name,
                "description": st.description,
                "created": _iso(st.created),
                "subjects": int(ns or 0),
                "runs": int(nr or 0),
            }
            for st, ns, nr in s.execute(q)
        ]


def study_names(store: Store, principal: Principal) -> list[str]:
    return [s["name"] for s in studies(store, principal)]


def _study(s: Session, principal: Principal, study_id: int) -> Study:
    st = s.scalar(select(Study).where(Study.id == study_id, _visible(principal)))
    if st is None:
        msg = f"study {study_id}"
        raise NotFound(msg)
    return st


def study_by_name(store: Store, principal: Principal, name: str) -> dict[str, Any]:
    with store.session() as s:
        st = s.scalar(select(Study).where(Study.name == name, _visible(principal)))
        if st is None:
            msg = f"study {name}"
            raise NotFound(msg)
        return {"id": st.id, "name": st.name}


def study(store: Store, principal: Principal, study_id: int) -> dict[str, Any]:
    with store.session() as s:
        st = _study(s, principal, study_id)
        subjects = []
        for subj, n in s.execute(
            select(Subject, func.count(Sample.id))
            .outerjoin(Sample, Sample.subject_id == Subject.id)
            .where(Subject.study_id == st.id)
            .group_by(Subject.id)
            .order_by(Subject.kind, Subject.label)
        ):
            subjects.append({"id": subj.id, "label": subj.label, "kind": subj.kind, "samples": n})
        runs = [_run_row(r) for r in s.scalars(_runs_query().where(AnalysisRun.study_id == st.id))]
        members = list(
            s.scalars(
                select(User.name)
                .join(StudyMember, StudyMember.user_id == User.id)
                .where(StudyMember.study_id == st.id)
                .order_by(User.name)
            )
        )
        return {
            "id": st.id,
            "name": st.name,
            "description": st.description,
            "created": _iso(st.created),
            "subjects": subjects,
            "runs": runs,
            "members": members,
        }


def create_study(
    store: Store, principal: Principal, name: str, *, description: str = ""
) -> dict[str, Any]:
    text = " ".join(name.split())
    if not text or len(text) > 200:
        msg = f"study name {name!r}: expected 1-200 characters"
        raise InputError(msg)

    def work(tx: Transaction) -> dict[str, Any]:
        if tx.session.scalar(select(Study).where(Study.name == text)) is not None:
            msg = f"a study called {text!r} already exists"
            raise InputError(msg)
        st = tx.get_or_create_study(text, description=description)
        if principal.id is not None:
            tx.session.add(StudyMember(user_id=principal.id, study_id=st.id))
        audit_in(
            tx, principal.name, "study_create", kind="study", object_id=st.id, detail={"name": text}
        )
        return {"id": st.id, "name": text}

    return store.write(work)


def _runs_query() -> Any:
    return select(AnalysisRun).order_by(AnalysisRun.id.desc())


def _run_row(r: AnalysisRun) -> dict[str, Any]:
    return {
        "id": r.id,
        "workflow": r.workflow or r.kind,
        "created": _iso(r.created),
        "kb_version": r.kb_version,
        "package_version": r.package_version,
        "study_id": r.study_id,
        "subject_id": r.subject_id,
        "sample_id": r.sample_id,
        "result_id": (r.outputs or {}).get("web_result_id"),
    }


def subject(store: Store, principal: Principal, subject_id: int) -> dict[str, Any]:
    with store.session() as s:
        subj = s.get(Subject, subject_id)
        if subj is None:
            msg = f"subject {subject_id}"
            raise NotFound(msg)
        st = _study(s, principal, subj.study_id)
        samples = [
            {
                "id": smp.id,
                "label": smp.label,
                "kind": smp.kind,
                "collected": _iso(smp.collected),
                "timepoint": smp.timepoint,
                "measurements": len(smp.measurements),
                "findings": len(smp.findings),
            }
            for smp in sorted(subj.samples, key=lambda x: (x.collected or dt.date.max, x.label))
        ]
        therapy = [
            {
                "line": t.line_number,
                "drug": t.drug,
                "start": _iso(t.start_date),
                "end": _iso(t.end_date),
                "best_response": t.best_response,
            }
            for t in subj.therapy_lines
        ]
        sample_ids = [smp["id"] for smp in samples]
        run_q = _runs_query().where(
            (AnalysisRun.subject_id == subj.id)
            | AnalysisRun.id.in_(
                select(Measurement.run_id).where(Measurement.sample_id.in_(sample_ids))
            )
            | AnalysisRun.id.in_(select(Finding.run_id).where(Finding.sample_id.in_(sample_ids)))
        )
        runs = [_run_row(r) for r in s.scalars(run_q)]
        return {
            "id": subj.id,
            "label": subj.label,
            "kind": subj.kind,
            "species": subj.species,
            "study": {"id": st.id, "name": st.name},
            "samples": samples,
            "therapy": therapy,
            "runs": runs,
        }


def subject_by_label(
    store: Store, principal: Principal, label: str, study_name: str | None
) -> dict[str, Any]:
    """The visible subject called ``label`` (in ``study_name`` when given); 404 when none, an
    InputError naming the user's own studies when several match."""
    with store.session() as s:
        q = (
            select(Subject, Study)
            .join(Study, Subject.study_id == Study.id)
            .where(Subject.label == label, _visible(principal))
        )
        if study_name is not None:
            q = q.where(Study.name == study_name)
        found = list(s.execute(q))
        if not found:
            msg = f"subject {label}"
            raise NotFound(msg)
        if len(found) > 1:
            names = sorted(st.name for _, st in found)
            msg = (
                f"subject {label!r} is in several of your studies ({', '.join(names)}); give study"
            )
            raise InputError(msg)
        subj, st = found[0]
        return {"id": subj.id, "label": subj.label, "kind": subj.kind, "study": st.name}


def measurements_by_alteration(store: Store, subject_id: int) -> dict[str, list[dict[str, Any]]]:
    """The subject's measurements grouped by alteration key (without a key: by target)."""
    out: dict[str, list[dict[str, Any]]] = {}
    with store.session() as s:
        q = (
            select(Measurement, Sample)
            .join(Sample, Measurement.sample_id == Sample.id)
            .where(Sample.subject_id == subject_id)
            .order_by(Sample.collected, Sample.label, Measurement.id)
        )
        for m, smp in s.execute(q):
            key = m.alteration_key or f"{m.target} (no alteration)"
            out.setdefault(key, []).append(
                {
                    "sample": smp.label,
                    "collected": _iso(smp.collected),
                    "assay": m.assay,
                    "quantity": m.quantity,
                    "value": m.value,
                    "unit": m.unit,
                    "ci_low": m.ci_low,
                    "ci_high": m.ci_high,
                    "call": m.call,
                    "lod": m.lod,
                    "run_id": m.run_id,
                }
            )
    return out


def sample(store: Store, principal: Principal, sample_id: int) -> dict[str, Any]:
    with store.session() as s:
        smp = s.get(Sample, sample_id)
        if smp is None:
            msg = f"sample {sample_id}"
            raise NotFound(msg)
        subj = s.get(Subject, smp.subject_id)
        assert subj is not None
        st = _study(s, principal, subj.study_id)
        return {
            "id": smp.id,
            "label": smp.label,
            "kind": smp.kind,
            "collected": _iso(smp.collected),
            "timepoint": smp.timepoint,
            "tube_type": smp.tube_type,
            "processing_hours": smp.processing_hours,
            "subject": {"id": subj.id, "label": subj.label, "kind": subj.kind},
            "study": {"id": st.id, "name": st.name},
            "measurements": [_measurement_row(m) for m in smp.measurements],
            "findings": [_finding_row(f) for f in smp.findings],
        }


def _measurement_row(m: Measurement) -> dict[str, Any]:
    return {
        "assay": m.assay,
        "target": m.target,
        "alteration": m.alteration_key,
        "quantity": m.quantity,
        "value": m.value,
        "unit": m.unit,
        "ci_low": m.ci_low,
        "ci_high": m.ci_high,
        "call": m.call,
        "lod": m.lod,
        "flags": ";".join(m.flags or []),
        "run_id": m.run_id,
    }


def _finding_row(f: Finding) -> dict[str, Any]:
    return {
        "gene": f.gene,
        "alteration": f.alteration,
        "kind": f.kind,
        "vaf": f.vaf,
        "copy_number": f.copy_number,
        "source_assay": f.source_assay,
        "alteration_key": f.alteration_key,
        "run_id": f.run_id,
    }


def run(store: Store, principal: Principal, run_id: int) -> dict[str, Any]:
    with store.session() as s:
        r = s.get(AnalysisRun, run_id)
        if r is None or r.study_id is None:
            msg = f"run {run_id}"
            raise NotFound(msg)
        st = _study(s, principal, r.study_id)
        rows = s.execute(
            select(Measurement, Sample, Subject)
            .join(Sample, Measurement.sample_id == Sample.id)
            .join(Subject, Sample.subject_id == Subject.id)
            .where(Measurement.run_id == r.id)
            .order_by(Measurement.id)
        )
        measurements = [
            {"subject": subj.label, "sample": smp.label, **_measurement_row(m)}
            for m, smp, subj in rows
        ]
        frows = s.execute(
            select(Finding, Sample, Subject)
            .join(Sample, Finding.sample_id == Sample.id)
            .join(Subject, Sample.subject_id == Subject.id)
            .where(Finding.run_id == r.id)
            .order_by(Finding.id)
        )
        findings = [
            {"subject": subj.label, "sample": smp.label, **_finding_row(f)}
            for f, smp, subj in frows
        ]
        return {
            **_run_row(r),
            "study": {"id": st.id, "name": st.name},
            "parameters": r.parameters,
            "inputs": r.inputs,
            "outputs": r.outputs,
            "measurements": measurements,
            "findings": findings,
        }
