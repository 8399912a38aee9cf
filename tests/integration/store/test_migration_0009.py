"""Migration 0009 on a database with runs: existing report rows become errors, runs get 0 warnings,
and the downgrade drops both columns again (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, text

from hub.store import Database


async def test_existing_report_rows_are_errors_and_runs_have_no_warnings(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.migrate()
        await db.downgrade("0008")
        now = datetime.now(UTC)
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO tenants (slug, name, change_seq, created_at) "
                                    "VALUES ('t', 'T', 0, :now)"), {"now": now})
            tenant_id = (await conn.execute(text("SELECT id FROM tenants WHERE slug = 't'"))).scalar_one()
            await conn.execute(text(
                "INSERT INTO sources (tenant_id, name, connector, config, enabled, created_at, updated_at, options) "
                "VALUES (:t, 's', 'oneroster_csv', '{}', true, :now, :now, '{}')"), {"t": tenant_id, "now": now})
            source_id = (await conn.execute(text("SELECT id FROM sources"))).scalar_one()
            await conn.execute(text(
                "INSERT INTO sync_runs (tenant_id, source_id, status, dry_run, full_refresh, created, updated, "
                "deleted, unchanged, errors, per_stream, attempts, queued_at) VALUES (:t, :s, 'succeeded', false, "
                "false, 1, 0, 0, 0, 1, '{}', 1, :now)"), {"t": tenant_id, "s": source_id, "now": now})
            run_id = (await conn.execute(text("SELECT id FROM sync_runs"))).scalar_one()
            await conn.execute(text("INSERT INTO run_errors (run_id, stream, ref, field, message) "
                                    "VALUES (:r, 'users', 'users.csv:2', 'enabledUser', 'bad')"), {"r": run_id})

        await db.migrate()
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT severity FROM run_errors"))).scalar_one() == "error"
            assert (await conn.execute(text("SELECT warnings FROM sync_runs"))).scalar_one() == 0

        await db.downgrade("0008")

        def columns(sync_conn: Any, table: str) -> set[str]:
            return {c["name"] for c in inspect(sync_conn).get_columns(table)}

        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM run_errors"))).scalar_one() == 1
            assert "severity" not in await conn.run_sync(columns, "run_errors")
            assert "warnings" not in await conn.run_sync(columns, "sync_runs")
        await db.migrate()
    finally:
        await db.dispose()
