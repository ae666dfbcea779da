"""Study import: every manifest row analysed by its workflow, all recorded in ONE transaction.

Order of work:

1. the manifest (and therapy file) are read and validated (:mod:`.manifest`, :mod:`.therapy`):
   missing files, unknown assays, bad dates and duplicate labels are refused before any analysis;
2. each distinct input is analysed once through the workflow registry (``ddpcr.analyze``,
   ``dose.plate``, ``synergy.score``, and the workflow assays' workflows with the row's inputs and
   options: ``invivo.analyze``, ``clinical.survival``, ``flow.gate``, ...) or the sequencing
   readers (:mod:`.readers`); an error names the manifest row;
3. each row takes its own part of its file's result: the sample it names on a ddPCR plate or in a
   findings table (a file that names no sample belongs to the row's sample), the line it names on a
   dose plate (relabelled with the row's sample, so that each characterisation keeps its date).
   A workflow assay row takes the whole result: the subjects and samples the file names (mice,
   patients, cell lines, lanes) stay as they are; results that name no subject (a GSEA contrast,
   an interpretation's findings) are the row's subject and sample (a pooled subject when an
   animal workflow's result names no animal), and a subject named without a sample is its own
   sample; a file that names every subject leaves the row's labels unrecorded;
4. one ``store.transaction()``: samples with their collection time, type and plasma QC, one
   analysis run per row (:func:`kinresist.core.record.record_in`), therapy lines, and the import
   itself as a ``study.import`` run. Any error rolls everything back: a bad row stores nothing. A
   workflow assay whose files the study already holds, analysed with the same parameters, is
   refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinresist.core.result import Provenance, Result
from kinresist.errors import InputError, KinresistError

if TYPE_CHECKING:
    from kinresist.monitoring.manifest import Manifest, ManifestRow
    from kinresist.monitoring.therapy import TherapyTable
    from kinresist.store.api import Store, Transaction

__all__ = ["SCHEMA_VERSION", "StudyImport", "analyse_manifest", "import_study", "row_part"]

SCHEMA_VERSION = "1.0"

AnalysisKey = tuple[Any, ...]


@dataclass(slots=True)
class StudyImport(Result):
    """The ``study.import`` result; ``analyses`` keeps each row's full workflow result (the
    demo renders their reports from it without analysing twice)."""

    analyses: dict[int, Result] = field(default_factory=dict)


def _analysis_key(row: ManifestRow) -> AnalysisKey:
    if row.call is not None:
        return ("workflow", row.call)
    if row.assay == "ddpcr":
        return ("ddpcr", row.file, row.results, row.assay_map, row.assay_pairs)
    if row.assay == "ngs_vcf":
        return ("ngs_vcf", row.file, row.genome)
    if row.assay in ("dose", "synergy"):
        return (row.assay, row.file, row.plate_map)
    return ("findings", row.file)


def _run(key: AnalysisKey, rows: Sequence[ManifestRow]) -> Result:
    from kinresist.core.registry import get_workflow

    row = rows[0]
    if row.call is not None:
        return get_workflow(row.call.workflow)(**row.call.kwargs())
    if row.assay == "ddpcr":
        return get_workflow("ddpcr.analyze")(
            plate=[row.file],
            results=row.results,
            assay_map=row.assay_map,
            assay=list(row.assay_pairs),
        )
    if row.assay == "ngs_vcf":
        from kinresist.monitoring.readers import read_ngs_vcf

        return read_ngs_vcf(row.file, genome=row.genome)
    if row.assay == "dose":
        genotypes = [f"{r.subject}={';'.join(r.genotype)}" for r in rows if r.genotype]
        return get_workflow("dose.plate")(
            plate=row.file, plate_map=row.plate_map, genotype=genotypes
        )
    if row.assay == "synergy":
        return get_workflow("synergy.score")(input=row.file, plate_map=row.plate_map)
    from kinresist.monitoring.readers import read_findings_result

    return read_findings_result(row.file)


def analyse_manifest(manifest: Manifest) -> dict[int, Result]:
    """Analyse every distinct input once; return each row number's full result."""
    groups: dict[AnalysisKey, list[ManifestRow]] = {}
    for row in manifest:
        groups.setdefault(_analysis_key(row), []).append(row)
    out: dict[int, Result] = {}
    for key, rows in groups.items():
        try:
            result = _run(key, rows)
        except KinresistError as exc:
            named = isinstance(exc, InputError) and exc.path is not None
            msg = _detail(exc) if named else f"{_file_label(rows[0])}: {_detail(exc)}"
            raise manifest.error(rows[0], msg) from exc
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
            msg = f"{rows[0].file.name}: {exc.strerror or exc}: {exc.filename}"
            raise manifest.error(rows[0], msg) from exc
        for row in rows:
            out[row.number] = result
    return out


