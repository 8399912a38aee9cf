"""scheduler: schedules, the slot ledger, source safeguards, held runs, the worker of a run

* ``schedules``: cron or interval schedules per source; ``anchor`` is the start of the slot grid,
  so every node computes the same slots.
* ``schedule_ledger``: one row per claimed slot, UNIQUE (schedule_id, slot): the node whose insert
  wins enqueues the run; the others lose the insert and do nothing.
* ``source_safeguards``: change thresholds per source (a run exceeding them is held).
* ``run_holds``: a held run's diff (from its dry run) and the decision taken on it.
* ``sync_runs.worker``: the worker that claimed the run (``host:pid``), NULL when unclaimed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("tenant_id", _KEY, nullable=False),
        sa.Column("source_id", _KEY, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cron", sa.String(128), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("full_refresh", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _ts("anchor"),
        _ts("created_at"),
        _ts("updated_at"),
        _fk("schedules", "tenant_id", "tenants", "CASCADE"),
        _fk("schedules", "source_id", "sources", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_index(op.f("ix_schedules_tenant_id_source_id"), "schedules", ["tenant_id", "source_id"])
    op.create_table(
        "schedule_ledger",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("schedule_id", _KEY, nullable=False),
        _ts("slot"),
        sa.Column("node", sa.String(128), nullable=False),
        _ts("claimed_at"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("run_id", _KEY, nullable=True),
        _fk("schedule_ledger", "schedule_id", "schedules", "CASCADE"),
        _fk("schedule_ledger", "run_id", "sync_runs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_ledger")),
        sa.UniqueConstraint("schedule_id", "slot", name=op.f("uq_schedule_ledger_schedule_id_slot")),
    )
    op.create_table(
        "source_safeguards",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("tenant_id", _KEY, nullable=False),
        sa.Column("source_id", _KEY, nullable=False),
        sa.Column("max_delete_pct", sa.Float(), nullable=True),
        sa.Column("max_change_pct", sa.Float(), nullable=True),
        sa.Column("per_type", _JSON, nullable=False),
        sa.Column("min_entities", sa.Integer(), nullable=False),
        _ts("updated_at"),
        _fk("source_safeguards", "tenant_id", "tenants", "CASCADE"),
        _fk("source_safeguards", "source_id", "sources", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_safeguards")),
        sa.UniqueConstraint("source_id", name=op.f("uq_source_safeguards_source_id")),
    )
    op.create_table(
        "run_holds",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("tenant_id", _KEY, nullable=False),
        sa.Column("run_id", _KEY, nullable=False),
        sa.Column("dry_run_id", _KEY, nullable=True),
        sa.Column("diff", _JSON, nullable=False),
        sa.Column("reasons", _JSON, nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decided_by", sa.String(255), nullable=True),
        _ts("decided_at", nullable=True),
        _ts("created_at"),
        _fk("run_holds", "tenant_id", "tenants", "CASCADE"),
        _fk("run_holds", "run_id", "sync_runs", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_holds")),
        sa.UniqueConstraint("run_id", name=op.f("uq_run_holds_run_id")),
    )
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("worker", sa.String(128), nullable=True))
    op.create_index(op.f("ix_sync_runs_status"), "sync_runs", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_runs_status"), table_name="sync_runs")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("worker")
    op.drop_table("run_holds")
    op.drop_table("source_safeguards")
    op.drop_table("schedule_ledger")
    op.drop_index(op.f("ix_schedules_tenant_id_source_id"), table_name="schedules")
    op.drop_table("schedules")
