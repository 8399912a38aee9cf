"""`fediflow serve`: one process of the hub, in one or more roles.

- ``api``: the HTTP API (uvicorn); syncs queued through it wait for a worker;
- ``worker``: claims queued sync runs (:class:`scheduler.Worker`), delivers webhooks
  (hub.webhooks) and ActivityPub activities (hub.federation);
- ``scheduler``: fires the schedules (:class:`scheduler.SchedulerService`) and queues their runs;
- ``all`` (default): all three, the one-process setup on SQLite;
- ``sftp``: the SFTP drop (hub.sftp, needs asyncssh): per-tenant accounts chrooted to the tenant's
  import directory, a completed upload queues the sync of the source reading it. Never part of
  ``all``: name it (``--role all --role sftp``).

``--role`` can be repeated (``--role worker --role scheduler``). Every process serves HTTP (health
and metrics at least; the whole API). SIGTERM or SIGINT: stop taking work, let running syncs finish
(``FEDIFLOW_SCHEDULER__SHUTDOWN_GRACE_SECONDS``), re-queue the ones that do not, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from enum import StrEnum
from typing import Any

import typer

from hub.cli._common import fail
from hub.errors import HubError
from hub.logging import configure_logging
from hub.settings import load_settings

__all__ = ["Role", "serve"]

log = logging.getLogger("fediflow.serve")


class Role(StrEnum):
    api = "api"
    worker = "worker"
    scheduler = "scheduler"
    sftp = "sftp"
    all = "all"


def _expand(roles: list[Role]) -> set[Role]:
    chosen = set(roles or [Role.all])
    if Role.all in chosen:
        return {Role.api, Role.worker, Role.scheduler} | (chosen & {Role.sftp})
    return chosen


async def _prepare(hub: Any) -> None:
    """Migrate an embedded SQLite database; refuse a PostgreSQL one that is not current."""
    db = hub.db
    if await db.is_current():
        return
    if db.is_sqlite:
        log.info("migrating the embedded database")
        await db.migrate()
        return
    raise HubError("the database schema is not current: run `fediflow init` (applies the migrations) first")


def _delivery_workers() -> list[tuple[str, Callable[[Any, asyncio.Event], Awaitable[None]]]]:
    """The background delivery loops of the worker role: webhooks and ActivityPub."""
    from hub.federation import run_federation_worker
    from hub.webhooks import run_webhook_worker

    return [("webhook-worker", run_webhook_worker), ("federation-worker", run_federation_worker)]


def _server(app: Any, host: str, port: int) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # signals are ours (see _main): shut down, then exit 0
            yield

    return Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=False,
                                 server_header=False, lifespan="on"))


async def _main(hub: Any, roles: set[Role], host: str, port: int) -> None:
    from hub.api import create_app
    from scheduler import SchedulerService, Worker

    if Role.sftp in roles:
        from hub.sftp import require_asyncssh

        require_asyncssh()  # a clear message before anything starts
    await _prepare(hub)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    worker = Worker(hub) if Role.worker in roles else None
    # with a worker in this process, API-queued runs stay queued and the worker claims them
    app = create_app(hub, run_syncs=False)
    server = _server(app, host, port)

    def on_signal(signame: str) -> None:
        log.info("shutting down", extra={"signal": signame})
        stop.set()
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig.name)
    if worker is not None:
        tasks.append(asyncio.create_task(worker.run(stop), name="sync-worker"))
        for name, loop_fn in _delivery_workers():
            tasks.append(asyncio.create_task(loop_fn(hub, stop), name=name))
    if Role.scheduler in roles:
        tasks.append(asyncio.create_task(SchedulerService(hub).run(stop), name="scheduler"))
    if Role.sftp in roles:
        from hub.sftp import run_sftp

        sftp_task = asyncio.create_task(run_sftp(hub, stop), name="sftp")
        # the SFTP server failing (port taken, bad host key) stops the process instead of leaving it half up
        sftp_task.add_done_callback(lambda t: None if t.cancelled() or t.exception() is None else on_signal("sftp-failed"))
        tasks.append(sftp_task)
    log.info("serving", extra={"roles": sorted(r.value for r in roles), "host": host, "port": port})
    try:
        await server.serve()
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for task, result in zip(tasks, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("role task failed", extra={"task": task.get_name(), "error": repr(result)})
        await hub.close()


def serve(
    host: str = typer.Option(None, "--host", help="Address to bind (default: settings api.host)."),
    port: int = typer.Option(None, "--port", min=0, max=65535, help="Port (default: settings api.port; 0: any free)."),
    role: list[Role] = typer.Option([Role.all], "--role", help="api: HTTP API, queued syncs wait for a worker; "
                                    "worker: run queued syncs (and webhook deliveries); scheduler: queue the "
                                    "runs of schedules; sftp: the SFTP drop (not part of all); all: api, worker and "
                                    "scheduler. Repeatable."),
) -> None:
    """Run the hub: HTTP API (management, OneRoster, health, metrics), sync worker and scheduler."""
    from hub.context import Hub

    try:
        settings = load_settings()
    except HubError as exc:
        fail(str(exc))
    configure_logging(settings, stream=sys.stderr)
    roles = _expand(role)
    hub = Hub.from_settings(settings)
    try:
        asyncio.run(_main(hub, roles, host or settings.api.host, settings.api.port if port is None else port))
    except HubError as exc:
        fail(str(exc))
