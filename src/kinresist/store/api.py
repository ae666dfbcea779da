"""The project store's service layer: one transaction per import.

Library code never opens the store; CLI commands and the demo do::

    with open_store(db) as store:
        with store.transaction() as tx:
            study = tx.get_or_create_study("ALK resistance")
            ...

Any exception inside ``transaction()`` rolls back everything written in it, so a
bad file stores nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from kinresist._version import __version__
from kinresist.errors import InputError, KinresistError, StoreError
from kinresist.store.engine import make_engine, migrate, resolve_url
from kinresist.store.models import (
    SAMPLE_KINDS,
    SUBJECT_KINDS,
    AnalysisRun,
    ApiToken,
    AuditLog,
    Finding,
    Job,
    LineageEvent,
    Measurement,
    Sample,
    Study,
    StudyMember,
    Subject,
    TherapyLine,
    User,
)

_COUNTED = (
    Study,
    Subject,
    Sample,
    TherapyLine,
    AnalysisRun,
    Finding,
    Measurement,
    LineageEvent,
    User,
    ApiToken,
    StudyMember,
    AuditLog,
    Job,
)

__all__ = ["Store", "StoreBusyError", "Transaction", "open_store"]


T = TypeVar("T")


class StoreBusyError(StoreError):
    """Another process holds the store's write lock (SQLite) or a conflicting lock."""


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return (
        "database is locked" in text
        or "database is busy" in text
        or "could not obtain lock" in text
    )


def _reason(exc: SQLAlchemyError) -> str:
    """The database's own one-line reason, without the SQL statement or its parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).split("\n", 1)[0]
    return " ".join(text.split())


def _check_choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        msg = f"unknown {what} {value!r}; expected one of {list(allowed)}"
        raise InputError(msg)
    return value


def _jsonable(obj: Any) -> Any:
    """Round-trip through kinresist's JSON encoder (numpy, NaN, dates)."""
    import json

    from kinresist.provenance import to_json

    return json.loads(to_json(obj, indent=None))


