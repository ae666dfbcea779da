"""Shared by the service modules: the two access errors, the audit log, visibility of studies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, true

from kinresist.store.models import AuditLog, Study, StudyMember
from kinresist.web.auth import Principal

if TYPE_CHECKING:
    from kinresist.store.api import Store, Transaction

__all__ = ["AccessDenied", "NotFound", "audit", "audit_in", "audit_rows"]


class NotFound(Exception):
    """Absent, or not visible to this user (both answer 404)."""


class AccessDenied(Exception):
    """Visible, but the role does not allow the action (403)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def audit_in(
    tx: Transaction,
    user: str | None,
    action: str,
    *,
    kind: str = "",
    object_id: Any = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    from kinresist.core.serialise import clean

    tx.session.add(
        AuditLog(
            user_name=user,
            action=action,
            object_kind=kind,
            object_id=None if object_id is None else str(object_id),
            detail=clean(dict(detail or {})),
        )
    )


def audit(
    store: Store,
    user: str | None,
    action: str,
    *,
    kind: str = "",
    object_id: Any = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One audit-log row in its own transaction."""
    store.write(
        lambda tx: audit_in(tx, user, action, kind=kind, object_id=object_id, detail=detail)
    )


def audit_rows(store: Store, *, limit: int = 500) -> list[dict[str, Any]]:
    with store.session() as s:
        rows = s.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit))
        return [
            {
                "id": r.id,
                "time": _iso(r.time),
                "user": r.user_name,
                "action": r.action,
                "object_kind": r.object_kind,
                "object_id": r.object_id,
                "detail": r.detail,
            }
            for r in rows
        ]


def _visible(principal: Principal) -> Any:
    """A WHERE clause restricting Study rows to the principal's."""
    if principal.is_admin or principal.single_user:
        return true()
    return Study.id.in_(select(StudyMember.study_id).where(StudyMember.user_id == principal.id))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
