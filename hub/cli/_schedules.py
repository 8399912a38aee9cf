"""`fediflow schedules add|list|next|slots|remove`, `fediflow safeguards set|show|clear`,
`fediflow runs held|approve|discard` and `fediflow purge`."""

from __future__ import annotations

import json
from datetime import datetime

import typer
from rich.table import Table

from hub.cli._common import TenantOption, console, fail, run_with_hub
from hub.context import Hub
from hub.errors import ConfigurationError

__all__ = ["add_schedule_commands", "purge", "safeguards_app", "schedules_app"]

schedules_app = typer.Typer(name="schedules", help="Cron and interval schedules of sources.", no_args_is_help=True)
safeguards_app = typer.Typer(name="safeguards", help="Change thresholds that hold a run for approval.",
                             no_args_is_help=True)


@schedules_app.command("add")
def schedules_add(
    source: str,
    cron: str = typer.Option(None, "--cron", help="Crontab expression (5 fields, or 6 with seconds first), "
                             "as crontab reads it: 0 and 7 are Sunday, names (mon-fri) accepted, @daily ..."),
    every: int = typer.Option(None, "--every", min=1, help="Interval in seconds."),
    timezone: str = typer.Option("UTC", "--timezone", help="IANA time zone of the cron expression."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Scheduled runs ignore saved cursors."),
    tenant: str = TenantOption,
) -> None:
    """Schedule syncs of SOURCE: `--cron "30 2 * * *"` or `--every 3600`."""
    from scheduler import ScheduleStore

    async def go(hub: Hub) -> None:
        store = ScheduleStore(await hub.store.tenant(tenant))
        s = await store.add(source, cron=cron, interval_seconds=every, timezone=timezone, full_refresh=full_refresh)
        console.print(f"schedule [bold]{s.id}[/]: {s.source} {s.expression} ({s.timezone})")

    run_with_hub(go)


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S %Z") if at is not None else ""


@schedules_app.command("list")
def schedules_list(source: str = typer.Option(None, help="Only this source."), tenant: str = TenantOption) -> None:
    """The tenant's schedules, with each one's next slot (UTC; disabled schedules have none)."""
    from scheduler import ScheduleStore, next_fire_times

    async def go(hub: Hub) -> None:
        table = Table("id", "source", "schedule", "timezone", "full refresh", "enabled", "next (UTC)")
        for s in await ScheduleStore(await hub.store.tenant(tenant)).list(source=source):
            upcoming = next_fire_times(s, 1) if s.enabled else []
            table.add_row(str(s.id), s.source, s.expression, s.timezone, "yes" if s.full_refresh else "",
                          "yes" if s.enabled else "no", _when(upcoming[0] if upcoming else None))
        console.print(table)

    run_with_hub(go)


@schedules_app.command("next")
def schedules_next(
    schedule: str = typer.Argument(..., help="A schedule id, or a source name (all its schedules)."),
    count: int = typer.Option(5, "--count", "-n", min=1, max=1000, help="How many fire times."),
    tenant: str = TenantOption,
) -> None:
    """The next fire times of a schedule (or of every schedule of a source), in UTC and in the
    schedule's time zone."""
    from zoneinfo import ZoneInfo

    from scheduler import ScheduleStore, next_fire_times

    async def go(hub: Hub) -> None:
        store = ScheduleStore(await hub.store.tenant(tenant))
        chosen = [await store.get(int(schedule))] if schedule.isdigit() else await store.list(source=schedule)
        if not chosen:
            fail(f"no schedule {schedule!r} (give a schedule id or a source with schedules)")
        times = sorted((at, s) for s in chosen if s.enabled for at in next_fire_times(s, count))[:count]
        if not times:
            console.print(f"{schedule}: disabled, no next fire time")
            return
        table = Table("slot (UTC)", "local time", "schedule", "source", "expression")
        for at, s in times:
            table.add_row(_when(at), _when(at.astimezone(ZoneInfo(s.timezone))) + f" ({s.timezone})", str(s.id),
                          s.source, s.expression)
        console.print(table)

    run_with_hub(go)


@schedules_app.command("slots")
def schedules_slots(schedule_id: int, limit: int = typer.Option(20, "--limit", min=1, max=10000),
                    tenant: str = TenantOption) -> None:
    """The slots a schedule claimed (its ledger, kept after the schedule is removed), newest first."""
    from scheduler import ScheduleStore

    async def go(hub: Hub) -> None:
        table = Table("slot (UTC)", "node", "claimed at", "outcome", "run")
        for e in await ScheduleStore(await hub.store.tenant(tenant)).ledger(schedule_id, limit=limit):
            table.add_row(_when(e.slot), e.node, _when(e.claimed_at), e.outcome, str(e.run_id or ""))
        console.print(table)

    run_with_hub(go)


@schedules_app.command("remove")
def schedules_remove(schedule_id: int, tenant: str = TenantOption) -> None:
    """Remove a schedule: it stops firing on every node; its ledger of past slots stays (`schedules slots`)."""
    from scheduler import ScheduleStore

    async def go(hub: Hub) -> None:
        await ScheduleStore(await hub.store.tenant(tenant)).remove(schedule_id)
        console.print(f"removed schedule {schedule_id}")

    run_with_hub(go)


def _limits(items: list[str]) -> dict[str, dict[str, float | None]]:
    """``User:delete=5`` / ``User:change=20`` -> {"User": {"max_delete_pct": 5, "max_change_pct": 20}}."""
    out: dict[str, dict[str, float | None]] = {}
    for item in items:
        type_name, _, rest = item.partition(":")
        kind, _, value = rest.partition("=")
        if not type_name or kind not in ("delete", "change") or not value:
            raise ConfigurationError(f"--type takes TYPE:delete=PCT or TYPE:change=PCT, got {item!r}")
        try:
            out.setdefault(type_name, {})[f"max_{kind}_pct"] = float(value)
        except ValueError:
            raise ConfigurationError(f"--type {item!r}: {value!r} is not a number") from None
    return out


@safeguards_app.command("set")
def safeguards_set(
    source: str,
    max_delete_pct: float = typer.Option(None, "--max-delete-pct", min=0, max=100,
                                         help="Hold a run deleting more than this % of a type's entities."),
    max_change_pct: float = typer.Option(None, "--max-change-pct", min=0,
                                         help="Hold a run creating+updating+deleting more than this %."),
    types: list[str] = typer.Option([], "--type", help="Per type: User:delete=5 or User:change=20 (repeatable)."),
    min_entities: int = typer.Option(0, "--min-entities", min=0, help="Do not check types with fewer entities."),
    tenant: str = TenantOption,
) -> None:
    """Set the change thresholds of SOURCE (replacing the previous ones)."""
    from hub.sync import Safeguards, set_safeguards

    async def go(hub: Hub) -> None:
        saved = await set_safeguards(await hub.store.tenant(tenant), source,
                                     Safeguards(max_delete_pct, max_change_pct, _limits(types), min_entities))
        console.print(f"safeguards of {source}: {json.dumps(saved.as_dict())}")

    run_with_hub(go)


@safeguards_app.command("show")
def safeguards_show(source: str, tenant: str = TenantOption) -> None:
    """The change thresholds of SOURCE."""
    from hub.sync import get_safeguards

    async def go(hub: Hub) -> None:
        saved = await get_safeguards(await hub.store.tenant(tenant), source)
        console.print(json.dumps(saved.as_dict(), indent=2) if saved.active else f"{source} has no safeguards")

    run_with_hub(go)


@safeguards_app.command("clear")
def safeguards_clear(source: str, tenant: str = TenantOption) -> None:
    """Remove the change thresholds of SOURCE."""
    from hub.sync import clear_safeguards

    async def go(hub: Hub) -> None:
        await clear_safeguards(await hub.store.tenant(tenant), source)
        console.print(f"safeguards of {source} removed")

    run_with_hub(go)


def runs_held(tenant: str = TenantOption) -> None:
    """Runs held by safeguards, with the reasons and the per-stream diff."""
    from hub.sync import list_holds

    async def go(hub: Hub) -> None:
        holds = await list_holds(await hub.store.tenant(tenant))
        if not holds:
            console.print("no held runs")
        for h in holds:
            console.print(f"[bold]run {h.run_id}[/] of {h.source} (dry run {h.dry_run_id}): {'; '.join(h.reasons)}")
            table = Table("stream", "type", "active before", "created", "updated", "deleted", "delete %", "change %")
            for stream, d in h.diff.get("streams", {}).items():
                table.add_row(stream, d["type"], str(d["active_before"]), str(d["created"]), str(d["updated"]),
                              str(d["deleted"]), str(d.get("delete_pct", "")), str(d.get("change_pct", "")))
            console.print(table)

    run_with_hub(go)


def runs_approve(
    run_id: int,
    now: bool = typer.Option(False, "--now", help="Run it in this process instead of leaving it to a worker."),
    tenant: str = TenantOption,
) -> None:
    """Apply a held run: it is queued again and runs with the safeguard bypassed."""
    from hub.sync import approve_run

    async def go(hub: Hub) -> None:
        store = await hub.store.tenant(tenant)
        run = await approve_run(store, run_id, by="cli")
        if not now:
            console.print(f"run {run.id} approved and queued; a worker (`fediflow serve`) will apply it")
            return
        from scheduler import Worker

        await Worker(hub).run_until_idle(timeout=24 * 3600)
        run = await store.get_run(run_id)
        console.print(f"run {run.id}: {run.status} (created {run.created}, updated {run.updated}, "
                      f"deleted {run.deleted})")

    run_with_hub(go)


def runs_discard(run_id: int, tenant: str = TenantOption) -> None:
    """Discard a held run: nothing of it is applied."""
    from hub.sync import discard_run

    async def go(hub: Hub) -> None:
        run = await discard_run(await hub.store.tenant(tenant), run_id, by="cli")
        console.print(f"run {run.id} {run.status}")

    run_with_hub(go)


def purge(
    source: str = typer.Argument(None, help="Only entities of this source (default: the whole tenant)."),
    type_name: str = typer.Option(None, "--type", help="Only this canonical type (User, Enrollment ...)."),
    tobedeleted: bool = typer.Option(False, "--tobedeleted", help="Required: hard-delete entities marked tobedeleted."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    tenant: str = TenantOption,
) -> None:
    """Hard-delete entities a sync marked `tobedeleted`. Nothing else ever deletes them."""
    from hub.sync import purge_deleted

    if not tobedeleted:
        fail("purge only removes entities marked tobedeleted: pass --tobedeleted to say so")
    what = f"{type_name or 'all'} entities marked tobedeleted of {f'source {source}' if source else 'every source'}"
    if not yes and not typer.confirm(f"Permanently delete {what} in tenant {tenant}?"):
        raise typer.Exit(1)

    async def go(hub: Hub) -> int:
        return await purge_deleted(await hub.store.tenant(tenant), source=source, type_name=type_name)

    console.print(f"purged {run_with_hub(go)} entities")


def add_schedule_commands(app: typer.Typer) -> None:
    """Register these commands on the CLI app (`runs held|approve|discard` join the `runs` group)."""
    from hub.cli._sync import runs_app

    app.add_typer(schedules_app)
    app.add_typer(safeguards_app)
    if not any(c.name == "approve" for c in runs_app.registered_commands):  # build_app may run twice
        runs_app.command("held")(runs_held)
        runs_app.command("approve")(runs_approve)
        runs_app.command("discard")(runs_discard)
    app.command()(purge)
