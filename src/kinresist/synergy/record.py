"""Record a synergy run in the project store (used by the CLI's ``--db`` option only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["record_run"]


def record_run(
    db: str | None,
    payload: Mapping[str, Any],
    *,
    kind: str = "synergy.score",
    study: str | None = None,
) -> int:
    """Store one analysis run (parameters, input hashes, the JSON payload) in one transaction.

    Parameters
    ----------
    db
        Store location (path or SQLAlchemy URL; None: ``$KINRESIST_DB`` / default).
    payload
        The versioned JSON document (``scores_payload``); its stamp gives parameters
        and input hashes.
    kind
        Run kind.
    study
        Optional study name to attach the run to (created if absent).

    Returns
    -------
    int
        The run's id.
    """
    from kinresist.store import open_store

    with open_store(db) as store, store.transaction() as tx:
        st = tx.get_or_create_study(study) if study else None
        run = tx.add_run(
            kind=kind,
            parameters=dict(payload.get("parameters", {})),
            inputs=dict(payload.get("inputs", {})),
            outputs=dict(payload),
            kb_version=payload.get("kb_version"),
            study=st,
        )
        return int(run.id)
