"""oneroster indexes

Indexes for the OneRoster rostering API (hub.oneroster):

* ``(tenant_id, type, id)``: the default order of every collection, so a page is an index range;
* ``(tenant_id, type, updated_at)``: ``dateLastModified`` delta queries;
* expression indexes on the GUIDRef sourcedIds the nested endpoints join on (``class``, ``user``,
  ``school``, ``course``). The expressions are exactly those hub.oneroster renders (literal JSON
  paths), so both SQLite and PostgreSQL use them.

On SQLite, the embedded single-node store, only the first is created: every index on
``entities`` costs about 2 us per record written by a sync (the JSON expression ones 2.4 us
each), and paging is what the API needs most; nested and delta queries there use the
(tenant_id, type, stable_id) index prefix (see docs/performance.md).

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
    op.create_index("ix_entities_tenant_id_type_id", "entities", ["tenant_id", "type", "id"])
    if dialect != "postgresql":
        return
    op.create_index("ix_entities_tenant_id_type_updated_at", "entities", ["tenant_id", "type", "updated_at"])
    for ref in _REFS:
        op.execute(f"CREATE INDEX ix_entities_ref_{ref} ON entities (tenant_id, type, {_expr(dialect, ref)})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for ref in _REFS:
            op.execute(f"DROP INDEX IF EXISTS ix_entities_ref_{ref}")
        op.drop_index("ix_entities_tenant_id_type_updated_at", table_name="entities")
    op.drop_index("ix_entities_tenant_id_type_id", table_name="entities")
