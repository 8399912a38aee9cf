"""Who commits a sync's batches: the event loop's own connection, or (SQLite) a writer process.

Why a process: Python's sqlite3 releases the GIL around each row's step and must take it back
for the next row. A thread that writes while the event loop's thread maps records waits for the
GIL at every row (the convoy effect: measured here, a 2,000-row insert took over a hundred times
longer beside a busy thread), and aiosqlite's statements only advance when the event loop turns.
So on SQLite the writes of a large sync ran, in effect, while the sync waited for them. A child
process has its own interpreter and GIL: the sync hands it each pickled batch and goes on mapping
the next one, and the child commits it with :func:`~hub.store._sync_ops.apply_batch`, the same
function the in-process path runs.

The child starts once a run has written ``offload_after`` records (small syncs never pay its
start-up), takes over when it says it is ready, and dies with its parent (``PR_SET_PDEATHSIG`` on
Linux, and it exits when its pipe closes), so a killed sync never leaves a writer that commits
after it. One batch is in flight at a time; batches commit in the order they were submitted.

Run the child as ``python -m hub.store._writer READ_FD WRITE_FD DATABASE_URL`` (done here).

On PostgreSQL the writer also keeps the planner's statistics on ``entities`` and ``changes`` in
step with its bulk writes (:class:`_Statistics`): without them the stable-id lookup of a resumed or
repeated sync scans every row of its type for each chunk of ids, and the changes feed sorts the
whole log for each page (docs/performance.md, "PostgreSQL statistics").
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Awaitable
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import JSON, LargeBinary, Table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hub.errors import StoreError
from hub.store._db import Database, short_reason, sqlite_pragmas, store_error
from hub.store._sync_ops import BatchWrite, apply_batch
from hub.store._tables import changes, entities

__all__ = ["BatchWriter"]

log = logging.getLogger("fediflow.store")

_READY = b"ready"


class BatchWriter:
    """Commits the batches of one sync run, in order. ``submit`` starts a write at once."""

    #: keep PostgreSQL's statistics fresh behind the writes (bench.resume_bench turns it off to
    #: measure a run without it)
    refresh_statistics = True

    def __init__(self, db: Database, offload_after: int | None) -> None:
        self.db = db
        self.offload_after = offload_after if db.is_sqlite and _file_database(db.url) else None
        self.records = 0
        self.offloaded = 0  # batches the writer process committed
        self.child: _Child | None = None
        self.statistics = _Statistics(db) if self.refresh_statistics and not db.is_sqlite else None

    def submit(self, batch: BatchWrite) -> Awaitable[int | None]:
        """Start writing ``batch`` (the previous one must be done); the awaitable gives its first sequence."""
        self.records += len(batch.events)  # one per record created, updated or deleted
        child = self._child()
        if child is not None:
            self.offloaded += 1
            return child.submit(batch)
        return asyncio.ensure_future(self._in_process(batch))

    async def _in_process(self, batch: BatchWrite) -> int | None:
        async with self.db.begin() as conn:
            first = await conn.run_sync(apply_batch, batch)
        if self.statistics is not None:
            self.statistics.wrote(len(batch.inserts), len(batch.events))
        return first

    def _child(self) -> _Child | None:
        if self.offload_after is None or self.records < self.offload_after:
            return None
        if self.child is None:
            try:
                self.child = _Child.start(self.db.url)
            except OSError as exc:  # no process for us: write in process, as small syncs do
                log.warning("cannot start the writer process; writing in process", extra={"error": str(exc)})
                self.offload_after = None
                return None
        return self.child if self.child.ready() else None

    async def aclose(self) -> None:
        if self.statistics is not None:
            await self.statistics.aclose()
        if self.child is not None:
            child, self.child = self.child, None
            await asyncio.to_thread(child.stop)
            log.info("writer process stopped", extra={"pid": child.proc.pid, "batches": self.offloaded})


def _plain_columns(table: Table) -> str:
    """The columns queries filter, join or sort on: all but JSON documents and hashes, whose
    statistics nobody uses and cost most of a full ANALYZE (the JSON ones: sorting 30,000 documents)."""
    names = [col.name for col in table.columns if not isinstance(col.type, JSON | LargeBinary)]
    return f"{table.name} ({', '.join(names)})"


class _Statistics:
    """Keeps the planner's statistics on ``entities`` and ``changes`` fresh while a run writes them
    (PostgreSQL only).

    A table never analysed, or analysed before a canonical type was in it, looks to the planner as
    if ``tenant_id = ? AND type = ?`` matched a row or two; the stable-id lookup then reads every row
    of the type through another index for each chunk of 900 ids, and a changes-feed page sorts the
    whole log. Autovacuum would fix that in time, but may be off, or lag a bulk load.

    After the run's first committed batch, and from then on whenever the run has written about the
    rows that make a table half as large again as when it was last analysed (estimated at the
    previous check), the tables' ``pg_class`` entries are read (cheap, transactional, and blind to
    lost or lagging activity counters). A table never analysed, without statistics for ``type`` /
    ``entity_type``, or grown by half (in pages) since it was last analysed or vacuumed is analysed,
    on its own connection while the writes go on (``ANALYZE`` takes a lock that inserts and updates
    do not wait for), one refresh at a time: O(log rows) analyses for a run, each sampling at most
    3,000 rows (``SAMPLE_TARGET``). Only the plain columns are sampled (:func:`_plain_columns`):
    with the small sample, a twentieth of a full ANALYZE's cost or less; and it leaves
    ``n_mod_since_analyze``, which triggers autovacuum's own full ANALYZE (with the statistics of
    the JSON expression indexes), alone. Another session's ANALYZE of the same table (another
    run's, autovacuum's) is not waited for: its statistics will do. A failure is logged, never
    raised: statistics are an optimisation, the batches are what matter.
    """

    #: growth (of the rows or pages since the last analysis) that makes statistics stale
    GROWTH = 0.5
    #: rows between two checks at least (small tables are cheap to plan badly)
    MIN_ROWS = 1000
    #: statistics target of the refresh: samples 3,000 rows instead of 30,000 (10x cheaper: ~20 ms a
    #: table of 240,000 entities instead of ~190 ms). Enough for the few values of ``type`` and the
    #: uniqueness of ``stable_id``; a type too rare to be sampled is one whose rows are cheap to read.
    #: Columns given a target of their own (ALTER TABLE ... SET STATISTICS) keep it.
    SAMPLE_TARGET = 10
    _TABLES = ((entities, "type"), (changes, "entity_type"))
    _CHECK = text(
        "SELECT c.relname, c.reltuples, c.relpages, pg_relation_size(c.oid) / current_setting('block_size')::int,"
        " EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname"
        "         AND s.attname = :key_column)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.oid = to_regclass(:table)"
    )

    def __init__(self, db: Database) -> None:
        self.db = db
        names = [table.name for table, _key in self._TABLES]
        self.written = dict.fromkeys(names, 0)  # rows written per table since the last check
        self.due = dict.fromkeys(names, 1)  # rows per table after which the next check runs (first batch)
        self.task: asyncio.Task[None] | None = None
        self.analyzed: list[str] = []  # tables analysed by this run, in order (for tests and logs)

    def wrote(self, entities_rows: int, changes_rows: int) -> None:
        """Rows committed to each table; starts a check when one is due and none is running."""
        self.written["entities"] += entities_rows
        self.written["changes"] += changes_rows
        due = any(self.written[name] >= self.due[name] for name in self.written)
        if due and (self.task is None or self.task.done()):
            self.written = dict.fromkeys(self.written, 0)
            self.task = asyncio.ensure_future(self._refresh())

    async def _refresh(self) -> None:
        try:
            stale, headroom = await self._stale()
            if stale:
                await self._analyze(stale)
            self.due.update({name: max(self.MIN_ROWS, rows) for name, rows in headroom.items()})
        except (DBAPIError, OSError) as exc:
            reason = short_reason(exc) if isinstance(exc, DBAPIError) else str(exc)
            log.warning("could not refresh the planner's statistics", extra={"error": reason})

    async def _stale(self) -> tuple[list[Table], dict[str, int]]:
        """The tables whose statistics are stale, and per table the rows it can take before they are
        (estimated from its rows per page when last analysed, and the pages it has now)."""
        stale: list[Table] = []
        headroom: dict[str, int] = {}
        async with self.db.connect() as conn:
            for table, key_column in self._TABLES:
                found = (await conn.execute(self._CHECK, {"table": table.name, "key_column": key_column})).first()
                if found is None:
                    continue
                _name, tuples, pages, pages_now, has_stats = found
                per_page = tuples / pages if tuples > 0 and pages > 0 else 0.0
                limit = (1 + self.GROWTH) * max(pages, 1)
                if tuples < 0 or not has_stats or pages_now >= limit:
                    stale.append(table)
                    headroom[table.name] = int(self.GROWTH * pages_now * per_page)
                else:
                    headroom[table.name] = int((limit - pages_now) * per_page)
        return stale, headroom

    async def _analyze(self, tables: list[Table]) -> None:
        names = [table.name for table in tables]
        try:
            async with self.db.begin() as conn:
                await conn.execute(text("SET LOCAL lock_timeout = '100ms'"))
                await conn.execute(text(f"SET LOCAL default_statistics_target = {int(self.SAMPLE_TARGET)}"))
                await conn.execute(text(f"ANALYZE {', '.join(_plain_columns(table) for table in tables)}"))
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available: being analysed
                log.info("statistics are being refreshed by another session", extra={"tables": names})
                return
            raise
        self.analyzed.extend(names)
        log.info("planner statistics refreshed", extra={"tables": names})

    async def aclose(self) -> None:
        """Wait for a refresh in progress (the run's end is not reported before it)."""
        if self.task is not None:
            task, self.task = self.task, None
            await task


def _file_database(url: str) -> bool:
    database = make_url(url).database
    return bool(database) and database != ":memory:" and not database.startswith("file::memory:")


class _Child:
    """The parent's end of one writer process."""

    def __init__(self, proc: subprocess.Popen[bytes], send: Connection, recv: Connection) -> None:
        self.proc = proc
        self.send = send
        self.recv = recv
        self.is_ready = False

    @classmethod
    def start(cls, url: str) -> _Child:
        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hub.store._writer", str(down_r), str(up_w), url],
                pass_fds=(down_r, up_w), stdin=subprocess.DEVNULL, close_fds=True,
            )
        except BaseException:
            for fd in (down_r, down_w, up_r, up_w):
                os.close(fd)
            raise
        os.close(down_r)
        os.close(up_w)
        log.info("writer process started", extra={"pid": proc.pid})
        return cls(proc, Connection(down_w, readable=False), Connection(up_r, writable=False))

    def ready(self) -> bool:
        """Whether the child has started (checked without waiting)."""
        if not self.is_ready and self.recv.poll():
            if self.recv.recv_bytes() != _READY:
                raise StoreError("the writer process answered out of turn")
            self.is_ready = True
        return self.is_ready

    def submit(self, batch: BatchWrite) -> Awaitable[int | None]:
        try:
            self.send.send_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as exc:
            raise StoreError(f"the writer process is gone: {exc}") from exc
        return asyncio.ensure_future(self._outcome())

    async def _outcome(self) -> int | None:
        try:
            raw = await asyncio.to_thread(self.recv.recv_bytes)
        except (EOFError, OSError) as exc:
            raise StoreError(f"the writer process died (exit code {self.proc.poll()})") from exc
        ok, value = pickle.loads(raw)
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        """Close the pipe (the child exits when it has nothing left to do) and reap it."""
        with contextlib.suppress(OSError):
            self.send.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.recv.close()


