"""`fediflow serve`: the API server (uvicorn) for one role of the hub."""

from __future__ import annotations

import asyncio
import logging
import sys
from enum import StrEnum

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
    all = "all"


async def _prepare(hub: object) -> None:
    """Migrate an embedded SQLite database; refuse a PostgreSQL one that is not current."""
    db = hub.db  # type: ignore[attr-defined]
    if await db.is_current():
        return
    if db.is_sqlite:
        log.info("migrating the embedded database")
        await db.migrate()
        return
    raise HubError("the database schema is not current: run `fediflow init` (applies the migrations) first")


def serve(
    host: str = typer.Option(None, "--host", help="Address to bind (default: settings api.host)."),
    port: int = typer.Option(None, "--port", min=0, max=65535, help="Port (default: settings api.port)."),
    role: Role = typer.Option(Role.all, "--role", help="api: HTTP only, queued syncs wait for a worker; "
                              "worker / scheduler: background roles (no work of their own yet); all: everything."),
) -> None:
    """Run the hub's HTTP API (management, OneRoster, health, metrics) with uvicorn."""
    import uvicorn

    from hub.api import create_app
    from hub.context import Hub

    try:
        settings = load_settings()
    except HubError as exc:
        fail(str(exc))
    configure_logging(settings, stream=sys.stderr)
    hub = Hub.from_settings(settings)
    try:
        asyncio.run(_prepare(hub))
        if role in (Role.worker, Role.scheduler):
            log.info("role has no work of its own yet; serving health and metrics only", extra={"role": role.value})
        app = create_app(hub, run_syncs=role in (Role.all, Role.worker))
    except HubError as exc:
        fail(str(exc))
    log.info("serving", extra={"role": role.value, "host": host or settings.api.host, "port": port or settings.api.port})
    uvicorn.run(app, host=host or settings.api.host, port=settings.api.port if port is None else port,
                log_config=None, access_log=False, proxy_headers=False, server_header=False)
