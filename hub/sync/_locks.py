"""One sync of a source at a time.

PostgreSQL: a session-level advisory lock on (namespace, source id) held on a dedicated
connection for the whole run, released when the run ends or its process dies (the server drops
the session). SQLite: one process owns the database file; a run left ``running`` by a process that
died is resumed by the next sync of that source.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from hub.errors import Conflict
from hub.store import Database

__all__ = ["source_lock"]

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
