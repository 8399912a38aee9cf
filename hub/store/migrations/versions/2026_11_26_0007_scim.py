"""scim resources

The ``scim_resources`` table of the SCIM 2.0 server (hub.scim, hub.api._scim): users and groups
an identity provider pushed into a ``scim_push`` source.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "scim_resources",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("tenant_id", _KEY, nullable=False),
        sa.Column("source_id", _KEY, nullable=False),
        sa.Column("store_key", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=16), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("user_name", sa.String(length=255), nullable=True),
        sa.Column("unique_key", sa.String(length=255), nullable=True),
        sa.Column("document", _JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_scim_resources_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_scim_resources_source_id_sources"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_resources")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_scim_resources_resource_id")),
        sa.UniqueConstraint("tenant_id", "source_id", "resource_type", "unique_key",
                            name=op.f("uq_scim_resources_tenant_id_source_id_resource_type_unique_key")),
    )
    op.create_index(op.f("ix_scim_resources_tenant_id_source_id_resource_type_id"), "scim_resources",
                    ["tenant_id", "source_id", "resource_type", "id"], unique=False)
    op.create_index(op.f("ix_scim_resources_store_key_resource_type_id"), "scim_resources",
                    ["store_key", "resource_type", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_scim_resources_store_key_resource_type_id"), table_name="scim_resources")
    op.drop_index(op.f("ix_scim_resources_tenant_id_source_id_resource_type_id"), table_name="scim_resources")
    op.drop_table("scim_resources")
