"""Record dose-response runs in the project store (used by the CLI ``--db`` option only).

One transaction per command: an ``AnalysisRun`` with the full JSON payload and,
for every fitted curve whose group names a cell line (plate analyses, or
``--group-col`` values ``"<cell line> | <drug>"``), an IC50 measurement attached
to a sample of that cell line (subject kind ``cell_line``, sample kind ``other``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["record_run"]


def record_run(
    db: str,
    *,
    kind: str,
    payload: Mapping[str, Any],
    study: str = "default",
    unit: str | None = None,
) -> dict[str, Any]:
    """Store the run (and IC50 measurements); return ``{"run_id", "measurements", "db"}``."""
    from kinresist.store import open_store

    with open_store(db) as store, store.transaction() as tx:
        st = tx.get_or_create_study(study)
        run = tx.add_run(
            kind=f"dose.{kind}",
            parameters=dict(payload.get("parameters", {})),
            inputs=dict(payload.get("inputs", {})),
            outputs=dict(payload),
            kb_version=payload.get("kb_version"),
            study=st,
        )
        n = 0
        digest = next(iter(dict(payload.get("inputs", {})).values()), "sha256:unknown")
        for fit in payload.get("fits", []):
            group = str(fit["group"])
            line, _, drug = group.partition(" | ")
            if not drug:
                continue
            subject = tx.get_or_create_subject(st, line, kind="cell_line")
            sample = tx.get_or_create_sample(
                subject, f"{line} dose-response {str(digest)[7:19]}", kind="other"
            )
            ed50 = fit["ed50"]
            tx.add_measurement(
                sample,
                assay="dose_response",
                target=drug,
                quantity="ic50",
                value=ed50["estimate"],
                unit=unit or "",
                ci_low=ed50["ci_low"],
                ci_high=ed50["ci_high"],
                run=run,
                attributes={
                    "model": fit["model"],
                    "se_method": fit["se_method"],
                    "status": fit["status"],
                    "flags": fit["flags"],
                },
            )
            n += 1
        return {"run_id": run.id, "measurements": n, "db": store.url}
