"""One sync of a source at a time.

PostgreSQL: a session-level advisory lock on (namespace, source id) held on a dedicated
connection for the whole run, released when the run ends or its process dies (the server drops
the session). SQLite: one process owns the database file; a run left ``running`` by a process that
died is resumed by the next sync of that source.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import ColumnElement, text, true

from hub.errors import Conflict
from hub.store import Database

__all__ = ["source_lock", "source_lock_free"]

_NAMESPACE = 0x46464C57  # "FFLW"


@asynccontextmanager
async def source_lock(db: Database, source_id: int, source_name: str) -> AsyncIterator[None]:
    if db.is_sqlite:
        yield
        return
    async with db.connect() as conn:
        got = (
            await conn.execute(text("SELECT pg_try_advisory_lock(:ns, :id)"), {"ns": _NAMESPACE, "id": source_id})
        ).scalar_one()
        await conn.commit()
        if not got:
            raise Conflict(f"source {source_name!r} is being synced by another process")
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": _NAMESPACE, "id": source_id})
            await conn.commit()


def source_lock_free(db: Database, source_id_column: str) -> ColumnElement[bool]:
    """A SQL condition: no live session holds the :func:`source_lock` of the source in ``source_id_column``.

    ``source_id_column`` names the column of the outer query that holds the source id
    (``"sync_runs.source_id"``). Always true on SQLite (one process owns the file). The scheduler's
    reaper uses it so a run whose engine still holds its lock is never taken for dead.
    """
    if db.is_sqlite:
        return true()
    return text(
        "NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        f" AND l.classid = {int(_NAMESPACE)} AND l.objsubid = 2"
        f" AND l.objid::bigint = {source_id_column})")
