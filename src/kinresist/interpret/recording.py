"""Store an interpretation and its findings in the project store (one transaction).

Used by ``kinresist interpret --db``; the interpretation itself stays pure. Every
write happens inside one :meth:`Store.transaction`: if anything fails, nothing is
stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinresist.interpret.result import Interpretation

__all__ = ["record_interpretation"]


def record_interpretation(
    store: Any,
    interpretation: Interpretation,
    *,
    study: str,
    subject: str,
    sample: str,
    subject_kind: str = "patient",
    sample_kind: str = "tissue",
    inputs: Mapping[str, str] | None = None,
    source_assay: str = "interpret",
) -> dict[str, Any]:
    """Write the sample, its (resolved) findings and the interpretation run; return their ids."""
    payload = interpretation.to_dict()
    with store.transaction() as tx:
        st = tx.get_or_create_study(study)
        subj = tx.get_or_create_subject(st, subject, kind=subject_kind)
        smp = tx.get_or_create_sample(subj, sample, kind=sample_kind)
        run = tx.add_run(
            kind="interpret",
            parameters=dict(payload.get("parameters", {})),
            inputs=dict(inputs or payload.get("inputs", {})),
            outputs=payload,
            kb_version=interpretation.kb_version,
            sample=smp,
        )
        ids = []
        for f in (fr.finding for fr in interpretation.findings):
            row = tx.add_finding(
                smp,
                gene=f.gene,
                alteration=f.alteration,
                kind=f.kind,
                source_assay=(f.source.split(":", 1)[0] or source_assay)
                if f.source
                else source_assay,
                vaf=f.vaf,
                copy_number=f.copy_number,
                fusion_partner=f.fusion_partner,
                fusion_variant=f.fusion_variant,
                hgvs_c=f.hgvs_c,
                hgvs_p=f.hgvs_p,
                run=run,
                attributes={"source": f.source, "genome": f.genome},
            )
            ids.append(row.id)
        return {"study": st.id, "sample": smp.id, "run": run.id, "findings": ids}
