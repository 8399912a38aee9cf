"""Debounced, serialised background jobs per key: the sync that follows SCIM writes.

``poke(key, job, delay)`` makes sure ``job`` runs at least once, ``delay`` seconds after the
poke, and that jobs of one key never overlap. Pokes that arrive while a job of that key waits are
absorbed; pokes that arrive while it runs cause one more run after it. So a burst of 500 SCIM
writes from an identity provider costs a couple of syncs, not 500.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

from hub.errors import HubError

__all__ = ["SyncTrigger"]

log = logging.getLogger("fediflow.scim")

Job = Callable[[], Awaitable[object]]


class _Slot:
    __slots__ = ("dirty", "job", "task")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.dirty = False
        self.task: asyncio.Task[None] | None = None


class SyncTrigger:
    def __init__(self) -> None:
        self._slots: dict[Hashable, _Slot] = {}

    def poke(self, key: Hashable, job: Job, delay: float) -> None:
        slot = self._slots.get(key)
        if slot is not None:
            slot.job = job
            slot.dirty = True
            return
        slot = self._slots[key] = _Slot(job)
        slot.task = asyncio.create_task(self._worker(key, slot, delay), name=f"scim-sync-{key}")

    async def _worker(self, key: Hashable, slot: _Slot, delay: float) -> None:
        try:
            while True:
                await asyncio.sleep(delay)
                slot.dirty = False
                try:
                    await slot.job()
                except HubError as exc:
                    log.warning("sync after SCIM writes failed", extra={"key": str(key), "error": str(exc)})
                except Exception:  # a bug: keep the traceback, keep serving
                    log.exception("sync after SCIM writes crashed", extra={"key": str(key)})
                if not slot.dirty:
                    return
        finally:
            self._slots.pop(key, None)

    @property
    def pending(self) -> int:
        return len(self._slots)

    async def wait_idle(self) -> None:
        while self._slots:
            await asyncio.gather(*[s.task for s in list(self._slots.values()) if s.task], return_exceptions=True)

    async def shutdown(self) -> None:
        for slot in list(self._slots.values()):
            if slot.task is not None:
                slot.task.cancel()
        await asyncio.gather(*[s.task for s in list(self._slots.values()) if s.task], return_exceptions=True)
