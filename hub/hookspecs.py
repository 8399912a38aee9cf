"""The hook specifications of FediFlow, grouped by lifecycle.

Naming: ``register_*`` hooks return a list (pluggy gathers every plugin's list), ``*_for_*`` hooks
pick one thing (first non-None result wins), ``on_*`` hooks observe an event and return nothing.
Hooks are synchronous and cheap: they return objects (connector classes, folders, models);
asynchronous work lives in those objects. docs/hooks.md documents each hook with its exact
signature and a test keeps the two in step.

The hub calls every hook through ``manager.hook`` (hookwrappers, ``tryfirst`` and ``trylast``
apply), each ``register_*`` hook once per plugin manager (:class:`hub.plugins.Plugins` caches
the registries). Precedence between plugins is by registration order, built-ins first: see
:mod:`hub.plugins` and docs/hooks.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.hookimpl import hookspec

if TYPE_CHECKING:
    from pydantic import BaseModel

    from hub.events import ChangeEvent, RunSummary
    from hub.sdk import Connector

__all__ = [
    "on_change_events",
    "on_sync_finished",
    "register_api_routes",
    "register_canonical_types",
    "register_cli_commands",
    "register_connectors",
    "register_mapping_folders",
]


# --- start-up: what plugins add to the hub -------------------------------------------------------


@hookspec
def register_connectors() -> list[type[Connector]]:
    """Return the connector classes this plugin provides.

    Called once per plugin manager, the first time the hub needs its connectors (the registry
    is cached). Each class subclasses ``hub.sdk.Connector`` and has a unique ``name``; a name
    already registered by a plugin earlier in registration order (built-ins first) is reported
    as a plugin failure naming both plugins, and the earlier one keeps it. Must not do I/O. May
    raise: the plugin is then reported as broken by name and skipped.
    """


@hookspec
def register_mapping_folders() -> list[Path]:
    """Return folders of mapping files this plugin ships.

    Called once when the mapping registry is built. A folder holds ``<connector>/<stream>.yaml``.
    Precedence, lowest first: built-in folders, then third-party plugins' folders in registration
    order (a later one overrides an earlier one; two third-party plugins shipping the same
    connector and stream are reported as a plugin failure naming both), then the tenant's
    overrides (settings ``mapping_dir``). Must not do I/O beyond building paths.
    """


@hookspec
def register_canonical_types() -> list[type[BaseModel]]:
    """Return extra canonical record types (pydantic models deriving from ``schemas.CanonicalRecord``).

    Called once when the type registry is built. The class name is the type name used in
    mappings (``target: LibraryItem``) and in the store; a name clashing with a built-in type or
    with a type of a plugin earlier in registration order is a plugin failure.
    """


@hookspec
def register_cli_commands() -> list[Any]:
    """Return ``typer.Typer`` apps to add to the ``fediflow`` command line.

    Called once when the CLI starts. Each app must have a ``info.name``; it is added as a
    sub-command group under that name.
    """


@hookspec
def register_api_routes() -> list[Any]:
    """Return Litestar route handlers, controllers or routers to mount in the REST API.

    Called once by the API app factory. Routes are mounted under ``/api/v1/plugins``; they get
    the same authentication and tenant scoping as built-in routes.
    """


# --- running: what plugins observe ---------------------------------------------------------------


@hookspec
def on_change_events(events: Sequence[ChangeEvent]) -> None:
    """Observe change events right after the transaction that wrote them committed.

    ``events`` all belong to one tenant, in sequence order. Called in the process that ran the
    sync; delivery to other processes goes through the change log, not this hook. Must be quick
    and must not raise: an exception is logged with the plugin's name and ignored.
    """


@hookspec
def on_sync_finished(summary: RunSummary) -> None:
    """Observe the end of a sync run (finished, failed or dry run), with its counts.

    Called once per run after its final state is committed. Must not raise: an exception is
    logged with the plugin's name and ignored.
    """
