"""oneroster indexes

Indexes for the OneRoster rostering API (hub.oneroster):

* ``(tenant_id, type, id)``: the default order of every collection, so a page is an index range;
* ``(tenant_id, type, updated_at)``: ``dateLastModified`` delta queries;
* expression indexes on the GUIDRef sourcedIds the nested endpoints join on (``class``, ``user``,
  ``school``, ``course``). The expressions are exactly those hub.oneroster renders (literal JSON
  paths), so both SQLite and PostgreSQL use them.

They are created on PostgreSQL only. On SQLite, the embedded single-node store, every index on
``entities`` costs about 2 us per record written by a sync (the JSON expression ones more), which
halves sync throughput; there the API pages in rowid order and answers nested and delta queries
from the (tenant_id, type, stable_id) index prefix (see docs/performance.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_REFS = ("class", "user", "school", "course")


def _expr(dialect: str, ref: str) -> str:
    if dialect == "postgresql":
        return f"(data #>> '{{{ref},sourcedId}}')"
    return f"json_extract(data, '$.\"{ref}\".\"sourcedId\"')"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect != "postgresql":
        return
    op.create_index("ix_entities_tenant_id_type_id", "entities", ["tenant_id", "type", "id"])
    op.create_index("ix_entities_tenant_id_type_updated_at", "entities", ["tenant_id", "type", "updated_at"])
    for ref in _REFS:
        op.execute(f"CREATE INDEX ix_entities_ref_{ref} ON entities (tenant_id, type, {_expr(dialect, ref)})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for ref in _REFS:
        op.execute(f"DROP INDEX IF EXISTS ix_entities_ref_{ref}")
    op.drop_index("ix_entities_tenant_id_type_updated_at", table_name="entities")
    op.drop_index("ix_entities_tenant_id_type_id", table_name="entities")
