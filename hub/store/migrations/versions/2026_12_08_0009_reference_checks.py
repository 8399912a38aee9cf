"""reference checks: warnings in the run report

* ``run_errors.severity``: ``error`` (the record was not kept) or ``warning`` (the record was kept
  with a problem: a reference to a missing or ``tobedeleted`` object, a tolerated value); existing
  rows are errors.
* ``sync_runs.warnings``: how many warnings a run reported (all are counted; at most the run's
  error limit are kept as rows).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_errors") as batch:
        batch.add_column(sa.Column("severity", sa.String(16), nullable=False, server_default="error"))
    op.create_index(op.f("ix_run_errors_run_id_severity"), "run_errors", ["run_id", "severity"])
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("warnings", sa.Integer(), nullable=False, server_default="0"))


def _drop_column(table: str, column: str) -> None:
    """Drop a column in place. SQLite 3.35+ does that natively; a batch (copy the table, drop the old
    one) is the fallback, and on ``sync_runs`` it would delete every run's report rows through
    their ON DELETE CASCADE."""
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    _drop_column("sync_runs", "warnings")
    op.drop_index(op.f("ix_run_errors_run_id_severity"), table_name="run_errors")
    _drop_column("run_errors", "severity")
