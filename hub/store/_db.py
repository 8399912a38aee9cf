"""Engine creation and migrations for SQLite (embedded) and PostgreSQL (scale-out)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hub import jsonutil
from hub.errors import ConfigurationError, StoreError

__all__ = ["Database", "MIGRATIONS_DIR", "short_reason", "sqlite_pragmas", "store_error"]

log = logging.getLogger("fediflow.store")
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Settings of every SQLite connection (an engine ``connect`` listener)."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def store_error(exc: Exception) -> Exception:
    """The exception a failed transaction raises: a StoreError for a lost connection, an operational
    failure (locked, disk full, ...) or data the database refused, else ``exc`` itself (an
    IntegrityError stays one: callers look the rows up again).

    A StoreError's message is short and never holds the SQL, its parameters or a quoted value (see
    :func:`short_reason`); engines are also created with ``hide_parameters``, so not even the
    IntegrityError's text holds the values of a batch.
    """
    if isinstance(exc, DBAPIError) and getattr(exc, "connection_invalidated", False):
        return StoreError(f"database connection lost: {short_reason(exc)}")
    if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError):
        return StoreError(f"database error: {short_reason(exc)}")
    return exc


_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')


def short_reason(exc: DBAPIError) -> str:
    """The driver's reason for ``exc`` in one line: its first line, quoted values elided, at most 200
    characters (asyncpg puts the record's text in a DETAIL or CONTEXT line, SQLAlchemy the SQL and
    parameters after the reason)."""
    orig = exc.orig if exc.orig is not None else exc
    lines = str(orig).strip().splitlines()
    reason = (lines[0] if lines else "").replace("<class '", "").replace("'>", "")
    reason = _QUOTED.sub("...", reason)
    return (reason[:197] + "...") if len(reason) > 200 else reason


class Database:
    """One database: an async engine plus the helpers the store's repositories use."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        kwargs: dict[str, Any] = {
            "echo": echo,
            # never a record's values in an exception's text (run messages, logs): see store_error
            "hide_parameters": True,
            "json_serializer": jsonutil.dumps,
            "json_deserializer": jsonutil.loads,
        }
        if self.dialect == "sqlite":
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        try:
            self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        except Exception as exc:  # bad URL, missing driver
            raise ConfigurationError(f"cannot use database url: {exc}") from None
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", sqlite_pragmas)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed on success; database errors become StoreError."""
        try:
            async with self.engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            error = store_error(exc)
            if error is exc:
                raise
            raise error from exc

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()

    # --- migrations -------------------------------------------------------------------------

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", self.url)
        return cfg

    async def migrate(self, revision: str = "heads") -> None:
        """Upgrade the schema to ``revision`` (Alembic), in one transaction."""
        from alembic import command

        cfg = self._alembic_config()

        def run(sync_conn: Any) -> None:
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, revision)

        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(run)
        except (OperationalError, DBAPIError) as exc:
            raise StoreError(f"cannot migrate the database: {exc.orig}") from exc

    async def downgrade(self, revision: str) -> None:
        """Downgrade the schema to ``revision`` (``base`` removes every table), in one transaction."""
        from alembic import command

        cfg = self._alembic_config()

        def run(sync_conn: Any) -> None:
            cfg.attributes["connection"] = sync_conn
            command.downgrade(cfg, revision)

        async with self.engine.begin() as conn:
            await conn.run_sync(run)

    async def current_revisions(self) -> set[str]:
        from alembic.runtime.migration import MigrationContext

        def read(sync_conn: Any) -> set[str]:
            return set(MigrationContext.configure(sync_conn).get_current_heads())

        async with self.engine.connect() as conn:
            return await conn.run_sync(read)

    async def current_revision(self) -> str | None:
        """The current revision(s), comma-separated (None for an empty database)."""
        return ",".join(sorted(await self.current_revisions())) or None

    def head_revisions(self) -> set[str]:
        from alembic.script import ScriptDirectory

        return set(ScriptDirectory.from_config(self._alembic_config()).get_heads())

    async def is_current(self) -> bool:
        """True when the database is reachable and migrated to the latest revision(s)."""
        return await self.current_revisions() == self.head_revisions()

    async def table_names(self) -> list[str]:
        async with self.engine.connect() as conn:
            return await conn.run_sync(lambda c: inspect(c).get_table_names())
