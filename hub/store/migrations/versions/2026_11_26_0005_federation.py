"""federation

ActivityPub federation (hub.federation): local actors with their keys, followers, followed remote
actors, received activities (deduplicated by id), received objects (read by the ``federation``
connector), the remote actor / key cache, the delivery queue and the per-tenant publishing cursor.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_URL = sa.String(length=2048)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id(table: str) -> tuple[sa.Column, sa.PrimaryKeyConstraint]:
    return sa.Column("id", _KEY, autoincrement=True, nullable=False), sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "federation_actors",
        *_id("federation_actors"),
        sa.Column("tenant_id", _KEY, nullable=True),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(255), nullable=True),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        _ts("created_at"),
        _fk("federation_actors", "tenant_id", "tenants"),
        sa.UniqueConstraint("username", name="uq_federation_actors_username"),
    )
    op.create_table(
        "federation_followers",
        *_id("federation_followers"),
        sa.Column("actor_id", _KEY, nullable=False),
        sa.Column("tenant_id", _KEY, nullable=True),
        sa.Column("follower", _URL, nullable=False),
        sa.Column("inbox", _URL, nullable=False),
        sa.Column("shared_inbox", _URL, nullable=True),
        sa.Column("follow_id", _URL, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        _fk("federation_followers", "actor_id", "federation_actors"),
        _fk("federation_followers", "tenant_id", "tenants"),
        sa.UniqueConstraint("actor_id", "follower", name="uq_federation_followers_actor_id_follower"),
    )
    op.create_index("ix_federation_followers_tenant_id_state", "federation_followers", ["tenant_id", "state"])
    op.create_table(
        "federation_following",
        *_id("federation_following"),
        sa.Column("tenant_id", _KEY, nullable=False),
        sa.Column("actor_id", _KEY, nullable=False),
        sa.Column("remote_actor", _URL, nullable=False),
        sa.Column("remote_inbox", _URL, nullable=False),
        sa.Column("follow_id", _URL, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source_name", sa.String(128), nullable=True),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        _fk("federation_following", "tenant_id", "tenants"),
        _fk("federation_following", "actor_id", "federation_actors"),
        sa.UniqueConstraint("tenant_id", "remote_actor", name="uq_federation_following_tenant_id_remote_actor"),
    )
    op.create_table(
        "federation_inbox",
        *_id("federation_inbox"),
        sa.Column("activity_id", _URL, nullable=False),
        sa.Column("actor", _URL, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        _ts("received_at"),
        sa.UniqueConstraint("activity_id", name="uq_federation_inbox_activity_id"),
    )
    op.create_table(
        "federation_objects",
        *_id("federation_objects"),
        sa.Column("tenant_id", _KEY, nullable=False),
        sa.Column("remote_actor", _URL, nullable=False),
        sa.Column("object_id", _URL, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        _ts("updated_at"),
        _fk("federation_objects", "tenant_id", "tenants"),
        sa.UniqueConstraint("tenant_id", "object_id", name="uq_federation_objects_tenant_id_object_id"),
    )
    op.create_index("ix_federation_objects_tenant_id_remote_actor_type", "federation_objects",
                    ["tenant_id", "remote_actor", "type"])
    op.create_table(
        "federation_remote_actors",
        *_id("federation_remote_actors"),
        sa.Column("actor", _URL, nullable=False),
        sa.Column("key_id", _URL, nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("inbox", _URL, nullable=False),
        sa.Column("shared_inbox", _URL, nullable=True),
        _ts("fetched_at"),
        sa.UniqueConstraint("actor", name="uq_federation_remote_actors_actor"),
    )
    op.create_table(
        "federation_deliveries",
        *_id("federation_deliveries"),
        sa.Column("actor_id", _KEY, nullable=False),
        sa.Column("inbox", _URL, nullable=False),
        sa.Column("activity", _JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _fk("federation_deliveries", "actor_id", "federation_actors"),
    )
    op.create_index("ix_federation_deliveries_status_next_attempt_at", "federation_deliveries",
                    ["status", "next_attempt_at"])
    op.create_table(
        "federation_cursors",
        *_id("federation_cursors"),
        sa.Column("tenant_id", _KEY, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        _fk("federation_cursors", "tenant_id", "tenants"),
        sa.UniqueConstraint("tenant_id", name="uq_federation_cursors_tenant_id"),
    )


def downgrade() -> None:
    op.drop_table("federation_cursors")
    op.drop_index("ix_federation_deliveries_status_next_attempt_at", table_name="federation_deliveries")
    op.drop_table("federation_deliveries")
    op.drop_table("federation_remote_actors")
    op.drop_index("ix_federation_objects_tenant_id_remote_actor_type", table_name="federation_objects")
    op.drop_table("federation_objects")
    op.drop_table("federation_inbox")
    op.drop_table("federation_following")
    op.drop_index("ix_federation_followers_tenant_id_state", table_name="federation_followers")
    op.drop_table("federation_followers")
    op.drop_table("federation_actors")
