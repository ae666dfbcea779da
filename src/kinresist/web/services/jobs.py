"""The job table: background work whose state survives a page reload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kinresist.store.models import Job
from kinresist.web.auth import Principal
from kinresist.web.services._common import NotFound, _iso, _now

if TYPE_CHECKING:
    from kinresist.store.api import Store, Transaction

__all__ = ["create_job", "fail_orphaned_jobs", "job", "job_row", "jobs", "update_job"]


def job_row(j: Job) -> dict[str, Any]:
    return {
        "id": j.id,
        "workflow": j.workflow,
        "status": j.status,
        "progress": j.progress,
        "message": j.message,
        "user": j.user_name,
        "parameters": j.parameters,
        "result": j.result,
        "error": j.error,
        "created": _iso(j.created),
        "updated": _iso(j.updated),
    }


def create_job(
    store: Store, job_id: str, workflow: str, principal: Principal, parameters: Mapping[str, Any]
) -> None:
    from kinresist.core.serialise import clean

    def work(tx: Transaction) -> None:
        tx.session.add(
            Job(
                id=job_id,
                workflow=workflow,
                status="queued",
                progress=0.0,
                message="queued",
                user_name=principal.name,
                parameters=clean(dict(parameters)),
                updated=_now(),
            )
        )

    store.write(work)


def update_job(store: Store, job_id: str, **fields: Any) -> None:
    def work(tx: Transaction) -> None:
        row = tx.session.get(Job, job_id)
        if row is None:
            return
        for key, value in fields.items():
            setattr(row, key, value)
        row.updated = _now()

    store.write(work)


def job(store: Store, principal: Principal, job_id: str) -> dict[str, Any]:
    with store.session() as s:
        j = s.get(Job, job_id)
        if j is None or not (
            principal.is_admin or principal.single_user or j.user_name == principal.name
        ):
            msg = f"job {job_id}"
            raise NotFound(msg)
        return job_row(j)


def jobs(store: Store, principal: Principal, *, limit: int = 100) -> list[dict[str, Any]]:
    with store.session() as s:
        q = select(Job).order_by(Job.created.desc(), Job.id).limit(limit)
        if not (principal.is_admin or principal.single_user):
            q = q.where(Job.user_name == principal.name)
        return [job_row(j) for j in s.scalars(q)]


def fail_orphaned_jobs(store: Store) -> int:
    """Jobs left queued/running by a stopped server are marked failed (they cannot resume)."""

    def work(tx: Transaction) -> int:
        n = 0
        for j in tx.session.scalars(select(Job).where(Job.status.in_(("queued", "running")))):
            j.status = "failed"
            j.error = "the server stopped while this job was waiting or running; start it again"
            j.message = "interrupted"
            j.updated = _now()
            n += 1
        return n

    return store.write(work)
