"""Alembic migrations build exactly the schema the code declares, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hub.store import Database
from hub.store._tables import metadata

# Created by migration 0003 on PostgreSQL only, for the OneRoster API (see that migration).
POSTGRES_ONLY_INDEXES = {
    "ix_entities_tenant_id_type_updated_at",
    "ix_entities_ref_class",
    "ix_entities_ref_user",
    "ix_entities_ref_school",
    "ix_entities_ref_course",
}


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


async def test_migrated_schema_matches_the_table_definitions(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.migrate()
        await db.migrate()  # idempotent
        assert await db.is_current()

        def diff(sync_conn: Any) -> list[Any]:
            context = MigrationContext.configure(sync_conn, opts={"include_object": _include, "compare_type": False})
            return compare_metadata(context, metadata)

        async with db.connect() as conn:
            problems = await conn.run_sync(diff)
        assert problems == [], f"migrations and hub/store/_tables.py disagree: {problems}"
    finally:
        await db.dispose()


async def test_history_is_linear_and_downgrades_to_an_empty_database_and_back(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert len(db.head_revisions()) == 1, "migrations must form one line (one head)"
        await db.migrate()
        await db.downgrade("base")
        assert await db.current_revisions() == set()
        assert set(await db.table_names()) <= {"alembic_version"}
        await db.migrate()
        assert await db.is_current()
    finally:
        await db.dispose()


async def test_sources_that_existed_before_id_prefixes_keep_bare_ids(database_url: str) -> None:
    """Migration 0008 gives every existing source empty options: no id prefix, so the sourcedIds
    their consumers use stay as they are (docs/identity.md)."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from hub.store import Store
    from hub.store._tables import tenants

    db = Database(database_url)
    try:
        await db.migrate("0007")
        now = datetime.now(UTC)
        async with db.begin() as conn:
            tenant_id = (await conn.execute(tenants.insert().values(slug="t", name="t", change_seq=0, created_at=now)
                                            .returning(tenants.c.id))).scalar_one()
            for name in ("first", "second"):  # the columns of 0007, as a hub of that version wrote them
                await conn.execute(
                    text("INSERT INTO sources (tenant_id, name, connector, config, enabled, created_at, updated_at) "
                         "VALUES (:t, :n, 'oneroster_csv', :c, true, :now, :now)"),
                    {"t": tenant_id, "n": name, "c": '{"path": "/x"}', "now": now})
        await db.migrate()
        store = await Store(db).tenant("t")
        assert [(s.name, s.options.id_prefix) for s in await store.list_sources()] == [("first", ""), ("second", "")]
        # a source added now, beside existing ones, is prefixed
        assert (await store.add_source("third", "oneroster_csv", _Config())).options.id_prefix == "third:"
    finally:
        await db.dispose()


class _Config:
    """A connector config without fields (what add_source splits into plain and secret values)."""

    model_fields: dict[str, Any] = {}
