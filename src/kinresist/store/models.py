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
    "SAMPLE_KINDS",
    "SUBJECT_KINDS",
    "AnalysisRun",
    "Base",
    "Finding",
    "Measurement",
    "Sample",
    "Study",
    "Subject",
    "TherapyLine",
]

SUBJECT_KINDS = ("patient", "cell_line", "animal")
SAMPLE_KINDS = ("tissue", "plasma", "cell_pellet", "tumour", "other")
CALLS = ("detected", "not_detected", "indeterminate")


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
        CheckConstraint(f"kind IN {SUBJECT_KINDS!r}", name="ck_subject_kind"),
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
        CheckConstraint(f"kind IN {SAMPLE_KINDS!r}", name="ck_sample_kind"),
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
    collected: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
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
    quantity: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(50), default="")
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    call: Mapped[str | None] = mapped_column(String(20), nullable=True)
    lod: Mapped[float | None] = mapped_column(Float, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sample: Mapped[Sample] = relationship(back_populates="measurements")
