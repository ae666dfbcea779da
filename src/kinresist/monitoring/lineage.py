"""Lineage of resistant lines: dose-escalation histories and what characterised each step.

A resistant line is made by exposing a parental line to rising doses over months (seed 000,
protocol 1). :func:`record_lineage_event` writes one :class:`~kinresist.store.models.LineageEvent`
(derived from a parent, a dose step, a characterisation, a clone, a freeze, a note) with its drug,
dose (kept in nM, the text as given in the event's attributes), passage and date.
:func:`lineage_result` reads a line's history back: its ancestry, doses over time, passages, the
IC50 measured at each characterisation (dose runs on the line, with the fold shift the run
estimated), the clones and lines derived from it, and the alterations sequencing found in it
(ddPCR/NGS/findings; the genotype declared to a dose run is listed apart, it was not measured).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from kinresist.core.result import Provenance, Result
from kinresist.errors import InputError
from kinresist.monitoring._queries import find_subject

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kinresist.store.api import Store, Transaction
    from kinresist.store.models import LineageEvent, Subject

__all__ = ["SCHEMA_VERSION", "lineage_result", "record_lineage_event"]

SCHEMA_VERSION = "1.0"
#: Assays whose alteration keys are declared, not found, in a line.
_DECLARED = ("dose_response", "synergy")


def _event_dict(ev: LineageEvent, labels: dict[int, str]) -> dict[str, Any]:
    return {
        "id": ev.id,
        "line": labels.get(ev.subject_id),
        "event": ev.event,
        "parent": None if ev.parent_subject_id is None else labels.get(ev.parent_subject_id),
        "drug": ev.drug,
        "dose_nm": ev.dose,
        "dose_as_given": (ev.attributes or {}).get("dose_as_given"),
        "passage": ev.passage,
        "date": None if ev.date is None else ev.date.isoformat(),
        "note": ev.note,
    }


def record_lineage_event(
    tx: Transaction,
    *,
    study: str,
    line: str,
    parent: str | None = None,
    event: str | None = None,
    drug: str | None = None,
    dose: str | None = None,
    passage: int | None = None,
    date: dt.date | None = None,
    note: str = "",
) -> dict[str, Any]:
    """Record one event of ``line`` (created as a cell line when new); return it as a dict.

    ``event`` defaults to ``dose_step`` when a dose is given, ``derived`` when only a parent is,
    else ``note``. ``dose`` is text with a unit (``"0.5uM"``, ``"500 nM"``).
    """
    from sqlalchemy import select

    from kinresist.dose.units import parse_concentration
    from kinresist.store.models import LINEAGE_EVENTS, LineageEvent

    kind = event or ("dose_step" if dose else "derived" if parent else "note")
    if kind not in LINEAGE_EVENTS:
        msg = f"unknown lineage event {kind!r}; expected one of {', '.join(LINEAGE_EVENTS)}"
        raise InputError(msg)
    if kind == "dose_step" and (dose is None or drug is None):
        msg = "a dose_step needs --drug and --dose (e.g. --drug crizotinib --dose 0.5uM)"
        raise InputError(msg)
    if parent is not None and parent == line:
        msg = f"line {line!r} cannot be its own parent"
        raise InputError(msg)
    if passage is not None and passage < 0:
        msg = f"--passage must be >= 0, got {passage}"
        raise InputError(msg)
    dose_nm = None if dose is None else parse_concentration(dose, where="--dose")
    if dose_nm is not None and dose_nm < 0:
        msg = f"--dose must be >= 0, got {dose!r}"
        raise InputError(msg)
    st = tx.get_or_create_study(study)
    subj = tx.get_or_create_subject(st, line, kind="cell_line")
    parent_row: Subject | None = None
    known = tx.session.scalars(
        select(LineageEvent.parent_subject_id).where(
            LineageEvent.subject_id == subj.id, LineageEvent.parent_subject_id.is_not(None)
        )
    ).first()
    if parent is not None:
        parent_row = tx.get_or_create_subject(st, parent, kind="cell_line")
        if known is not None and known != parent_row.id:
            from kinresist.store.models import Subject as SubjectRow

            other = tx.session.get(SubjectRow, known)
            msg = (
                f"line {line!r} is recorded as derived from {other.label if other else known!r}, "
                f"not {parent!r}; a line has one parent"
            )
            raise InputError(msg)
    elif known is not None:
        from kinresist.store.models import Subject as SubjectRow

        parent_row = tx.session.get(SubjectRow, known)
    _check_cycle(tx.session, subj.id, None if parent_row is None else parent_row.id, line)
    ev = LineageEvent(
        subject_id=subj.id,
        parent_subject_id=None if parent_row is None else parent_row.id,
        event=kind,
        drug=None if drug is None else drug.strip().lower(),
        dose=dose_nm,
        dose_unit=None if dose_nm is None else "nM",
        passage=passage,
        date=date,
        note=note,
        attributes={} if dose is None else {"dose_as_given": dose},
    )
    tx.session.add(ev)
    tx.session.flush()
    labels = {subj.id: subj.label}
    if parent_row is not None:
        labels[parent_row.id] = parent_row.label
    return {"study": study, **_event_dict(ev, labels)}


def _check_cycle(session: Session, line_id: int, parent_id: int | None, line: str) -> None:
    """Refuse a parent that descends from the line itself."""
    from sqlalchemy import select

    from kinresist.store.models import LineageEvent

    seen = {line_id}
    current = parent_id
    while current is not None:
        if current in seen:
            msg = f"recording this parent would make {line!r} its own ancestor"
            raise InputError(msg)
        seen.add(current)
        current = session.scalars(
            select(LineageEvent.parent_subject_id).where(
                LineageEvent.subject_id == current, LineageEvent.parent_subject_id.is_not(None)
            )
        ).first()


def _ancestry(session: Session, line_id: int, labels: dict[int, str]) -> list[str]:
    from sqlalchemy import select

    from kinresist.store.models import LineageEvent, Subject

    chain: list[str] = []
    current: int | None = line_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        if current not in labels:
            row = session.get(Subject, current)
            labels[current] = "?" if row is None else row.label
        chain.append(labels[current])
        current = session.scalars(
            select(LineageEvent.parent_subject_id).where(
                LineageEvent.subject_id == current, LineageEvent.parent_subject_id.is_not(None)
            )
        ).first()
    return list(reversed(chain))


def _sequenced(session: Session, subj: Subject) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from kinresist.store.models import Finding, Measurement

    ids = [s.id for s in subj.samples]
    samples = {s.id: s for s in subj.samples}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for m in session.scalars(
        select(Measurement)
        .where(
            Measurement.sample_id.in_(ids),
            Measurement.alteration_key.is_not(None),
            Measurement.call == "detected",
            Measurement.assay.not_in(_DECLARED),
        )
        .order_by(Measurement.id)
    ):
        smp = samples[m.sample_id]
        key = (str(m.alteration_key), smp.label)
        if key in out and out[key]["quantity"] in ("fractional_abundance", "vaf"):
            continue
        out[key] = {
            "alteration": m.alteration_key,
            "sample": smp.label,
            "collected": None if smp.collected is None else smp.collected.isoformat(),
            "assay": m.assay,
            "quantity": m.quantity,
            "value": m.value,
            "unit": m.unit,
        }
    for f in session.scalars(
        select(Finding).where(Finding.sample_id.in_(ids)).order_by(Finding.id)
    ):
        smp = samples[f.sample_id]
        label = f.alteration_key or f"{f.gene} {f.alteration}"
        if (label, smp.label) in out:
            continue
        out[(label, smp.label)] = {
            "alteration": label,
            "sample": smp.label,
            "collected": None if smp.collected is None else smp.collected.isoformat(),
            "assay": f.source_assay,
            "quantity": "vaf" if f.vaf is not None else "finding",
            "value": None if f.vaf is None else 100.0 * f.vaf,
            "unit": "%" if f.vaf is not None else "",
        }
    return sorted(out.values(), key=lambda r: (r["collected"] or "", r["alteration"]))


def _order(ev: LineageEvent) -> tuple[dt.date, int, int]:
    """Date order (undated last, the same on SQLite and PostgreSQL), then passage, then entry."""
    return (ev.date or dt.date.max, -1 if ev.passage is None else ev.passage, ev.id)


def lineage_result(store: Store, line: str, *, study: str | None = None) -> Result:
    """The history of ``line`` (see the module docstring) as a ``lineage.show`` result."""
    import pandas as pd
    from sqlalchemy import select

    from kinresist.monitoring.lab import ic50_rows
    from kinresist.store.models import LineageEvent, Subject

    with store.session() as session:
        subj = find_subject(session, line, study, what="line")
        labels = {subj.id: subj.label}
        events = sorted(
            session.scalars(select(LineageEvent).where(LineageEvent.subject_id == subj.id)),
            key=_order,
        )
        children = sorted(
            session.scalars(select(LineageEvent).where(LineageEvent.parent_subject_id == subj.id)),
            key=_order,
        )
        for ev in [*events, *children]:
            for sid in (ev.subject_id, ev.parent_subject_id):
                if sid is not None and sid not in labels:
                    row = session.get(Subject, sid)
                    labels[sid] = "?" if row is None else row.label
        ancestry = _ancestry(session, subj.id, labels)
        characterisations = ic50_rows(session, subject_ids=[subj.id])
        sequenced = _sequenced(session, subj)
        study_name = subj.study.name
        kind = subj.kind
    history = [_event_dict(ev, labels) for ev in events]
    derived: dict[str, dict[str, Any]] = {}
    for ev in children:
        entry = derived.setdefault(
            labels[ev.subject_id],
            {
                "line": labels[ev.subject_id],
                "event": ev.event,
                "date": None if ev.date is None else ev.date.isoformat(),
                "passage": ev.passage,
            },
        )
        if ev.event == "clone":
            entry["event"] = "clone"
    declared = sorted({r["alteration"] for r in characterisations if r["alteration"]})
    warnings = []
    if kind != "cell_line":
        warnings.append(f"{line!r} is a {kind}, not a cell line")
    if not events:
        warnings.append(f"no lineage events recorded for {line!r} (kinresist lineage add)")
    body = {
        "line": line,
        "study": study_name,
        "parent": ancestry[-2] if len(ancestry) > 1 else None,
        "ancestry": ancestry,
        "events": history,
        "characterisations": characterisations,
        "derived": list(derived.values()),
        "clones": [d["line"] for d in derived.values() if d["event"] == "clone"],
        "sequenced_alterations": sequenced,
        "declared_genotype": declared,
    }
    event_cols = ["date", "event", "drug", "dose_nm", "dose_as_given", "passage", "parent", "note"]
    return Result(
        workflow="lineage.show",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(parameters={"line": line, "study": study_name}),
        body=body,
        tables={
            "events": pd.DataFrame(history, columns=event_cols),
            "characterisations": pd.DataFrame(characterisations),
            "derived": pd.DataFrame(body["derived"], columns=["line", "event", "date", "passage"]),
            "sequenced_alterations": pd.DataFrame(sequenced),
        },
        warnings=warnings,
    )
