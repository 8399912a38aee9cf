"""`fediflow init`, `fediflow tenants ...`, `fediflow plugins`, `fediflow connectors list`."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from hub.cli._common import console, fail, run_with_hub
from hub.context import Hub
from hub.crypto import ensure_key_file
from hub.sdk import secret_fields
from hub.settings import load_settings

tenants_app = typer.Typer(name="tenants", help="Create and list tenants.", no_args_is_help=True)
connectors_app = typer.Typer(name="connectors", help="The connectors this hub has.", no_args_is_help=True)
plugins_app = typer.Typer(name="plugins", help="Loaded plugins and the ones that failed.", no_args_is_help=True)


def init(tenant: str = typer.Option("default", "--tenant", "-t", help="Tenant to create.")) -> None:
    """Create the data folder and secret key, migrate the database, create the first tenant."""
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not settings.security.secret_key.get_secret_value():
        ensure_key_file(settings.secret_key_file)

    async def go(hub: Hub) -> None:
        await hub.db.migrate()
        record = await hub.store.ensure_tenant(tenant)
        console.print(f"database ready at revision {await hub.db.current_revision()}; tenant [bold]{record.slug}[/]")

    run_with_hub(go, migrated=False)


@tenants_app.command("create")
def tenants_create(slug: str, name: str = typer.Option(None, help="Display name.")) -> None:
    """Create a tenant."""

    async def go(hub: Hub) -> None:
        record = await hub.store.create_tenant(slug, name)
        console.print(f"created tenant [bold]{record.slug}[/]")

    run_with_hub(go)


@tenants_app.command("list")
def tenants_list() -> None:
    """List tenants."""

    async def go(hub: Hub) -> None:
        table = Table("slug", "name", "created")
        for record in await hub.store.list_tenants():
            table.add_row(record.slug, record.name, record.created_at.isoformat(timespec="seconds"))
        console.print(table)

    run_with_hub(go)


def _add_scaffold() -> None:
    from hub.cli._scaffold import new

    connectors_app.command("new")(new)


_add_scaffold()


@connectors_app.command("list")
def connectors_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List connectors with their kind, streams and config fields (secrets marked)."""
    hub = Hub.from_settings(load_settings())
    rows = []
    for name, cls in sorted(hub.plugins.connectors().items()):
        secrets = secret_fields(cls.config_model)
        fields = [f"{f}{' (secret)' if f in secrets else ''}" for f in cls.config_model.model_fields]
        rows.append({"name": name, "kind": str(cls.kind), "title": cls.title, "config": fields})
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("name", "kind", "title", "config fields")
    for row in rows:
        table.add_row(row["name"], row["kind"], row["title"], ", ".join(row["config"]))
    console.print(table)
    for failure in hub.plugins.failures:
        console.print(f"[yellow]plugin {failure.name} failed:[/] {failure.error}")


@plugins_app.command("list")
def plugins_list() -> None:
    """List loaded plugins and failures; exit 1 if a plugin failed."""
    hub = Hub.from_settings(load_settings())
    hub.plugins.connectors(), hub.plugins.mapping_folders(), hub.types  # noqa: B018  (runs the register hooks)
    table = Table("plugin", "status")
    for name, _plugin in sorted(hub.plugins.manager.list_name_plugin()):
        table.add_row(name, "loaded")
    for failure in hub.plugins.failures:
        table.add_row(failure.name, f"[red]failed: {failure.error}[/]")
    console.print(table)
    if hub.plugins.failures:
        fail(f"{len(hub.plugins.failures)} plugin(s) failed")
