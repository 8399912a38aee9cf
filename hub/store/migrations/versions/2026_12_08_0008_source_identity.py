"""source identity

Hub-level source options (``sources.options``: id prefix, precedence, reference policy; see
hub.store._options) and cross-source links (``entities.linked_to``: the entity id of the record
shown for a group of linked records, NULL for that record itself and for unlinked ones; see
hub.identity). Existing sources get ``{}``: no id prefix, so the sourcedIds their consumers use
stay as they are.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("options", _JSON, nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table("entities") as batch:
        batch.add_column(sa.Column("linked_to", _KEY, nullable=True))
    op.create_index("ix_entities_linked", "entities", ["tenant_id", "type", "linked_to"],
                    sqlite_where=sa.text("linked_to IS NOT NULL"), postgresql_where=sa.text("linked_to IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_entities_linked", "entities")
    with op.batch_alter_table("entities") as batch:
        batch.drop_column("linked_to")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("options")
