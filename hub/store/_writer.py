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

from sqlalchemy.engine import make_url

from hub.errors import StoreError
from hub.store._db import Database, sqlite_pragmas, store_error
from hub.store._sync_ops import BatchWrite, apply_batch

__all__ = ["BatchWriter"]

log = logging.getLogger("fediflow.store")

_READY = b"ready"


class BatchWriter:
    """Commits the batches of one sync run, in order. ``submit`` starts a write at once."""

    def __init__(self, db: Database, offload_after: int | None) -> None:
        self.db = db
        self.offload_after = offload_after if db.is_sqlite and _file_database(db.url) else None
        self.records = 0
        self.offloaded = 0  # batches the writer process committed
        self.child: _Child | None = None

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
            return await conn.run_sync(apply_batch, batch)

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
        if self.child is not None:
            child, self.child = self.child, None
            await asyncio.to_thread(child.stop)
            log.info("writer process stopped", extra={"pid": child.proc.pid, "batches": self.offloaded})


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
                           json_deserializer=jsonutil.loads)
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
