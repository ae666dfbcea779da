"""Alteration keys for the measurements and findings a schema-0001 store holds.

0002 added ``alteration_key`` to ``measurement`` and ``finding`` but left it empty on the rows it
kept, so ``Store.by_alteration("ALK G1202R")`` did not find a patient's data recorded before the
upgrade. This data step fills it from the text those rows stored, with the one canonical
normaliser every workflow uses (:mod:`kinresist.core.alteration`):

* ``finding``: ``alteration_key(gene, alteration)`` (what the store writer computes for a new
  finding; ``ALK`` + ``G1202R`` -> ``ALK G1202R``, ``MET`` + ``AMPLIFICATION`` ->
  ``MET amplification``);
* ``measurement``: ``parse_target(target)`` (the assay-target reader of the ddPCR assay mapping;
  0001 stored ``ALK G1202R`` or the assay's own name, ``ALK_G1202R_FAM``). Only rows the 0001
  writers left behind are read: their ``flags`` is NULL, while the 0002 store writer always sets
  flags and the alteration its workflow named (or deliberately none).

A text the normaliser cannot name as a whole (``chr2:29220747``, ``MET copy number``, a drug
name) leaves the key NULL: unknown stays unknown, nothing is guessed. Rows that have a key keep
it. Plain SQL (SELECT DISTINCT, UPDATE ... WHERE), so SQLite and PostgreSQL alike.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_finding = sa.table(
    "finding",
    sa.column("gene", sa.String),
    sa.column("alteration", sa.String),
    sa.column("alteration_key", sa.String),
)
_measurement = sa.table(
    "measurement",
    sa.column("target", sa.String),
    sa.column("alteration_key", sa.String),
    sa.column("flags", sa.JSON),
)


def _finding_keys(bind: sa.Connection) -> int:
    from kinresist.core.alteration import alteration_key

    unkeyed = _finding.c.alteration_key.is_(None)
    pairs = bind.execute(
        sa.select(_finding.c.gene, _finding.c.alteration).where(unkeyed).distinct()
    ).all()
    n = 0
    for gene, alteration in pairs:
        key = alteration_key(gene or None, alteration or "")
        if key is None:
            continue
        n += bind.execute(
            sa.update(_finding)
            .where(unkeyed, _finding.c.gene == gene, _finding.c.alteration == alteration)
            .values(alteration_key=str(key))
        ).rowcount
    return n


def _measurement_keys(bind: sa.Connection) -> int:
    from kinresist.core.alteration import parse_target

    old = sa.and_(_measurement.c.alteration_key.is_(None), _measurement.c.flags.is_(None))
    targets = bind.execute(sa.select(_measurement.c.target).where(old).distinct()).scalars()
    n = 0
    for target in list(targets):
        _, key, _ = parse_target(target or "")
        if key is None:
            continue
        n += bind.execute(
            sa.update(_measurement)
            .where(old, _measurement.c.target == target)
            .values(alteration_key=str(key))
        ).rowcount
    return n


def upgrade() -> None:
    bind = op.get_bind()
    _finding_keys(bind)
    _measurement_keys(bind)


def downgrade() -> None:
    """Nothing to undo: the keys are valid 0002 data (0002 has the column)."""
