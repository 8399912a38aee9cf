"""What every CLI command shares: settings, the hub, the event loop, error output."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import typer
from rich.console import Console

from hub.context import Hub
from hub.errors import ConfigurationError, HubError
from hub.logging import configure_logging
from hub.settings import load_settings

__all__ = ["TenantOption", "console", "err_console", "fail", "run_with_hub"]

T = TypeVar("T")
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

TenantOption = typer.Option("default", "--tenant", "-t", envvar="FEDIFLOW_TENANT", help="Tenant slug.")


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def run_with_hub(func: Callable[[Hub], Coroutine[Any, Any, T]], *, migrated: bool = True) -> T:
    """Build the hub from settings, run ``func(hub)`` on a fresh event loop, close the hub.

    With ``migrated`` (the default) the database must be at the latest schema revision, else the
    command stops and says how to upgrade. A HubError becomes one line on stderr and exit code 1.
    """

    async def main() -> T:
        hub = Hub.from_settings(load_settings())
        try:
            if migrated and not await hub.db.is_current():
                raise ConfigurationError(
                    f"the database at {hub.db.url.split('@')[-1]} is not initialised or not at the latest schema: "
                    "run `fediflow init` (it creates or upgrades it)")
            return await func(hub)
        finally:
            await hub.close()

    try:
        configure_logging(load_settings(), stream=sys.stderr, quiet=True)
        return asyncio.run(main())
    except HubError as exc:
        fail(str(exc))
        raise  # unreachable: fail() raises


async def maybe(value: Awaitable[T] | T) -> T:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value  # type: ignore[no-any-return]
    return value  # type: ignore[return-value]