# --- the child ----------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (elsewhere: the closed pipe stops it)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _small_cache(dbapi_conn: Any, _record: Any) -> None:
    """16 MiB of page cache instead of 64: as fast for these writes (measured on the 100k-user bundle),
    50 MB less memory; the sync's own connection keeps the large cache for its reads."""
    dbapi_conn.execute("PRAGMA cache_size=-16384")


def _serve(down: Connection, up: Connection, url: str) -> None:
    from sqlalchemy import create_engine, event

    from hub import jsonutil

    engine = create_engine(make_url(url).set(drivername="sqlite"), json_serializer=jsonutil.dumps,
                           json_deserializer=jsonutil.loads, hide_parameters=True)
    event.listen(engine, "connect", sqlite_pragmas)
    event.listen(engine, "connect", _small_cache)
    up.send_bytes(_READY)
    while True:
        try:
            raw = down.recv_bytes()
        except EOFError:
            break
        try:
            with engine.begin() as conn:
                outcome: tuple[bool, Any] = (True, apply_batch(conn, pickle.loads(raw)))
        except Exception as exc:  # handed to the parent, which raises it in the sync
            outcome = (False, store_error(exc))
        try:
            message = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # an exception that does not pickle: its words will do
            message = pickle.dumps((False, StoreError(f"database error: {outcome[1]}")))
        up.send_bytes(message)
    engine.dispose()


def main(argv: list[str]) -> int:
    _die_with_parent()
    read_fd, write_fd, url = int(argv[0]), int(argv[1]), argv[2]
    _serve(Connection(read_fd, writable=False), Connection(write_fd, readable=False), url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
