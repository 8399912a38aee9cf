"""`fediflow sources add|list|show|check|remove`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table

from hub.cli._common import TenantOption, console, fail, run_with_hub
from hub.context import Hub
from hub.errors import ConfigurationError

sources_app = typer.Typer(name="sources", help="Systems the hub syncs from.", no_args_is_help=True)


def _parse_config(config_file: Path | None, sets: list[str], set_envs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"cannot read config file {config_file}: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"config file {config_file} must hold a mapping of fields")
        values.update(loaded)
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"--set takes field=value, got {item!r}")
        try:
            values[key] = json.loads(value) if value[:1] in "[{" else value
        except json.JSONDecodeError:
            values[key] = value
    for item in set_envs:
        key, sep, env = item.partition("=")
        if not sep or env not in os.environ:
            raise ConfigurationError(f"--set-env takes field=ENV_VAR of a set variable, got {item!r}")
        values[key] = os.environ[env]
    return values


@sources_app.command("add")
def add(
    name: str,
    connector: str = typer.Option(..., "--connector", "-c", help="Connector name (see `fediflow connectors list`)."),
    sets: list[str] = typer.Option([], "--set", help="Config field=value (repeatable)."),
    set_envs: list[str] = typer.Option([], "--set-env", help="Config field=ENV_VAR: read a secret from the environment."),
    config_file: Path = typer.Option(None, "--config", help="YAML or JSON file with the config fields."),
    tenant: str = TenantOption,
) -> None:
    """Add a source: its config is validated by the connector; secrets are encrypted at rest."""

    async def go(hub: Hub) -> None:
        cls = hub.plugins.connector(connector)
        store = await hub.store.tenant(tenant)
        config = store.validate_config(cls.config_model, _parse_config(config_file, sets, set_envs))
        record = await store.add_source(name, connector, config)
        console.print(f"added source [bold]{record.name}[/] ({connector}) to tenant {tenant}")

    run_with_hub(go)


@sources_app.command("set")
def set_(
    name: str,
    sets: list[str] = typer.Option([], "--set", help="Config field=value (repeatable)."),
    set_envs: list[str] = typer.Option([], "--set-env", help="Config field=ENV_VAR: read a secret from the environment."),
    config_file: Path = typer.Option(None, "--config", help="YAML or JSON file with config fields to change."),
    tenant: str = TenantOption,
) -> None:
    """Change some config fields of a source (the others, secrets included, are kept)."""

    async def go(hub: Hub) -> None:
        store = await hub.store.tenant(tenant)
        source = await store.get_source(name)
        cls = hub.plugins.connector(source.connector)
        current = await store.source_config(source, cls.config_model)
        values = {field: getattr(current, field) for field in type(current).model_fields}
        values.update(_parse_config(config_file, sets, set_envs))
        await store.update_source(name, store.validate_config(cls.config_model, values))
        console.print(f"updated source [bold]{name}[/]")

    run_with_hub(go)


@sources_app.command("list")
def list_(tenant: str = TenantOption) -> None:
    """List sources (secrets are never shown)."""

    async def go(hub: Hub) -> None:
        store = await hub.store.tenant(tenant)
        table = Table("name", "connector", "enabled", "config", "secrets")
        for s in await store.list_sources():
            table.add_row(s.name, s.connector, "yes" if s.enabled else "no", json.dumps(dict(s.config)),
                          ", ".join(f"{n}=***" for n in s.secret_names))
        console.print(table)

    run_with_hub(go)


@sources_app.command("check")
def check(name: str, tenant: str = TenantOption) -> None:
    """Test a source's connection and credentials; exit 1 with the reason when it fails."""

    async def go(hub: Hub) -> bool:
        store = await hub.store.tenant(tenant)
        source = await store.get_source(name)
        cls = hub.plugins.connector(source.connector)
        connector = cls(await store.source_config(source, cls.config_model))
        try:
            result = await connector.check()
        finally:
            await connector.aclose()
        colour = "green" if result.ok else "red"
        console.print(f"[{colour}]{'ok' if result.ok else 'failed'}[/]: {result.message}")
        return result.ok

    if not run_with_hub(go):
        raise typer.Exit(1)


@sources_app.command("remove")
def remove(name: str, tenant: str = TenantOption) -> None:
    """Remove a source and its runs (its entities stay, detached)."""

    async def go(hub: Hub) -> None:
        store = await hub.store.tenant(tenant)
        await store.delete_source(name)
        console.print(f"removed source {name}")

    run_with_hub(go)


__all__ = ["fail", "sources_app"]
