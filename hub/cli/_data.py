"""`fediflow mappings check|preview|list`, `fediflow export`, `fediflow generate`, `fediflow demo`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from hub.cli._common import TenantOption, console, fail, run_with_hub
from hub.context import Hub
from hub.sdk import StreamState
from hub.settings import load_settings

mappings_app = typer.Typer(name="mappings", help="Check and preview declarative mappings.", no_args_is_help=True)
export_app = typer.Typer(name="export", help="Write the store's records in a standard format.", no_args_is_help=True)
generate_app = typer.Typer(name="generate", help="Generate realistic test data.", no_args_is_help=True)


@mappings_app.command("list")
def mappings_list() -> None:
    """Every mapping file the hub knows, with its target type and where it comes from."""
    hub = Hub.from_settings(load_settings())
    table = Table("connector", "stream", "target", "file", "tenant", "overridden by", "problem")
    for info in hub.mappings.describe():
        table.add_row(info.connector, info.stream, info.target, str(info.path), info.tenant or "",
                      ", ".join(info.overridden_by), info.error or "")
    console.print(table)


@mappings_app.command("check")
def mappings_check() -> None:
    """Compile every mapping against the canonical model; list every problem with file:line."""
    hub = Hub.from_settings(load_settings())
    problems = hub.mappings.check_all()
    for problem in problems:
        console.print(f"[red]{problem}[/]", soft_wrap=True)
    if problems:
        fail(f"{len(problems)} mapping problem(s)")
    console.print(f"[green]all {len(hub.mappings.describe())} mappings are valid[/]")


@mappings_app.command("preview")
def mappings_preview(
    source: str,
    stream: str,
    limit: int = typer.Option(5, "--limit", "-n", min=1, max=1000),
    tenant: str = TenantOption,
) -> None:
    """Map the first records of a source's stream and print the canonical result or each error."""
    from hub.mapping import preview
    from hub.sync import build_lookup_tables

    async def go(hub: Hub) -> None:
        store = await hub.store.tenant(tenant)
        record = await store.get_source(source)
        cls = hub.plugins.connector(record.connector)
        connector = cls(await store.source_config(record, cls.config_model))
        try:
            mapping = hub.mappings.get(record.connector, stream, tenant)
            tables = await build_lookup_tables(connector, mapping) if mapping.lookups else None
            rows = await preview(mapping, connector.read(stream, StreamState(full_refresh=True)), limit, tables)
        finally:
            await connector.aclose()
        for row in rows:
            if row.ok:
                console.print(f"[bold]{row.ref}[/]")
                console.print_json(json.dumps(row.data, default=str))
            else:
                console.print(f"[bold]{row.ref}[/] [red]{row.field or ''}: {row.error}[/]")

    run_with_hub(go)


@export_app.command("oneroster-csv")
def export_oneroster_csv(
    target: Path = typer.Argument(..., help="Folder to create, or a path ending in .zip."),
    include_deleted: bool = typer.Option(False, help="Also export records with status tobedeleted."),
    references: str = typer.Option(
        "valid", help="valid: no record refers to a missing or tobedeleted object (dangling optional references "
                      "dropped, records whose required reference dangles left out); all: records as stored."),
    tenant: str = TenantOption,
) -> None:
    """Write a OneRoster 1.2 CSV bundle of the tenant's records (streamed; written atomically)."""
    from hub.export import export_tenant_oneroster_csv
    from hub.oneroster import parse_references

    async def go(hub: Hub) -> dict[str, int]:
        mode = parse_references(references)  # a HubError: one line on stderr, exit code 1
        store = await hub.store.tenant(tenant)
        return await export_tenant_oneroster_csv(store, target, include_deleted=include_deleted, references=mode)

    counts = run_with_hub(go)
    table = Table("type", "records", title=f"wrote {target}")
    for name, count in counts.items():
        table.add_row(name, str(count))
    console.print(table)


@generate_app.command("oneroster-csv")
def generate_oneroster_csv(
    target: Path,
    users: int = typer.Option(500, min=1, help="Number of users."),
    seed: int = typer.Option(1, help="Same seed, same bytes."),
    version: str = typer.Option("1.2", help="OneRoster version: 1.1 or 1.2."),
    as_zip: bool = typer.Option(False, "--zip", help="Write a zip instead of a folder."),
) -> None:
    """Generate a realistic, deterministic OneRoster CSV bundle (about 5.8 enrollments per user)."""
    from hub.demo import generate_bundle

    stats = generate_bundle(target, users=users, seed=seed, version=version, zip=as_zip)
    console.print(f"wrote {target}: {stats}")


def demo(
    users: int = typer.Option(300, min=1, help="Users in the demo bundle."),
    tenant: str = TenantOption,
) -> None:
    """Load demo data: generate a small OneRoster bundle, add it as source `demo-sis`, sync it."""
    from hub.demo import generate_bundle
    from hub.sync import SyncEngine

    settings = load_settings()
    bundle = settings.data_dir / "demo-bundle"
    if not bundle.exists():
        generate_bundle(bundle, users=users, seed=7)

    async def go(hub: Hub) -> None:
        await hub.db.migrate()
        await hub.store.ensure_tenant(tenant)
        store = await hub.store.tenant(tenant)
        names = {s.name for s in await store.list_sources()}
        if "demo-sis" not in names:
            cls = hub.plugins.connector("oneroster_csv")
            await store.add_source("demo-sis", "oneroster_csv", store.validate_config(cls.config_model,
                                                                                      {"path": str(bundle.resolve())}))
        summary = await SyncEngine(hub).sync(store, "demo-sis")
        console.print(f"demo data loaded into tenant {tenant}: run {summary.run_id} {summary.status}, "
                      f"{summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged, "
                      f"{summary.errors} errors")

    run_with_hub(go, migrated=False)
