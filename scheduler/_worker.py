"""The worker role: claim queued sync runs, execute them (safeguards included), heartbeat, reap.

One :class:`Worker` per process. Its loop, until ``stop`` is set:

1. re-queue the runs of dead workers (lease expired) -- every ``lease / 2`` seconds;
2. claim queued runs while it has free capacity, and execute each in a task:
   :func:`hub.sync.run_with_safeguards` (a dry run and a hold when the source's
   thresholds are exceeded, else :meth:`SyncEngine.sync` with the run's id, which resumes a run
   another worker left half done);
3. wait ``poll_seconds`` (or until :meth:`wake`).

A heartbeat task bumps ``heartbeat_at`` of this worker's runs every ``heartbeat_seconds``. On
stop, running syncs get ``shutdown_grace_seconds`` to finish; the ones still going are interrupted
and put back in the queue for another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

from hub.errors import Conflict, HubError, StoreError
from hub.sync import run_with_safeguards
from scheduler._queue import ClaimedRun, claim_next, heartbeat, reap, release, requeue_interrupted
from scheduler._settings import SchedulerSettings, scheduler_settings

__all__ = ["Worker", "node_name"]

log = logging.getLogger("fediflow.worker")


def node_name() -> str:
    """``host:pid``: names this process in ``sync_runs.worker`` and ``schedule_ledger.node``."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(self, hub: Any, settings: SchedulerSettings | None = None, *, name: str | None = None) -> None:
        self.hub = hub
        self.settings = settings or scheduler_settings(hub)
        self.name = name or node_name()
        self.capacity = 1 if hub.db.is_sqlite else self.settings.concurrency
        self.tasks: dict[int, asyncio.Task[str]] = {}
        self._wake = asyncio.Event()
        #: runs finished by this worker, by outcome (succeeded, failed, held, released)
        self.counts: dict[str, int] = {}

    def wake(self) -> None:
        """Look at the queue now (a run was just queued in this process)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker started", extra={"worker": self.name, "capacity": self.capacity})
        beat = asyncio.create_task(self._heartbeats(stop), name="worker-heartbeat")
        loop = asyncio.get_running_loop()
        next_reap = 0.0
        try:
            while not stop.is_set():
                try:
                    if loop.time() >= next_reap:
                        await reap(self.hub.db, self.settings.lease_seconds)
                        next_reap = loop.time() + self.settings.lease_seconds / 2
                    while len(self.tasks) < self.capacity and not stop.is_set():
                        claimed = await claim_next(self.hub.db, self.name, self.settings.lease_seconds)
                        if claimed is None:
                            break
                        self.tasks[claimed.id] = asyncio.create_task(self._execute(claimed), name=f"run-{claimed.id}")
                except StoreError as exc:  # database away for a moment: try again after the pause
                    log.warning("worker cannot reach the queue", extra={"error": str(exc)})
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, self._wake), self.settings.poll_seconds)
        finally:
            await self._drain()
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            log.info("worker stopped", extra={"worker": self.name, "runs": self.counts})

    async def run_until_idle(self, timeout: float = 60.0) -> None:
        """Claim and execute until the queue is empty (tests, ``fediflow runs approve --now``)."""
        async def go() -> None:
            await reap(self.hub.db, self.settings.lease_seconds)
            while True:
                claimed = await claim_next(self.hub.db, self.name, self.settings.lease_seconds)
                if claimed is None:
                    return
                task = self.tasks[claimed.id] = asyncio.create_task(self._execute(claimed))
                if await task == "released":  # its source is busy elsewhere: it would come straight back
                    return

        await asyncio.wait_for(go(), timeout)

    async def _execute(self, claimed: ClaimedRun) -> str:
        outcome = "failed"
        try:
            tenant = await self.hub.store.tenant_by_id(claimed.tenant_id)
            result = await run_with_safeguards(self.hub, tenant, claimed.id, worker=self.name)
            outcome = "held" if result.hold is not None else (result.summary.status if result.summary else "failed")
        except Conflict as exc:  # the source is being synced by another process: back in the queue
            outcome = "released"
            await release(self.hub.db, claimed.id, self.name)
            log.info("run released", extra={"run": claimed.id, "reason": str(exc)})
        except HubError as exc:  # recorded on the run by the engine
            log.warning("sync run failed", extra={"run": claimed.id, "error": str(exc)})
        except asyncio.CancelledError:
            outcome = "interrupted"
            raise
        except Exception:  # a bug: the engine marked the run failed; keep the traceback
            log.exception("sync run crashed", extra={"run": claimed.id})
        finally:
            self.tasks.pop(claimed.id, None)
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            self._wake.set()
        return outcome

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            if self.tasks:
                try:
                    await heartbeat(self.hub.db, self.name)
                except StoreError as exc:
                    log.warning("heartbeat failed", extra={"error": str(exc)})

    async def _drain(self) -> None:
        if not self.tasks:
            return
        running = list(self.tasks.items())
        _done, pending = await asyncio.wait([t for _, t in running], timeout=self.settings.shutdown_grace_seconds)
        interrupted = [run_id for run_id, task in running if task in pending]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            count = await requeue_interrupted(self.hub.db, interrupted, self.name)
            log.warning("interrupted runs re-queued", extra={"runs": interrupted, "count": count})


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
