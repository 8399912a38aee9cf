"""`fediflow webhooks ...`: subscriptions, deliveries and replay (see docs/webhooks.md)."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.cli._common import TenantOption, console, run_with_hub
from hub.context import Hub

__all__ = ["webhooks_app"]

webhooks_app = typer.Typer(name="webhooks", help="Webhook subscriptions (Standard Webhooks), deliveries, replay.",
                           no_args_is_help=True)


async def _store(hub: Hub, tenant: str):  # type: ignore[no-untyped-def]
    from hub.webhooks import WebhookStore

    return WebhookStore.for_hub(hub, (await hub.store.get_tenant(tenant)).id)


def _show_sub(sub, secret: str | None = None) -> None:  # type: ignore[no-untyped-def]
    console.print(f"id: {sub.id}  url: {sub.url}")
    console.print(f"events: {' '.join(sub.event_types)}")
    if sub.sources:
        console.print(f"sources: {' '.join(sub.sources)}")
    if sub.entity_types:
        console.print(f"entity types: {' '.join(sub.entity_types)}")
    state = "enabled" if sub.enabled else f"disabled ({sub.disabled_reason})"
    console.print(f"state: {state}  cursor: {sub.last_seq}" + (f"  failing since: {sub.failing_since:%Y-%m-%d %H:%M:%S}"
                                                                  if sub.failing_since else ""))
    if sub.previous_secret_until:
        console.print(f"previous secret signs until {sub.previous_secret_until.isoformat(timespec='seconds')}")
    if secret:
        console.print(f"secret: {secret}")


@webhooks_app.command("create")
def create(
    url: str = typer.Argument(..., help="The receiver's http(s) URL."),
    events: list[str] = typer.Option(..., "--event", "-e", help="Event type pattern (repeatable): person.*, "
                                     "enrollment.deleted, sync.run.finished, *"),
    sources: list[str] = typer.Option([], "--source", help="Only changes of this source (repeatable)."),
    entity_types: list[str] = typer.Option([], "--entity-type", help="Only changes of this canonical type (repeatable)."),
    description: str = typer.Option("", "--description"),
    tenant: str = TenantOption,
) -> None:
    """Subscribe a URL. Prints the signing secret (whsec_...)."""

    async def go(hub: Hub) -> None:
        sub, secret = await (await _store(hub, tenant)).create(url, events, sources_=sources or None,
                                                               entity_types=entity_types or None,
                                                               description=description)
        _show_sub(sub, secret)

    run_with_hub(go)


@webhooks_app.command("list")
def list_(tenant: str = TenantOption) -> None:
    """The tenant's subscriptions."""

    async def go(hub: Hub) -> None:
        table = Table("id", "url", "events", "state", "cursor")
        for sub in await (await _store(hub, tenant)).list():
            table.add_row(str(sub.id), sub.url, " ".join(sub.event_types),
                          "enabled" if sub.enabled else "disabled", str(sub.last_seq))
        console.print(table)

    run_with_hub(go)


@webhooks_app.command("show")
def show(subscription: int, tenant: str = TenantOption,
         secret: bool = typer.Option(False, "--secret", help="Also print the signing secret(s).")) -> None:
    """One subscription."""

    async def go(hub: Hub) -> None:
        store = await _store(hub, tenant)
        sub = await store.get(subscription)
        current = None
        if secret:
            current, previous = await store.secrets(subscription)
            if previous:
                current = f"{current}  (previous: {previous})"
        _show_sub(sub, current)

    run_with_hub(go)


@webhooks_app.command("rotate")
def rotate(subscription: int, tenant: str = TenantOption,
           overlap: float = typer.Option(None, "--overlap", help="Seconds the old secret keeps signing "
                                         "(default: settings webhooks.secret_overlap_seconds).")) -> None:
    """A new signing secret; both signatures are sent during the overlap."""

    async def go(hub: Hub) -> None:
        seconds = hub.settings.webhooks.secret_overlap_seconds if overlap is None else overlap
        sub, secret = await (await _store(hub, tenant)).rotate(subscription, seconds)
        _show_sub(sub, secret)

    run_with_hub(go)


@webhooks_app.command("enable")
def enable(subscription: int, tenant: str = TenantOption,
           skip_backlog: bool = typer.Option(False, "--skip-backlog", help="Cancel what is pending and start "
                                             "at the current change.")) -> None:
    """Enable a subscription; it resumes where it stopped."""

    async def go(hub: Hub) -> None:
        sub = await (await _store(hub, tenant)).set_enabled(subscription, True, skip_backlog=skip_backlog)
        _show_sub(sub)

    run_with_hub(go)


@webhooks_app.command("disable")
def disable(subscription: int, tenant: str = TenantOption) -> None:
    """Disable a subscription (its events wait until it is enabled again)."""

    async def go(hub: Hub) -> None:
        _show_sub(await (await _store(hub, tenant)).set_enabled(subscription, False))

    run_with_hub(go)


@webhooks_app.command("deliveries")
def deliveries(subscription: int = typer.Argument(None, help="Subscription id (default: all)."),
               status: str = typer.Option(None, "--status", help="pending, succeeded, failed or cancelled."),
               limit: int = typer.Option(50, "--limit", min=1, max=1000),
               delivery: int = typer.Option(None, "--delivery", help="Show one delivery with its attempt log."),
               tenant: str = TenantOption) -> None:
    """Deliveries, newest first, or one with every attempt."""

    async def go(hub: Hub) -> None:
        store = await _store(hub, tenant)
        if delivery is not None:
            record, attempts = await store.delivery(delivery)
            console.print(f"delivery {record.id}  webhook-id {record.msg_id}  {record.event_type}  {record.status}")
            console.print(record.body or "", soft_wrap=True)
            table = Table("#", "at", "status", "ms", "error", "response")
            for a in attempts:
                table.add_row(str(a.attempt), a.at.isoformat(timespec="seconds"), str(a.status_code or ""),
                              str(a.latency_ms), a.error or "", (a.response or "")[:60])
            console.print(table)
            return
        total, rows = await store.deliveries(subscription, status=status, limit=limit)
        table = Table("id", "sub", "webhook-id", "seq", "type", "status", "attempts", "last")
        for d in rows:
            table.add_row(str(d.id), str(d.subscription_id), d.msg_id, str(d.seq or ""), d.event_type, d.status,
                          str(d.attempts), str(d.last_status_code or d.last_error or ""))
        console.print(table)
        console.print(f"{len(rows)} of {total}")

    run_with_hub(go)


@webhooks_app.command("replay")
def replay(subscription: int = typer.Argument(None, help="Subscription id (with --after)."),
           after: int = typer.Option(None, "--after", min=0, help="Queue again every event after this sequence."),
           delivery: int = typer.Option(None, "--delivery", help="Queue one delivery again."),
           tenant: str = TenantOption) -> None:
    """Send again: one delivery (--delivery ID) or everything after a sequence (SUBSCRIPTION --after SEQ)."""
    from hub.cli._common import fail

    if (delivery is None) == (subscription is None or after is None):
        fail("give either --delivery ID or SUBSCRIPTION --after SEQ")

    async def go(hub: Hub) -> None:
        store = await _store(hub, tenant)
        if delivery is not None:
            record = await store.replay_delivery(delivery)
            console.print(f"queued 1 (delivery {record.id}, webhook-id {record.msg_id})")
        else:
            console.print(f"queued {await store.replay_since(subscription, after)}")

    run_with_hub(go)
