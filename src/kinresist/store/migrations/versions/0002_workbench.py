"""Workbench schema: subject and sample kinds, sample time/type/timepoint/parent, alteration keys on
measurements and findings, run workflow/schema, cell-line lineage, users, memberships, API tokens,
audit log and jobs. Every row of a 0001 store is kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SUBJECT_KINDS = ("patient", "cell_line", "animal", "pooled")
SAMPLE_KINDS = ("tissue", "plasma", "cell_pellet", "tumour", "blood", "cell_line", "other")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _recreate() -> Literal["always", "auto"]:
    """SQLite alters CHECK constraints only by rebuilding the table; PostgreSQL alters in place."""
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    with op.batch_alter_table("subject", recreate=_recreate()) as b:
        b.drop_constraint("ck_subject_kind", type_="check")
        b.create_check_constraint("ck_subject_kind", f"kind IN {_in(SUBJECT_KINDS)}")
    with op.batch_alter_table("sample", recreate=_recreate()) as b:
        b.drop_constraint("ck_sample_kind", type_="check")
        b.create_check_constraint("ck_sample_kind", f"kind IN {_in(SAMPLE_KINDS)}")
        b.add_column(sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("timepoint", sa.String(100), nullable=True))
        b.add_column(sa.Column("parent_id", sa.Integer, nullable=True))
        b.create_foreign_key(
            "fk_sample_parent", "sample", ["parent_id"], ["id"], ondelete="SET NULL"
        )
        b.create_index("ix_sample_parent_id", ["parent_id"])
        b.create_index("ix_sample_collected", ["collected"])
    with op.batch_alter_table("analysis_run") as b:
        b.add_column(sa.Column("workflow", sa.String(100), nullable=True))
        b.add_column(sa.Column("schema_version", sa.String(20), nullable=True))
        b.add_column(sa.Column("subject_id", sa.Integer, nullable=True))
        b.create_foreign_key(
            "fk_analysis_run_subject", "subject", ["subject_id"], ["id"], ondelete="SET NULL"
        )
        b.create_index("ix_analysis_run_subject_id", ["subject_id"])
        b.create_index("ix_analysis_run_workflow", ["workflow"])
    with op.batch_alter_table("finding") as b:
        b.add_column(sa.Column("alteration_key", sa.String(200), nullable=True))
        b.create_index("ix_finding_alteration_key", ["alteration_key"])
    with op.batch_alter_table("measurement") as b:
        b.add_column(sa.Column("alteration_key", sa.String(200), nullable=True))
        b.add_column(sa.Column("lob", sa.Float, nullable=True))
        b.add_column(sa.Column("flags", sa.JSON, nullable=True))
        b.create_index("ix_measurement_alteration_key", ["alteration_key"])
    op.create_table(
        "lineage_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "subject_id",
            sa.Integer,
            sa.ForeignKey("subject.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "parent_subject_id",
            sa.Integer,
            sa.ForeignKey("subject.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("drug", sa.String(200), nullable=True),
        sa.Column("dose", sa.Float, nullable=True),
        sa.Column("dose_unit", sa.String(20), nullable=True),
        sa.Column("passage", sa.Integer, nullable=True),
        sa.Column("date", sa.Date, nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.CheckConstraint(
            "event IN ('derived', 'dose_step', 'characterised', 'clone', 'frozen', 'note')",
            name="ck_lineage_event",
        ),
        sa.CheckConstraint("dose IS NULL OR dose >= 0", name="ck_lineage_dose"),
        sa.CheckConstraint("passage IS NULL OR passage >= 0", name="ck_lineage_passage"),
    )
    op.create_index("ix_lineage_event_subject_id", "lineage_event", ["subject_id"])
    op.create_index("ix_lineage_event_parent", "lineage_event", ["parent_subject_id"])
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("role IN ('viewer', 'analyst', 'admin')", name="ck_user_role"),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
        sa.Column("label", sa.String(100), nullable=False, server_default=""),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"])
    op.create_table(
        "study_member",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("app_user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "study_id", sa.Integer, sa.ForeignKey("study.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=True),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("object_kind", sa.String(50), nullable=False, server_default=""),
        sa.Column("object_id", sa.String(100), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_time", "audit_log", ["time"])
    op.create_table(
        "job",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("workflow", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("user_name", sa.String(100), nullable=True),
        sa.Column(
            "study_id", sa.Integer, sa.ForeignKey("study.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="ck_job_status"
        ),
    )
    op.create_index("ix_job_status", "job", ["status"])


def downgrade() -> None:
    for table in ("job", "audit_log", "study_member", "api_token", "app_user", "lineage_event"):
        op.drop_table(table)
    with op.batch_alter_table("measurement") as b:
        b.drop_index("ix_measurement_alteration_key")
        b.drop_column("flags")
        b.drop_column("lob")
        b.drop_column("alteration_key")
    with op.batch_alter_table("finding") as b:
        b.drop_index("ix_finding_alteration_key")
        b.drop_column("alteration_key")
    with op.batch_alter_table("analysis_run") as b:
        b.drop_index("ix_analysis_run_workflow")
        b.drop_index("ix_analysis_run_subject_id")
        b.drop_constraint("fk_analysis_run_subject", type_="foreignkey")
        b.drop_column("subject_id")
        b.drop_column("schema_version")
        b.drop_column("workflow")
    with op.batch_alter_table("sample", recreate=_recreate()) as b:
        b.drop_index("ix_sample_collected")
        b.drop_index("ix_sample_parent_id")
        b.drop_constraint("fk_sample_parent", type_="foreignkey")
        b.drop_column("parent_id")
        b.drop_column("timepoint")
        b.drop_column("collected_at")
        b.drop_constraint("ck_sample_kind", type_="check")
        b.create_check_constraint(
            "ck_sample_kind", "kind IN ('tissue', 'plasma', 'cell_pellet', 'tumour', 'other')"
        )
    with op.batch_alter_table("subject", recreate=_recreate()) as b:
        b.drop_constraint("ck_subject_kind", type_="check")
        b.create_check_constraint("ck_subject_kind", "kind IN ('patient', 'cell_line', 'animal')")
