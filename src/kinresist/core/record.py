"""The one store writer: ``record(result, store, ...)`` records any workflow's result.

Everything happens in ONE transaction: the analysis run (envelope, parameters, input hashes,
body), every subject and sample the result names, every measurement and finding with its
canonical alteration key. Any error rolls everything back, so a failed record stores nothing.

Labels come from the measurement/finding itself first (a dose run names its cell lines), then
from the caller (``subject=``, ``sample=``, e.g. the CLI's ``--subject``/``--sample``). A row
with no subject is refused with a message naming the fix; samples are never invented per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kinresist.errors import InputError

if TYPE_CHECKING:
    from kinresist.core.result import Result
    from kinresist.store.api import Store, Transaction
    from kinresist.store.models import Sample, Subject

__all__ = ["RecordSummary", "SampleInfo", "record"]

#: Largest result body (JSON characters) kept whole in the run row; larger bodies keep the
#: envelope and a note (their tables are in the files the user wrote).
MAX_STORED_BODY = 5_000_000


@dataclass(frozen=True, slots=True)
class SampleInfo:
    """What the caller knows about the sample(s) of a result (CLI/web/manifest options)."""

    sample_type: str | None = None
    collected: dt.date | dt.datetime | None = None
    timepoint: str | None = None
    parent: str | None = None
    tube_type: str | None = None
    processing_hours: float | None = None
    attributes: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """What :func:`record` wrote."""

    run_id: int
    study: str
    subjects: tuple[str, ...]
    samples: tuple[str, ...]
    measurements: int
    findings: int
    db: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "study": self.study,
            "subjects": list(self.subjects),
            "samples": list(self.samples),
            "measurements": self.measurements,
            "findings": self.findings,
            "db": self.db,
        }


def record(
    result: Result,
    store: Store,
    *,
    study: str,
    subject: str | None = None,
    sample: str | None = None,
    subject_kind: str = "patient",
    info: SampleInfo | None = None,
    samples: Mapping[str, SampleInfo] | None = None,
) -> RecordSummary:
    """Record ``result`` in ``store`` in one transaction; return what was written.

    Parameters
    ----------
    result
        Any workflow's :class:`~kinresist.core.result.Result`.
    study
        Study name (created when new).
    subject, sample
        Default labels for rows that do not name their own.
    subject_kind
        Kind of subjects created here: patient, cell_line, animal or pooled.
    info, samples
        Sample metadata for every sample (``info``) or per sample label (``samples``).
    """
    return store.write(
        lambda tx: record_in(
            tx,
            result,
            study=study,
            subject=subject,
            sample=sample,
            subject_kind=subject_kind,
            info=info,
            samples=samples,
            db=store.url,
        )
    )


def record_in(
    tx: Transaction,
    result: Result,
    *,
    study: str,
    subject: str | None = None,
    sample: str | None = None,
    subject_kind: str = "patient",
    info: SampleInfo | None = None,
    samples: Mapping[str, SampleInfo] | None = None,
    db: str = "",
) -> RecordSummary:
    """:func:`record` inside a caller's transaction (a manifest import records many results)."""
    from kinresist.core.alteration import alteration_key
    from kinresist.core.serialise import clean, to_json

    st = tx.get_or_create_study(study)
    subjects: dict[str, Subject] = {}
    sample_rows: dict[tuple[str, str], Sample] = {}

    def subject_row(label: str | None) -> Subject:
        name = label or subject
        if not name:
            msg = (
                f"cannot record the {result.workflow} result: a row names no subject (patient, "
                "cell line or animal); give one with --subject"
            )
            raise InputError(msg)
        if name not in subjects:
            subjects[name] = tx.get_or_create_subject(st, name, kind=subject_kind)
        return subjects[name]

    def sample_row(subject_label: str | None, label: str | None) -> Sample:
        subj = subject_row(subject_label)
        name = label or sample
        if not name and (subject_kind in ("cell_line", "pooled") or subject_label):
            # a cell line or a pool is its own sample unless told otherwise; so is a subject
            # that a row names without a sample (a patient's clinical outcome, an animal)
            name = subj.label
        if not name:
            msg = (
                f"cannot record the {result.workflow} result: a row names no sample; give one "
                "with --sample"
            )
            raise InputError(msg)
        key = (subj.label, name)
        if key not in sample_rows:
            meta = (samples or {}).get(name) or info or SampleInfo()
            sample_rows[key] = _get_or_create_sample(tx, subj, name, meta)
        return sample_rows[key]

    body_json = to_json(result.body, indent=None)
    outputs: dict[str, Any] = result.envelope()
    if len(body_json) <= MAX_STORED_BODY:
        outputs["body"] = clean(result.body)
    else:
        outputs["body_note"] = (
            f"body of {len(body_json):,} characters not stored; see the written outputs"
        )
    first_subject = subject_row(None) if subject else None
    first_sample = (
        sample_row(None, None)
        if subject and (sample or subject_kind in ("cell_line", "pooled"))
        else None
    )
    run = tx.add_run(
        kind=result.workflow,
        parameters=dict(result.provenance.parameters),
        inputs=dict(result.provenance.inputs),
        outputs=outputs,
        kb_version=result.provenance.kb_version,
        sample=first_sample,
        study=st,
    )
    run.workflow = result.workflow
    run.schema_version = result.schema_version
    run.subject_id = None if first_subject is None else first_subject.id
    n_meas = 0
    for m in result.measurements:
        smp = sample_row(m.subject, m.sample)
        row = tx.add_measurement(
            smp,
            assay=m.assay,
            target=m.target,
            quantity=m.quantity,
            value=m.value,
            unit=m.unit,
            ci_low=m.ci_low,
            ci_high=m.ci_high,
            call=m.call,
            lod=m.lod,
            run=run,
            attributes=dict(m.attributes),
        )
        row.alteration_key = m.alteration
        row.lob = m.lob
        row.flags = list(m.flags)
        n_meas += 1
    n_find = 0
    for f in result.findings:
        smp = sample_row(None, f.sample)
        key = alteration_key(f.gene, f.alteration)
        frow = tx.add_finding(
            smp,
            gene=f.gene,
            alteration=f.alteration,
            kind=f.kind,
            source_assay=(f.source.split(":", 1)[0] if f.source else "") or result.workflow,
            vaf=f.vaf,
            copy_number=f.copy_number,
            fusion_partner=f.fusion_partner,
            fusion_variant=f.fusion_variant,
            hgvs_c=f.hgvs_c,
            hgvs_p=f.hgvs_p,
            run=run,
            attributes={"source": f.source},
        )
        frow.alteration_key = None if key is None else str(key)
        n_find += 1
    tx.session.flush()
    return RecordSummary(
        run_id=run.id,
        study=study,
        subjects=tuple(subjects),
        samples=tuple(dict.fromkeys(label for _, label in sample_rows)),
        measurements=n_meas,
        findings=n_find,
        db=db,
    )


def _get_or_create_sample(tx: Transaction, subj: Subject, label: str, meta: SampleInfo) -> Sample:
    collected = meta.collected
    day = collected.date() if isinstance(collected, dt.datetime) else collected
    at = collected if isinstance(collected, dt.datetime) else None
    parent = None
    if meta.parent:
        parent = tx.get_or_create_sample(subj, meta.parent, kind=meta.sample_type or "other")
    row = tx.get_or_create_sample(
        subj,
        label,
        kind=meta.sample_type or "other",
        collected=day,
        tube_type=meta.tube_type,
        processing_hours=meta.processing_hours,
        attributes={
            **dict(meta.attributes or {}),
            **({} if meta.sample_type else {"sample_type_given": False}),
        },
    )
    if at is not None and row.collected_at is None:
        row.collected_at = at
    if meta.timepoint and not row.timepoint:
        row.timepoint = meta.timepoint
    if parent is not None and row.parent_id is None:
        row.parent_id = parent.id
    return row