class Transaction:
    """Write access inside one database transaction (see :meth:`Store.transaction`)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- entities ---------------------------------------------------------
    def get_or_create_study(self, name: str, *, description: str = "") -> Study:
        study = self.session.scalar(select(Study).where(Study.name == name))
        if study is None:
            # a savepoint makes this safe against a concurrent writer creating the same study
            try:
                with self.session.begin_nested():
                    study = Study(name=name, description=description)
                    self.session.add(study)
                    self.session.flush()
            except IntegrityError:
                study = self.session.scalar(select(Study).where(Study.name == name))
                if study is None:
                    raise
        return study

    def get_or_create_subject(
        self,
        study: Study,
        label: str,
        *,
        kind: str = "patient",
        species: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Subject:
        _check_choice(kind, SUBJECT_KINDS, "subject kind")
        subject = self.session.scalar(
            select(Subject).where(Subject.study_id == study.id, Subject.label == label)
        )
        if subject is None:
            try:
                with self.session.begin_nested():
                    subject = Subject(
                        study_id=study.id,
                        label=label,
                        kind=kind,
                        species=species,
                        attributes=_jsonable(dict(attributes or {})),
                    )
                    self.session.add(subject)
                    self.session.flush()
            except IntegrityError:  # created meanwhile by a concurrent writer
                subject = self.session.scalar(
                    select(Subject).where(Subject.study_id == study.id, Subject.label == label)
                )
                if subject is None:
                    raise
        elif subject.kind != kind:
            msg = f"subject {label!r} already exists as a {subject.kind}, not a {kind}"
            raise InputError(msg)
        return subject

    def get_or_create_sample(
        self,
        subject: Subject,
        label: str,
        *,
        kind: str = "tissue",
        collected: dt.date | None = None,
        tube_type: str | None = None,
        processing_hours: float | None = None,
        site: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Sample:
        _check_choice(kind, SAMPLE_KINDS, "sample kind")
        if processing_hours is not None and processing_hours < 0:
            msg = f"time to processing must be >= 0 hours, got {processing_hours}"
            raise InputError(msg)
        sample = self.session.scalar(
            select(Sample).where(Sample.subject_id == subject.id, Sample.label == label)
        )
        if sample is None:
            sample = Sample(
                subject_id=subject.id,
                label=label,
                kind=kind,
                collected=collected,
                tube_type=tube_type,
                processing_hours=processing_hours,
                site=site,
                attributes=_jsonable(dict(attributes or {})),
            )
            self.session.add(sample)
            self.session.flush()
        return sample

    def add_therapy_line(
        self,
        subject: Subject,
        *,
        line_number: int,
        drug: str,
        start_date: dt.date | None = None,
        end_date: dt.date | None = None,
        best_response: str | None = None,
        progression: bool | None = None,
        note: str = "",
    ) -> TherapyLine:
        if start_date and end_date and end_date < start_date:
            msg = (
                f"therapy line {line_number} ({drug}) ends {end_date} before it starts {start_date}"
            )
            raise InputError(msg)
        line = TherapyLine(
            subject_id=subject.id,
            line_number=line_number,
            drug=drug.lower(),
            start_date=start_date,
            end_date=end_date,
            best_response=best_response,
            progression=progression,
            note=note,
        )
        self.session.add(line)
        self.session.flush()
        return line

    def add_run(
        self,
        *,
        kind: str,
        parameters: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        kb_version: str | None = None,
        sample: Sample | None = None,
        study: Study | None = None,
    ) -> AnalysisRun:
        run = AnalysisRun(
            kind=kind,
            package_version=__version__,
            kb_version=kb_version,
            parameters=_jsonable(dict(parameters or {})),
            inputs=_jsonable(dict(inputs or {})),
            outputs=_jsonable(dict(outputs or {})),
            sample_id=None if sample is None else sample.id,
            study_id=None if study is None else study.id,
        )
        self.session.add(run)
        self.session.flush()
        return run

    def add_finding(
        self,
        sample: Sample,
        *,
        gene: str,
        alteration: str,
        kind: str,
        source_assay: str,
        vaf: float | None = None,
        copy_number: float | None = None,
        fusion_partner: str | None = None,
        fusion_variant: str | None = None,
        hgvs_c: str | None = None,
        hgvs_p: str | None = None,
        run: AnalysisRun | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Finding:
        if vaf is not None and not 0.0 <= vaf <= 1.0:
            msg = f"VAF for {gene} {alteration} must be a fraction in [0, 1], got {vaf}"
            raise InputError(msg)
        finding = Finding(
            sample_id=sample.id,
            run_id=None if run is None else run.id,
            gene=gene,
            alteration=alteration,
            kind=kind,
            vaf=vaf,
            copy_number=copy_number,
            fusion_partner=fusion_partner,
            fusion_variant=fusion_variant,
            hgvs_c=hgvs_c,
            hgvs_p=hgvs_p,
            source_assay=source_assay,
            attributes=_jsonable(dict(attributes or {})),
        )
        self.session.add(finding)
        self.session.flush()
        return finding

    def add_measurement(
        self,
        sample: Sample,
        *,
        assay: str,
        target: str,
        quantity: str,
        value: float | None,
        unit: str = "",
        ci_low: float | None = None,
        ci_high: float | None = None,
        call: str | None = None,
        lod: float | None = None,
        run: AnalysisRun | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Measurement:
        if call is not None:
            _check_choice(call, ("detected", "not_detected", "indeterminate"), "call")
        m = Measurement(
            sample_id=sample.id,
            run_id=None if run is None else run.id,
            assay=assay,
            target=target,
            quantity=quantity,
            value=value,
            unit=unit,
            ci_low=ci_low,
            ci_high=ci_high,
            call=call,
            lod=lod,
            attributes=_jsonable(dict(attributes or {})),
        )
        self.session.add(m)
        self.session.flush()
        return m


class Store:
    """An open project store (SQLite file or PostgreSQL database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: commits when the block ends, rolls back on any exception."""
        session = Session(self.engine, expire_on_commit=False)
        try:
            with session.begin():
                yield Transaction(session)
        except IntegrityError as exc:
            msg = f"store rejected the data (nothing was written): {_reason(exc)}"
            raise StoreError(msg) from exc
        except KinresistError:
            raise
        except OperationalError as exc:
            if _is_busy(exc):
                msg = "the store is busy: another process is writing to it"
                raise StoreBusyError(msg) from exc
            msg = f"store error (nothing was written): {_reason(exc)}"
            raise StoreError(msg) from exc
        except SQLAlchemyError as exc:
            msg = f"store error (nothing was written): {_reason(exc)}"
            raise StoreError(msg) from exc
        finally:
            session.close()

    def write(self, work: Callable[[Transaction], T], *, timeout: float | None = None) -> T:
        """Run ``work`` in one transaction, waiting (with backoff) while another writer holds the
        lock. Stage everything before calling this, so the lock is held only while writing.

        The wait is ``timeout`` seconds (default ``$KINRESIST_DB_TIMEOUT`` or 300); a one-line note
        goes to stderr when it starts, and a clear :class:`StoreBusyError` ends it.
        """
        import os
        import random
        import sys
        import time

        limit = float(os.environ.get("KINRESIST_DB_TIMEOUT", "300")) if timeout is None else timeout
        start = time.monotonic()
        delay = 0.05
        told = False
        while True:
            try:
                with self.transaction() as tx:
                    return work(tx)
            except StoreBusyError:
                waited = time.monotonic() - start
                if waited >= limit:
                    msg = (
                        f"the store {self.url} stayed busy for {waited:.0f} s (another process is "
                        "writing); nothing was written. Retry when it finishes, or raise "
                        "$KINRESIST_DB_TIMEOUT"
                    )
                    raise StoreBusyError(msg) from None
                if not told:
                    sys.stderr.write(
                        f"store busy (another import is writing); waiting up to {limit:.0f} s...\n"
                    )
                    told = True
                time.sleep(min(delay * (1 + random.random()), max(limit - waited, 0.01)))
                delay = min(delay * 2, 2.0)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only session for queries."""
        with Session(self.engine) as session:
            yield session

    # -- queries ------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Row counts per table (used to show that a failed import stored nothing)."""
        from sqlalchemy import func

        out: dict[str, int] = {}
        with self.session() as s:
            for model in _COUNTED:
                out[model.__tablename__] = int(
                    s.scalar(select(func.count()).select_from(model)) or 0
                )
        return out

    def studies(self) -> list[Study]:
        with self.session() as s:
            return list(s.scalars(select(Study).order_by(Study.name)))

    def samples(self, *, study: str | None = None) -> list[Sample]:
        with self.session() as s:
            q = select(Sample).options(selectinload(Sample.subject).selectinload(Subject.study))
            if study is not None:
                q = q.join(Subject).join(Study).where(Study.name == study)
            return list(s.scalars(q.order_by(Sample.id)))

    def findings(self, *, sample_label: str | None = None) -> list[Finding]:
        with self.session() as s:
            q = select(Finding).options(selectinload(Finding.sample))
            if sample_label is not None:
                q = q.join(Sample).where(Sample.label == sample_label)
            return list(s.scalars(q.order_by(Finding.id)))

    def measurements(self, *, target: str | None = None) -> list[Measurement]:
        with self.session() as s:
            q = select(Measurement).options(selectinload(Measurement.sample))
            if target is not None:
                q = q.where(Measurement.target == target)
            return list(s.scalars(q.order_by(Measurement.id)))

    def by_alteration(self, key: str, *, study: str | None = None) -> list[dict[str, Any]]:
        """Every measurement and finding recorded under the canonical alteration ``key``
        (``"ALK G1202R"``), across workflows, subjects and samples, oldest sample first."""
        from kinresist.core.alteration import alteration_key

        parsed = alteration_key(None, key)
        text = key if parsed is None else str(parsed)
        rows: list[dict[str, Any]] = []
        with self.session() as s:
            qm = (
                select(Measurement, Sample, Subject, Study, AnalysisRun)
                .join(Sample, Measurement.sample_id == Sample.id)
                .join(Subject, Sample.subject_id == Subject.id)
                .join(Study, Subject.study_id == Study.id)
                .outerjoin(AnalysisRun, Measurement.run_id == AnalysisRun.id)
                .where(Measurement.alteration_key == text)
            )
            qf = (
                select(Finding, Sample, Subject, Study, AnalysisRun)
                .join(Sample, Finding.sample_id == Sample.id)
                .join(Subject, Sample.subject_id == Subject.id)
                .join(Study, Subject.study_id == Study.id)
                .outerjoin(AnalysisRun, Finding.run_id == AnalysisRun.id)
                .where(Finding.alteration_key == text)
            )
            if study is not None:
                qm = qm.where(Study.name == study)
                qf = qf.where(Study.name == study)
            for m, smp, subj, st, run in s.execute(qm):
                rows.append(
                    {
                        "record": "measurement",
                        "alteration": text,
                        "study": st.name,
                        "subject": subj.label,
                        "subject_kind": subj.kind,
                        "sample": smp.label,
                        "sample_kind": smp.kind,
                        "collected": smp.collected,
                        "workflow": None if run is None else (run.workflow or run.kind),
                        "assay": m.assay,
                        "quantity": m.quantity,
                        "value": m.value,
                        "unit": m.unit,
                        "ci_low": m.ci_low,
                        "ci_high": m.ci_high,
                        "call": m.call,
                        "lod": m.lod,
                    }
                )
            for f, smp, subj, st, run in s.execute(qf):
                rows.append(
                    {
                        "record": "finding",
                        "alteration": text,
                        "study": st.name,
                        "subject": subj.label,
                        "subject_kind": subj.kind,
                        "sample": smp.label,
                        "sample_kind": smp.kind,
                        "collected": smp.collected,
                        "workflow": None if run is None else (run.workflow or run.kind),
                        "assay": f.source_assay,
                        "quantity": "vaf" if f.vaf is not None else "finding",
                        "value": f.vaf,
                        "unit": "fraction" if f.vaf is not None else "",
                        "ci_low": None,
                        "ci_high": None,
                        "call": "detected",
                        "lod": None,
                    }
                )
        rows.sort(key=lambda r: (r["collected"] or dt.date.max, r["subject"], r["sample"]))
        return rows

    def revision(self) -> str | None:
        """The schema revision of the store (Alembic)."""
        from kinresist.store.engine import current_revision

        return current_revision(self.engine)

    def runs(self, *, kind: str | None = None) -> list[AnalysisRun]:
        with self.session() as s:
            q = select(AnalysisRun)
            if kind is not None:
                q = q.where(AnalysisRun.kind == kind)
            return list(s.scalars(q.order_by(AnalysisRun.id)))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_store(db: str | None = None, *, migrate_schema: bool = True) -> Store:
    """Open (and by default migrate to head) the store at ``db``.

    Parameters
    ----------
    db
        A SQLite file path, an SQLAlchemy URL (``postgresql+psycopg://user@host/db``),
        or None for ``$KINRESIST_DB`` / the user data directory.
    migrate_schema
        Run Alembic migrations to the head revision first.
    """
    engine = make_engine(resolve_url(db))
    if migrate_schema:
        migrate(engine)
    return Store(engine)
