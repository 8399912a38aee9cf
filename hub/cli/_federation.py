"""`fediflow federation follow|following|followers|approve|reject`: ActivityPub from the command line."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.cli._common import TenantOption, console, run_with_hub
from hub.context import Hub

__all__ = ["federation_app"]

federation_app = typer.Typer(name="federation", help="ActivityPub federation: follows and followers.",
                             no_args_is_help=True)


@federation_app.command("follow")
def follow(
    actor: str = typer.Argument(..., help="Actor URL or user@host of another hub's actor (alpha.roster@hub.example)."),
    source: str = typer.Option(None, "--source", help="Name of the federation source it feeds (default: derived)."),
    tenant: str = TenantOption,
) -> None:
    """Follow a remote actor; what it sends once it accepts is ingested through a federation source."""
    from hub.federation import Federation, follow_remote

    async def go(hub: Hub) -> None:
        record = await follow_remote(Federation(hub), await hub.store.tenant(tenant), actor, source)
        console.print(f"following {record.remote_actor}: {record.state} (source {record.source}); "
                      "the Follow is sent by the federation worker")

    run_with_hub(go)


@federation_app.command("following")
def following(tenant: str = TenantOption) -> None:
    """Remote actors the tenant follows."""
    from hub.federation import Federation, list_following

    async def go(hub: Hub) -> None:
        table = Table("id", "remote actor", "state", "source")
        for f in await list_following(Federation(hub), await hub.store.tenant(tenant)):
            table.add_row(str(f.id), f.remote_actor, f.state, f.source or "")
        console.print(table)

    run_with_hub(go)


@federation_app.command("followers")
def followers(
    state: str = typer.Option(None, "--state", help="pending, accepted, rejected or gone."),
    tenant: str = TenantOption,
) -> None:
    """Followers of the tenant's actors (pending ones wait for approve / reject)."""
    from hub.federation import Federation, list_followers

    async def go(hub: Hub) -> None:
        table = Table("id", "actor", "follower", "state", "since")
        for f in await list_followers(Federation(hub), await hub.store.tenant(tenant), state):
            table.add_row(str(f.id), f.actor, f.follower, f.state, f.created_at.isoformat(timespec="seconds"))
        console.print(table)

    run_with_hub(go)


@federation_app.command("approve")
def approve(
    follower_id: int = typer.Argument(..., help="Follower id (see `followers`)."),
    scopes: list[str] = typer.Option([], "--scope", help="OneRoster scope granted (repeatable); default "
                                     "roster-core.readonly. Demographics need roster-demographics.readonly."),
    tenant: str = TenantOption,
) -> None:
    """Approve a follower: it receives the actor's activities (personal data, for a roster actor), of the
    types its scopes allow."""
    from hub.federation import Federation
    from hub.federation import approve as approve_

    async def go(hub: Hub) -> None:
        f = await approve_(Federation(hub), await hub.store.tenant(tenant), follower_id, scopes)
        granted = ", ".join(s.rsplit("/", 1)[-1] for s in f.scopes)
        console.print(f"{f.follower} now follows {f.actor} with {granted} (Accept queued)")

    run_with_hub(go)


@federation_app.command("reject")
def reject(follower_id: int = typer.Argument(..., help="Follower id (see `followers`)."), tenant: str = TenantOption) -> None:
    """Reject a follower (a Reject is sent; nothing is delivered to it)."""
    from hub.federation import Federation
    from hub.federation import reject as reject_

    async def go(hub: Hub) -> None:
        f = await reject_(Federation(hub), await hub.store.tenant(tenant), follower_id)
        console.print(f"{f.follower} rejected for {f.actor} (Reject queued)")

    run_with_hub(go)
