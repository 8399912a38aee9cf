"""`fediflow sources add|set|options|list|check|remove`."""

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
from hub.store import parse_source_options

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
    id_prefix: str = typer.Option(None, "--id-prefix", help="Prefix of this source's sourcedIds (default: none "
                                  "for a tenant's first source, 'NAME:' for later ones; docs/identity.md)."),
    precedence: int = typer.Option(None, "--precedence", help="Among linked records, the lowest is shown (default 100)."),
    references: str = typer.Option(None, "--references", help="warn (default) or reject records with dangling references."),
    tenant: str = TenantOption,
) -> None:
    """Add a source: its config is validated by the connector; secrets are encrypted at rest."""

    async def go(hub: Hub) -> None:
        cls = hub.plugins.connector(connector)
        store = await hub.store.tenant(tenant)
        config = store.validate_config(cls.config_model, _parse_config(config_file, sets, set_envs))
        given = _option_values(id_prefix, precedence, references)
        options = None
        if given:
            first = not await store.list_sources()
            options = parse_source_options({"id_prefix": "" if first else f"{name}:", **given})
        record = await store.add_source(name, connector, config, options)
        console.print(f"added source [bold]{record.name}[/] ({connector}) to tenant {tenant}"
                      f"{f' (id prefix {record.options.id_prefix!r})' if record.options.id_prefix else ''}")

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


def _option_values(id_prefix: str | None, precedence: int | None, references: str | None) -> dict[str, Any]:
    given = {"id_prefix": id_prefix, "precedence": precedence, "references": references}
    return {key: value for key, value in given.items() if value is not None}


@sources_app.command("options")
def options_(
    name: str,
    id_prefix: str = typer.Option(None, "--id-prefix", help="Prefix of this source's sourcedIds ('' for none)."),
    precedence: int = typer.Option(None, "--precedence", help="Among linked records, the lowest is shown."),
    references: str = typer.Option(None, "--references", help="warn or reject records with dangling references."),
    tenant: str = TenantOption,
) -> None:
    """Show or change a source's hub-level options (id prefix, precedence, reference policy)."""

    async def go(hub: Hub) -> None:
        store = await hub.store.tenant(tenant)
        source = await store.get_source(name)
        given = _option_values(id_prefix, precedence, references)
        if given:
            source = await store.set_source_options(name, parse_source_options(given, source.options))
        for key, value in source.options.model_dump().items():
            console.print(f"{key}: {value!r}" if key == "id_prefix" else f"{key}: {value}")

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


async def _file_chunks(path: Path, size: int = 1 << 20) -> Any:
    import asyncio

    with path.open("rb") as fh:
        while chunk := await asyncio.to_thread(fh.read, size):
            yield chunk


@sources_app.command("upload")
def upload(
    name: str,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The bundle: a .zip file."),
    sync: bool = typer.Option(False, "--sync", help="Sync the source once the file is in place."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Dry-run the source once the file is in place."),
    tenant: str = TenantOption,
) -> None:
    """Put a bundle (.zip) into the tenant's import directory for a file source, as the HTTPS upload does.

    The zip is checked (member names, symlinks, unpacked size), hashed and logged; it lands on the
    source's path when that is a .zip in the import directory, else on <source>.zip there.
    """
    import getpass

    from hub.cli._sync import summary_table
    from hub.imports import deliver_bundle
    from hub.sync import run_with_safeguards

    async def go(hub: Hub) -> int:
        store = await hub.store.tenant(tenant)
        source = await store.get_source(name)
        cls = hub.plugins.connector(source.connector)
        delivery = await deliver_bundle(hub.settings, store, source, cls.config_model, _file_chunks(file),
                                        file_name=file.name, channel="cli", uploaded_by=f"cli:{getpass.getuser()}",
                                        sync=sync, dry_run=dry_run)
        up = delivery.upload
        console.print(f"uploaded {file.name} for source [bold]{name}[/] to {up.path} "
                      f"({up.size} bytes, sha256 {up.sha256}), upload {up.id}")
        if delivery.run is None:
            return 0
        outcome = await run_with_safeguards(hub, store, delivery.run.id)
        if outcome.summary is None:
            console.print(f"[yellow]run {outcome.run_id} held by the source's safeguards:[/] see `fediflow runs held`")
            return 3
        console.print(summary_table(outcome.summary))
        return 0 if outcome.summary.status == "succeeded" else 1

    code = run_with_hub(go)
    if code:
        raise typer.Exit(code)


@sources_app.command("uploads")
def uploads(name: str, limit: int = typer.Option(20), tenant: str = TenantOption) -> None:
    """The files delivered for a source (API, CLI, SFTP), newest first."""
    from hub.store import UploadLog

    async def go(hub: Hub) -> None:
        store = await hub.store.tenant(tenant)
        await store.get_source(name)
        table = Table("upload", "when", "via", "by", "path", "bytes", "sha256", "run")
        for u in await UploadLog(store).list(source=name, limit=limit):
            table.add_row(str(u.id), u.uploaded_at.isoformat(timespec="seconds"), u.channel, u.uploaded_by, u.path,
                          str(u.size), u.sha256[:16], str(u.run_id or ""))
        console.print(table)

    run_with_hub(go)


@sources_app.command("remove")
def remove(name: str, tenant: str = TenantOption) -> None:
    """Remove a source and its runs (its entities stay, detached)."""

    async def go(hub: Hub) -> None:
        store = await hub.store.tenant(tenant)
        await store.delete_source(name)
        console.print(f"removed source {name}")

    run_with_hub(go)


__all__ = ["fail", "sources_app"]