def _detail(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _file_label(row: ManifestRow) -> str:
    return row.file.name if row.call is None else row.call.source


def _workflow_row_part(result: Result, row: ManifestRow) -> tuple[list[Any], list[Any]]:
    """A workflow assay row's measurements and findings, labelled (module docstring, step 3)."""
    ms = []
    for m in result.measurements:
        if m.subject is None:
            m = replace(m, subject=row.subject, sample=m.sample or row.sample)
        elif m.sample is None:
            m = replace(m, sample=m.subject)
        ms.append(m)
    fs = [f if f.sample else replace(f, sample=row.sample) for f in result.findings]
    return ms, fs


def row_part(result: Result, row: ManifestRow, manifest: Manifest) -> Result:
    """The part of ``result`` that belongs to ``row`` (see the module docstring, step 3)."""
    ms, fs = list(result.measurements), list(result.findings)
    if row.call is not None:
        ms, fs = _workflow_row_part(result, row)
    elif row.assay == "dose":
        lines = sorted({m.subject for m in ms if m.subject})
        if row.subject not in lines:
            msg = (
                f"{row.file.name} names the cell lines {', '.join(lines) or '(none)'}; the row's "
                f"subject {row.subject!r} is not among them (subject must be the line's name "
                "as the plate map writes it)"
            )
            raise manifest.error(row, msg, column="subject")
        ms = [replace(m, sample=row.sample) for m in ms if m.subject == row.subject]
        fs = []
    else:
        named = {m.sample for m in ms if m.sample} | {f.sample for f in fs if f.sample}
        if named and row.sample not in named:
            msg = (
                f"{row.file.name} names the samples {', '.join(sorted(named)[:8])}; none is "
                f"{row.sample!r} (use the sample name the file uses, or one file per sample "
                "without sample names)"
            )
            raise manifest.error(row, msg, column="sample")
        if named:
            ms = [m for m in ms if m.sample == row.sample]
            fs = [f for f in fs if f.sample == row.sample]
        else:
            ms = [replace(m, sample=row.sample) for m in ms]
            fs = [replace(f, sample=row.sample) for f in fs]
        ms = [replace(m, subject=row.subject) for m in ms]
    qc_flags = tuple(row.qc.flags) if row.qc is not None else ()
    if qc_flags:
        ms = [replace(m, flags=tuple(dict.fromkeys((*m.flags, *qc_flags)))) for m in ms]
    return Result(
        workflow=result.workflow,
        schema_version=result.schema_version,
        provenance=result.provenance,
        body=result.body,
        measurements=ms,
        findings=fs,
        warnings=list(result.warnings),
    )


def _unlisted(manifest: Manifest, analyses: Mapping[int, Result]) -> list[str]:
    """Samples a file holds that no manifest row takes (controls, other studies' samples)."""
    listed = {r.sample for r in manifest}
    notes: dict[str, set[str]] = {}
    for row in manifest:
        if row.assay == "dose" or row.call is not None:
            continue
        result = analyses[row.number]
        named = {m.sample for m in result.measurements if m.sample}
        extra = named - listed
        if extra:
            notes.setdefault(row.file.name, set()).update(extra)
    return [
        f"{name} also holds samples {', '.join(sorted(extra))}: not in the manifest, not imported"
        for name, extra in notes.items()
    ]


def import_study(
    store: Store,
    manifest: Manifest,
    *,
    therapy: TherapyTable | None = None,
    study: str = "default",
    analyses: Mapping[int, Result] | None = None,
) -> StudyImport:
    """Import a validated manifest (and therapy table) into ``store`` in one transaction."""
    from kinresist.core.record import record_in

    done = dict(analyses) if analyses is not None else analyse_manifest(manifest)
    parts = {row.number: row_part(done[row.number], row, manifest) for row in manifest}
    infos = _sample_infos(manifest)
    warnings = _unlisted(manifest, done)
    if therapy is not None:
        warnings += therapy.warnings()
    for row in manifest:
        warnings += [f"{row.label}: {w}" for w in parts[row.number].warnings]
    rows_out: list[dict[str, Any]] = []
    therapy_out: list[dict[str, Any]] = []
    with store.transaction() as tx:
        st = tx.get_or_create_study(study)
        for row in manifest:
            part = parts[row.number]
            _refuse_reimport(tx, st.id, row, part, manifest)
            own = _row_labels_used(row, part)
            try:
                summary = record_in(
                    tx,
                    part,
                    study=study,
                    subject=row.subject if own else None,
                    sample=row.sample if own else None,
                    subject_kind=_record_kind(row, done[row.number]),
                    info=_file_sample_info(row),
                    samples={row.sample: infos[row.sample]},
                    db=store.url,
                )
            except InputError as exc:
                raise manifest.error(row, exc.detail) from exc
            rows_out.append(
                {
                    **row.to_dict(),
                    "workflow": part.workflow,
                    "run_id": summary.run_id,
                    "measurements": summary.measurements,
                    "findings": summary.findings,
                }
            )
        if therapy is not None:
            therapy_out = _record_therapy(tx, st, therapy, manifest)
        result = _summary(manifest, therapy, study, rows_out, therapy_out, warnings, done)
        run = record_in(tx, result, study=study, db=store.url)
        result.body["import_run_id"] = run.run_id
    return result


def _row_labels_used(row: ManifestRow, part: Result) -> bool:
    """Does the row's own subject hold results? Always, except for a workflow assay whose file
    names every subject itself (mice, patients): the row's labels then create nothing."""
    if row.call is None or part.findings:
        return True
    return any(m.subject == row.subject for m in part.measurements)


def _record_kind(row: ManifestRow, result: Result) -> str:
    """The kind of the subjects a row creates: the row's, except that an animal workflow's
    result naming no animal at all (a GSEA contrast of two arms) belongs to a pool of animals."""
    kind = row.subject_kind
    if kind == "animal" and row.call is not None:
        if not any(m.subject for m in result.measurements):
            return "pooled"
    return kind


def _file_sample_info(row: ManifestRow) -> Any:
    """A workflow assay's samples named by its file: the row's date, type and time point."""
    from kinresist.core.record import SampleInfo

    if row.call is None:
        return None
    return SampleInfo(
        sample_type=row.sample_type or row.call.sample_type,
        collected=row.collected,
        timepoint=row.timepoint,
    )


def _sample_infos(manifest: Manifest) -> dict[str, Any]:
    from kinresist.core.record import SampleInfo

    out: dict[str, SampleInfo] = {}
    for row in manifest:
        info = out.get(row.sample)
        attrs = row.sample_attributes()
        if info is not None and (info.attributes or not attrs):
            continue
        qc = row.qc if row.qc is not None and row.qc.given else None
        out[row.sample] = SampleInfo(
            sample_type=row.sample_type,
            collected=row.collected,
            timepoint=row.timepoint,
            tube_type=None if qc is None else qc.tube,
            processing_hours=None if qc is None else qc.hours_to_processing,
            attributes=attrs,
        )
    return out


def _refuse_reimport(
    tx: Transaction, study_id: int, row: ManifestRow, part: Result, manifest: Manifest
) -> None:
    """A sample already in the study under this subject must agree, and not hold this assay; a
    workflow assay's file must not already be recorded in the study by the same workflow."""
    from sqlalchemy import select

    from kinresist.store.models import AnalysisRun, Finding, Measurement, Sample, Subject

    s = tx.session
    workflow = part.workflow
    if row.call is not None:
        this = _as_json([part.provenance.inputs, part.provenance.parameters])
        runs = s.execute(
            select(AnalysisRun.id, AnalysisRun.inputs, AnalysisRun.parameters).where(
                AnalysisRun.study_id == study_id, AnalysisRun.workflow == workflow
            )
        )
        for run_id, inputs, parameters in runs:
            if _as_json([inputs, parameters]) == this:
                msg = (
                    f"the study already holds this {workflow} analysis of {row.call.source} (run "
                    f"{run_id}: same input files and options); remove the row, or import into "
                    "another study"
                )
                raise manifest.error(row, f"already imported: {msg}", column="file")
    sample = s.scalar(
        select(Sample)
        .join(Subject, Sample.subject_id == Subject.id)
        .where(
            Subject.study_id == study_id, Subject.label == row.subject, Sample.label == row.sample
        )
    )
    if sample is None:
        return
    day = row.collected.date() if isinstance(row.collected, dt.datetime) else row.collected
    if sample.collected is not None and sample.collected != day:
        msg = (
            f"the study already holds sample {row.sample!r} of {row.subject!r} collected "
            f"{sample.collected}, not {day}; use a new label for a new sample"
        )
        raise manifest.error(row, f"duplicate sample label: {msg}", column="sample")
    for model in (Measurement, Finding):
        run_id = s.scalar(
            select(AnalysisRun.id)
            .join(model, model.run_id == AnalysisRun.id)  # type: ignore[attr-defined]
            .where(model.sample_id == sample.id, AnalysisRun.workflow == workflow)  # type: ignore[attr-defined]
            .limit(1)
        )
        if run_id is not None:
            msg = (
                f"sample {row.sample!r} of {row.subject!r} already has {workflow} results in the "
                f"study (run {run_id}); remove the row, or use a new sample label"
            )
            raise manifest.error(row, f"duplicate sample label: {msg}", column="sample")


def _options_text(call: Mapping[str, Any] | None) -> str:
    """A workflow assay's inputs and options as one cell of the rows table."""
    if not call:
        return ""
    items = [f"{k}={', '.join(v)}" for k, v in call["inputs"].items()]
    items += [f"{k}={v}" for k, v in call["options"].items()]
    return "; ".join(items)


def _as_json(value: Any) -> str:
    """``value`` as canonical JSON (what the store keeps, keys sorted) for comparisons."""
    import json

    from kinresist.core.serialise import to_json

    return json.dumps(json.loads(to_json({"v": value}, indent=None)), sort_keys=True)


def _record_therapy(
    tx: Transaction, study: Any, therapy: TherapyTable, manifest: Manifest
) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from kinresist.monitoring.therapy import TherapySpan
    from kinresist.store.models import Subject, TherapyLine

    out = []
    kinds = manifest.subjects
    for r in sorted(therapy, key=lambda r: (r.subject, r.start)):
        subject = tx.session.scalar(
            select(Subject).where(Subject.study_id == study.id, Subject.label == r.subject)
        )
        if subject is None:
            msg = (
                f"therapy row {r.number}: subject {r.subject!r} is in neither the manifest "
                f"({', '.join(kinds)}) nor study {study.name!r}; check the spelling"
            )
            raise InputError(msg, path=therapy.path, line=r.line, column="subject")
        lines = list(
            tx.session.scalars(select(TherapyLine).where(TherapyLine.subject_id == subject.id))
        )
        same = [x for x in lines if x.drug == r.drug.lower() and x.start_date == r.start]
        if same:
            out.append({**r.to_dict(), "line": same[0].line_number, "status": "already recorded"})
            continue
        new = TherapySpan(0, r.drug, r.start, r.end)
        for x in lines:
            old = TherapySpan(x.line_number, x.drug, x.start_date, x.end_date)
            if _overlap(old, new):
                msg = (
                    f"therapy row {r.number}: {r.drug} from {r.start} overlaps line "
                    f"{x.line_number} ({x.drug}, {x.start_date} to {x.end_date or 'ongoing'}) "
                    "already in the store"
                )
                raise InputError(msg, path=therapy.path, line=r.line)
        number = max((x.line_number for x in lines), default=0) + 1
        tx.add_therapy_line(
            subject,
            line_number=number,
            drug=r.drug,
            start_date=r.start,
            end_date=r.end,
            best_response=r.best_response,
            note=r.note,
        )
        out.append({**r.to_dict(), "line": number, "status": "recorded"})
    return out


def _overlap(a: Any, b: Any) -> bool:
    first, second = sorted((a, b), key=lambda x: x.start or dt.date.min)
    return first.end is None or (second.start is not None and first.end > second.start)


def _summary(
    manifest: Manifest,
    therapy: TherapyTable | None,
    study: str,
    rows: list[dict[str, Any]],
    therapy_rows: list[dict[str, Any]],
    warnings: list[str],
    analyses: Mapping[int, Result],
) -> StudyImport:
    import pandas as pd

    inputs: dict[str, Path] = {manifest.path.name: manifest.path}
    if therapy is not None:
        inputs[therapy.path.name] = therapy.path
    qc_rows = []
    seen = set()
    for row in manifest:
        if row.sample in seen or row.qc is None or not row.qc.given:
            continue
        seen.add(row.sample)
        qc_rows.append({"subject": row.subject, "sample": row.sample, **row.qc.to_dict()})
    qc_table = pd.DataFrame(qc_rows)
    if "flags" in qc_table:
        qc_table["flags"] = qc_table["flags"].map(";".join)
    table = pd.DataFrame(rows).drop(columns=["qc", "call"], errors="ignore")
    if any("call" in r for r in rows):
        table["options"] = [_options_text(r.get("call")) for r in rows]
    return StudyImport(
        workflow="study.import",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs=inputs, parameters={"study": study}),
        body={
            "study": study,
            "manifest": manifest.path.name,
            "rows": rows,
            "samples": len({r.sample for r in manifest}),
            "subjects": manifest.subjects,
            "therapy": therapy_rows,
            "plasma_qc": qc_rows,
        },
        tables={"rows": table, "plasma_qc": qc_table},
        warnings=warnings,
        analyses=dict(analyses),
    )
