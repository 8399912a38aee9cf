"""follower scopes

``federation_followers.scopes``: the OneRoster scopes a follower was granted at approval, so that
federation applies the hub's one scope rule (hub.auth.may_read) like every other way out. NULL,
as for followers approved before this migration, grants roster-core only: demographics reach a
partner only when an administrator approves it with roster-demographics.readonly.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("federation_followers") as batch:
        batch.add_column(sa.Column("scopes", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("federation_followers") as batch:
        batch.drop_column("scopes")
