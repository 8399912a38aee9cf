"""schedule ledger kept: a removed schedule is marked, not deleted

* ``schedules.removed_at``: when the schedule was removed (NULL: in force). A removed schedule no
  longer fires and is no longer listed, but its row stays, and so does its ``schedule_ledger``
  (the audit of every slot it claimed, and the runs they queued).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM schedules WHERE removed_at IS NOT NULL"))
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("removed_at")
