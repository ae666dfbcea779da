"""Store look-ups shared by the timeline and the lineage view (read-only sessions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kinresist.store.models import Subject

__all__ = ["find_subject"]


def find_subject(
    session: Session, label: str, study: str | None, *, what: str = "subject"
) -> Subject:
    """The subject called ``label`` (in ``study`` when given) with its study, samples and lines.

    Raises InputError naming the known subjects when there is none, and the studies when the
    label is in several and no study is given.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from kinresist.store.models import Study, Subject

    q = (
        select(Subject)
        .join(Study, Subject.study_id == Study.id)
        .where(Subject.label == label)
        .options(
            selectinload(Subject.study),
            selectinload(Subject.samples),
            selectinload(Subject.therapy_lines),
        )
    )
    if study is not None:
        q = q.where(Study.name == study)
    found = list(session.scalars(q))
    if not found:
        names = sorted(set(session.scalars(select(Subject.label).limit(200))))
        where = f" in study {study!r}" if study else ""
        msg = (
            f"no {what} {label!r}{where} in the store; known subjects: "
            f"{', '.join(names[:30]) or '(none: import a study manifest first)'}"
        )
        raise InputError(msg)
    if len(found) > 1:
        studies = sorted(s.study.name for s in found)
        msg = f"{what} {label!r} is in several studies ({', '.join(studies)}); give --study"
        raise InputError(msg)
    return found[0]
