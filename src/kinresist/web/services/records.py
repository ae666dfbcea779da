"""Saving a result to a study (the one store writer + its audit row) and deleting a run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from kinresist.store.models import AnalysisRun, Finding, Measurement, Study
from kinresist.web.auth import Principal
from kinresist.web.services._common import AccessDenied, NotFound, _visible, audit_in
from kinresist.web.services.studies import _study

if TYPE_CHECKING:
    from kinresist.core.record import RecordSummary, SampleInfo
    from kinresist.core.result import Result
    from kinresist.store.api import Store, Transaction

__all__ = ["check_study_access", "delete_run", "save_result"]


def check_study_access(
    store: Store, principal: Principal, name: str, *, write: bool, create: bool = False
) -> None:
    """Raise NotFound unless ``principal`` may read (or write) study ``name``; admins may name a
    new study when ``create`` (it is then created by the writer)."""
    if write and not principal.at_least("analyst"):
        msg = "viewers cannot import or save results"
        raise AccessDenied(msg)
    with store.session() as s:
        exists = s.scalar(select(Study.id).where(Study.name == name)) is not None
        visible = s.scalar(select(Study.id).where(Study.name == name, _visible(principal)))
    if visible is not None:
        return
    if create and not exists and principal.is_admin:
        return
    msg = f"study {name}"
    raise NotFound(msg)


def save_result(
    store: Store,
    principal: Principal,
    result: Result,
    *,
    study: str,
    subject: str | None,
    sample: str | None,
    subject_kind: str,
    info: SampleInfo,
    result_id: str | None,
) -> RecordSummary:
    """Record ``result`` in ``study`` (the one store writer) with its audit row, atomically."""
    from kinresist.core.record import record_in

    check_study_access(store, principal, study, write=True, create=principal.is_admin)

    def work(tx: Transaction) -> RecordSummary:
        summary = record_in(
            tx,
            result,
            study=study,
            subject=subject,
            sample=sample,
            subject_kind=subject_kind,
            info=info,
            db=store.url,
        )
        if result_id is not None:
            row = tx.session.get(AnalysisRun, summary.run_id)
            if row is not None:
                row.outputs = {**(row.outputs or {}), "web_result_id": result_id}
        audit_in(
            tx,
            principal.name,
            "import",
            kind="analysis_run",
            object_id=summary.run_id,
            detail={"workflow": result.workflow, **summary.to_dict(), "db": None},
        )
        return summary

    return store.write(work)


def delete_run(store: Store, principal: Principal, run_id: int) -> dict[str, Any]:
    """Delete a recorded run with its measurements and findings (audited)."""

    def work(tx: Transaction) -> dict[str, Any]:
        r = tx.session.get(AnalysisRun, run_id)
        if r is None or r.study_id is None:
            msg = f"run {run_id}"
            raise NotFound(msg)
        st = _study(tx.session, principal, r.study_id)
        if not principal.at_least("analyst"):
            msg = "viewers cannot delete runs"
            raise AccessDenied(msg)
        n_m = tx.session.execute(delete(Measurement).where(Measurement.run_id == r.id)).rowcount  # type: ignore[attr-defined]
        n_f = tx.session.execute(delete(Finding).where(Finding.run_id == r.id)).rowcount  # type: ignore[attr-defined]
        detail = {
            "workflow": r.workflow or r.kind,
            "study": st.name,
            "measurements": n_m,
            "findings": n_f,
        }
        tx.session.delete(r)
        audit_in(tx, principal.name, "delete", kind="analysis_run", object_id=run_id, detail=detail)
        return {"study_id": st.id, **detail}

    return store.write(work)
