"""ORM tables of the project store (SQLAlchemy 2 declarative).

Entity graph::

    Study 1-n Subject 1-n Sample 1-n Finding
                 |            \\---n Measurement
                 \\--n TherapyLine
    AnalysisRun (inputs' hashes, parameters, versions, outputs) 0-n Finding / Measurement

The schema is owned by Alembic migrations in ``store/migrations``; these classes
mirror the head revision (a test checks that they agree).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "JOB_STATUSES",
    "LINEAGE_EVENTS",
    "SAMPLE_KINDS",
    "SUBJECT_KINDS",
    "USER_ROLES",
    "AnalysisRun",
    "ApiToken",
    "AuditLog",
    "Base",
    "Finding",
    "Job",
    "LineageEvent",
    "Measurement",
    "Sample",
    "Study",
    "StudyMember",
    "Subject",
    "TherapyLine",
    "User",
]

SUBJECT_KINDS = ("patient", "cell_line", "animal", "pooled")
SAMPLE_KINDS = ("tissue", "plasma", "cell_pellet", "tumour", "blood", "cell_line", "other")
LINEAGE_EVENTS = ("derived", "dose_step", "characterised", "clone", "frozen", "note")
USER_ROLES = ("viewer", "analyst", "admin")
JOB_STATUSES = ("queued", "running", "done", "failed")
CALLS = ("detected", "not_detected", "indeterminate")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON}  # noqa: RUF012


class Study(Base):
    __tablename__ = "study"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    subjects: Mapped[list[Subject]] = relationship(
        back_populates="study", cascade="all, delete-orphan"
    )


class Subject(Base):
    __tablename__ = "subject"
    __table_args__ = (
        UniqueConstraint("study_id", "label", name="uq_subject_study_label"),
        CheckConstraint(f"kind IN {_in(SUBJECT_KINDS)}", name="ck_subject_kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    species: Mapped[str | None] = mapped_column(String(100), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    study: Mapped[Study] = relationship(back_populates="subjects")
    samples: Mapped[list[Sample]] = relationship(
        back_populates="subject", cascade="all, delete-orphan"
    )
    therapy_lines: Mapped[list[TherapyLine]] = relationship(
        back_populates="subject", cascade="all, delete-orphan", order_by="TherapyLine.line_number"
    )


class Sample(Base):
    __tablename__ = "sample"
    __table_args__ = (
        UniqueConstraint("subject_id", "label", name="uq_sample_subject_label"),
        CheckConstraint(f"kind IN {_in(SAMPLE_KINDS)}", name="ck_sample_kind"),
        CheckConstraint(
            "processing_hours IS NULL OR processing_hours >= 0", name="ck_sample_processing"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subject.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    collected: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    collected_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    timepoint: Mapped[str | None] = mapped_column(String(100), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("sample.id", ondelete="SET NULL", name="fk_sample_parent"),
        nullable=True,
        index=True,
    )
    tube_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    processing_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    site: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject: Mapped[Subject] = relationship(back_populates="samples")
    findings: Mapped[list[Finding]] = relationship(
        back_populates="sample", cascade="all, delete-orphan"
    )
    measurements: Mapped[list[Measurement]] = relationship(
        back_populates="sample", cascade="all, delete-orphan"
    )


class TherapyLine(Base):
    __tablename__ = "therapy_line"
    __table_args__ = (
        UniqueConstraint("subject_id", "line_number", name="uq_therapy_subject_line"),
        CheckConstraint("line_number >= 1", name="ck_therapy_line_number"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subject.id", ondelete="CASCADE"), index=True
    )
    line_number: Mapped[int] = mapped_column(Integer)
    drug: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    best_response: Mapped[str | None] = mapped_column(String(50), nullable=True)
    progression: Mapped[bool | None] = mapped_column(nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[Subject] = relationship(back_populates="therapy_lines")


class AnalysisRun(Base):
    __tablename__ = "analysis_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), index=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    package_version: Mapped[str] = mapped_column(String(50))
    kb_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sample_id: Mapped[int | None] = mapped_column(
        ForeignKey("sample.id", ondelete="SET NULL"), nullable=True, index=True
    )
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("study.id", ondelete="SET NULL"), nullable=True, index=True
    )
    workflow: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    schema_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subject.id", ondelete="SET NULL", name="fk_analysis_run_subject"),
        nullable=True,
        index=True,
    )


class Finding(Base):
    __tablename__ = "finding"
    __table_args__ = (
        CheckConstraint("vaf IS NULL OR (vaf >= 0 AND vaf <= 1)", name="ck_finding_vaf"),
        CheckConstraint("copy_number IS NULL OR copy_number >= 0", name="ck_finding_cn"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("analysis_run.id", ondelete="SET NULL"), nullable=True, index=True
    )
    gene: Mapped[str] = mapped_column(String(50), index=True)
    alteration: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))
    vaf: Mapped[float | None] = mapped_column(Float, nullable=True)
    copy_number: Mapped[float | None] = mapped_column(Float, nullable=True)
    fusion_partner: Mapped[str | None] = mapped_column(String(50), nullable=True)
    fusion_variant: Mapped[str | None] = mapped_column(String(50), nullable=True)
    hgvs_c: Mapped[str | None] = mapped_column(String(200), nullable=True)
    hgvs_p: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source_assay: Mapped[str] = mapped_column(String(50))
    alteration_key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sample: Mapped[Sample] = relationship(back_populates="findings")


class Measurement(Base):
    __tablename__ = "measurement"
    __table_args__ = (
        CheckConstraint(f"call IS NULL OR call IN {CALLS!r}", name="ck_measurement_call"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("analysis_run.id", ondelete="SET NULL"), nullable=True, index=True
    )
    assay: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200), index=True)
    alteration_key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    quantity: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(50), default="")
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    call: Mapped[str | None] = mapped_column(String(20), nullable=True)
    lod: Mapped[float | None] = mapped_column(Float, nullable=True)
    lob: Mapped[float | None] = mapped_column(Float, nullable=True)
    flags: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sample: Mapped[Sample] = relationship(back_populates="measurements")


class LineageEvent(Base):
    """One step in a cell line's history: derived from a parent, a dose step, a characterisation."""

    __tablename__ = "lineage_event"
    __table_args__ = (
        CheckConstraint(f"event IN {_in(LINEAGE_EVENTS)}", name="ck_lineage_event"),
        CheckConstraint("dose IS NULL OR dose >= 0", name="ck_lineage_dose"),
        CheckConstraint("passage IS NULL OR passage >= 0", name="ck_lineage_passage"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subject.id", ondelete="CASCADE"), index=True
    )
    parent_subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subject.id", ondelete="SET NULL"), nullable=True
    )
    event: Mapped[str] = mapped_column(String(30))
    drug: Mapped[str | None] = mapped_column(String(200), nullable=True)
    dose: Mapped[float | None] = mapped_column(Float, nullable=True)
    dose_unit: Mapped[str | None] = mapped_column(String(20), nullable=True)
    passage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class User(Base):
    """A web-app account (password hashed with argon2)."""

    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint(f"role IN {_in(USER_ROLES)}", name="ck_user_role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiToken(Base):
    """An API token (only its SHA-256 is stored)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StudyMember(Base):
    """A user's membership of a study (a user sees only the studies they belong to)."""

    __tablename__ = "study_member"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    study_id: Mapped[int] = mapped_column(
        ForeignKey("study.id", ondelete="CASCADE"), primary_key=True
    )


class AuditLog(Base):
    """Imports, deletions and account changes."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    user_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    action: Mapped[str] = mapped_column(String(50))
    object_kind: Mapped[str] = mapped_column(String(50), default="")
    object_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Job(Base):
    """Long work run in the background (web app); its state survives a page reload."""

    __tablename__ = "job"
    __table_args__ = (CheckConstraint(f"status IN {_in(JOB_STATUSES)}", name="ck_job_status"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workflow: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    user_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("study.id", ondelete="SET NULL"), nullable=True
    )
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
