"""Initial schema: study, subject, sample, therapy line, analysis run, finding, measurement.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "study",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_table(
        "subject",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "study_id", sa.Integer, sa.ForeignKey("study.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("species", sa.String(100), nullable=True),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.UniqueConstraint("study_id", "label", name="uq_subject_study_label"),
        sa.CheckConstraint("kind IN ('patient', 'cell_line', 'animal')", name="ck_subject_kind"),
    )
    op.create_index("ix_subject_study_id", "subject", ["study_id"])
    op.create_table(
        "sample",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "subject_id",
            sa.Integer,
            sa.ForeignKey("subject.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("collected", sa.Date, nullable=True),
        sa.Column("tube_type", sa.String(100), nullable=True),
        sa.Column("processing_hours", sa.Float, nullable=True),
        sa.Column("site", sa.String(200), nullable=True),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.UniqueConstraint("subject_id", "label", name="uq_sample_subject_label"),
        sa.CheckConstraint(
            "kind IN ('tissue', 'plasma', 'cell_pellet', 'tumour', 'other')", name="ck_sample_kind"
        ),
        sa.CheckConstraint(
            "processing_hours IS NULL OR processing_hours >= 0", name="ck_sample_processing"
        ),
    )
    op.create_index("ix_sample_subject_id", "sample", ["subject_id"])
    op.create_table(
        "therapy_line",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "subject_id",
            sa.Integer,
            sa.ForeignKey("subject.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("line_number", sa.Integer, nullable=False),
        sa.Column("drug", sa.String(200), nullable=False),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("best_response", sa.String(50), nullable=True),
        sa.Column("progression", sa.Boolean, nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.UniqueConstraint("subject_id", "line_number", name="uq_therapy_subject_line"),
        sa.CheckConstraint("line_number >= 1", name="ck_therapy_line_number"),
    )
    op.create_index("ix_therapy_line_subject_id", "therapy_line", ["subject_id"])
    op.create_table(
        "analysis_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("package_version", sa.String(50), nullable=False),
        sa.Column("kb_version", sa.String(100), nullable=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column(
            "sample_id", sa.Integer, sa.ForeignKey("sample.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column(
            "study_id", sa.Integer, sa.ForeignKey("study.id", ondelete="SET NULL"), nullable=True
        ),
    )
    op.create_index("ix_analysis_run_kind", "analysis_run", ["kind"])
    op.create_index("ix_analysis_run_sample_id", "analysis_run", ["sample_id"])
    op.create_index("ix_analysis_run_study_id", "analysis_run", ["study_id"])
    op.create_table(
        "finding",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "sample_id", sa.Integer, sa.ForeignKey("sample.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("analysis_run.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("gene", sa.String(50), nullable=False),
        sa.Column("alteration", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("vaf", sa.Float, nullable=True),
        sa.Column("copy_number", sa.Float, nullable=True),
        sa.Column("fusion_partner", sa.String(50), nullable=True),
        sa.Column("fusion_variant", sa.String(50), nullable=True),
        sa.Column("hgvs_c", sa.String(200), nullable=True),
        sa.Column("hgvs_p", sa.String(200), nullable=True),
        sa.Column("source_assay", sa.String(50), nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.CheckConstraint("vaf IS NULL OR (vaf >= 0 AND vaf <= 1)", name="ck_finding_vaf"),
        sa.CheckConstraint("copy_number IS NULL OR copy_number >= 0", name="ck_finding_cn"),
    )
    op.create_index("ix_finding_sample_id", "finding", ["sample_id"])
    op.create_index("ix_finding_run_id", "finding", ["run_id"])
    op.create_index("ix_finding_gene", "finding", ["gene"])
    op.create_table(
        "measurement",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "sample_id", sa.Integer, sa.ForeignKey("sample.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("analysis_run.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("assay", sa.String(50), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("quantity", sa.String(100), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("unit", sa.String(50), nullable=False),
        sa.Column("ci_low", sa.Float, nullable=True),
        sa.Column("ci_high", sa.Float, nullable=True),
        sa.Column("call", sa.String(20), nullable=True),
        sa.Column("lod", sa.Float, nullable=True),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.CheckConstraint(
            "call IS NULL OR call IN ('detected', 'not_detected', 'indeterminate')",
            name="ck_measurement_call",
        ),
    )
    op.create_index("ix_measurement_sample_id", "measurement", ["sample_id"])
    op.create_index("ix_measurement_run_id", "measurement", ["run_id"])
    op.create_index("ix_measurement_target", "measurement", ["target"])


def downgrade() -> None:
    for table in (
        "measurement",
        "finding",
        "analysis_run",
        "therapy_line",
        "sample",
        "subject",
        "study",
    ):
        op.drop_table(table)
