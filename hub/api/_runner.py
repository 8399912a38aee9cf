"""Where a sync queued through the API gets executed: the seam a worker process replaces.

With ``execute=True`` (roles ``all`` and, for now, ``worker``) a queued run starts at once in a
background task of this process. With ``execute=False`` (role ``api``) the run stays queued for a
worker to claim.
"""

from __future__ import annotations

import asyncio
import logging

from hub.errors import HubError
from hub.store import RunRecord, TenantStore
from hub.sync import run_with_safeguards

__all__ = ["RunLauncher"]

log = logging.getLogger("fediflow.api.runner")


class RunLauncher:
    def __init__(self, hub: object, *, execute: bool = True) -> None:
        self.hub = hub
        self.execute = execute
        self._tasks: set[asyncio.Task[None]] = set()

    def launch(self, tenant: TenantStore, run: RunRecord) -> None:
        """Start ``run`` (queued) in the background, or leave it queued when this process does not execute runs."""
        if not self.execute:
            return
        task = asyncio.create_task(self._run(tenant, run), name=f"sync-run-{run.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, tenant: TenantStore, run: RunRecord) -> None:
        try:
            await run_with_safeguards(self.hub, tenant, run.id)
        except HubError as exc:  # recorded on the run by the engine; log it here too
            log.warning("sync run failed", extra={"run": run.id, "source": run.source, "error": str(exc)})
        except Exception:  # a bug: the engine marked the run failed; keep the traceback
            log.exception("sync run crashed", extra={"run": run.id, "source": run.source})

    async def shutdown(self) -> None:
        """Cancel runs still going (they are marked failed and resume on the next sync)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Wait for every started run to finish (tests, graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
