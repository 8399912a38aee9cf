"""`fediflow clients create|list|revoke`: API clients (OAuth 2.0 client credentials)."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.cli._common import TenantOption, console, run_with_hub
from hub.context import Hub

__all__ = ["clients_app"]

clients_app = typer.Typer(name="clients", help="API clients: credentials for the REST API.", no_args_is_help=True)


@clients_app.command("create")
def create(
    role: str = typer.Option(..., "--role", "-r", help="admin, integrator or reader."),
    name: str = typer.Option(None, "--name", help="A label for people (default: the client id)."),
    scopes: list[str] = typer.Option([], "--scope", help="OneRoster scope (repeatable), e.g. roster-core.readonly; "
                                     "default: the role's default scopes."),
    tenant: str = TenantOption,
) -> None:
    """Create a client. Its secret is printed once and stored only as a hash."""
    from hub.auth import client_service

    async def go(hub: Hub) -> None:
        client, secret = await client_service(hub).create(tenant, role, name=name, scopes=scopes or None)
        console.print(f"client_id:     {client.client_id}")
        console.print(f"client_secret: {secret}")
        short = ' '.join(s.rsplit('/', 1)[-1] for s in client.scopes)
        console.print(f"tenant: {client.tenant.slug}  role: {client.role}  scopes: {short}")
        console.print("[yellow]store the secret now: it cannot be shown again[/]")

    run_with_hub(go)


@clients_app.command("list")
def list_(
    tenant: str = TenantOption,
    all_: bool = typer.Option(False, "--all", help="Include revoked clients."),
) -> None:
    """List a tenant's clients (secrets are never shown: only their hash is stored)."""
    from hub.store import ApiClientStore

    async def go(hub: Hub) -> None:
        record = await hub.store.get_tenant(tenant)
        table = Table("client_id", "name", "role", "scopes", "created", "revoked")
        for c in await ApiClientStore(hub.db).list(record.id, include_revoked=all_):
            table.add_row(c.client_id, c.name, c.role, " ".join(s.rsplit("/", 1)[-1] for s in c.scopes),
                          c.created_at.isoformat(timespec="seconds"),
                          c.revoked_at.isoformat(timespec="seconds") if c.revoked_at else "")
        console.print(table)

    run_with_hub(go)


@clients_app.command("revoke")
def revoke(client_id: str, tenant: str = TenantOption) -> None:
    """Revoke a client: its tokens stop working at once."""
    from hub.store import ApiClientStore

    async def go(hub: Hub) -> None:
        record = await hub.store.get_tenant(tenant)
        await ApiClientStore(hub.db).revoke(client_id, tenant_id=record.id)
        console.print(f"revoked {client_id}")

    run_with_hub(go)
