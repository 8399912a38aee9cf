"""Schedules as crontab and operators expect them: crontab day-of-week numbering, next fire times,
catch-up of missed slots at start, removal keeping the ledger, one run per source and instant,
a quiet idle sync."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scheduler_support import FAST, add_source, set_run
from sqlalchemy import select, update

from hub.errors import ConfigurationError, NotFound
from hub.store._tables import schedule_ledger, schedules
from hub.sync import Safeguards, SyncEngine, set_safeguards
from scheduler import (
    SchedulerService,
    ScheduleStore,
    Worker,
    claim_slot,
    crontab_day_of_week,
    fire_times,
    next_fire_times,
)
from scheduler._repository import make_trigger

_SAT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # a Saturday


class _Records(logging.Handler):
    """Collects records on the ``fediflow`` logger itself (the CLI's logging setup may stop propagation)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _captured() -> Iterator[list[logging.LogRecord]]:
    logger, handler = logging.getLogger("fediflow"), _Records()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _days(cron: str, weeks: int = 2) -> list[str]:
    trigger = make_trigger("cron", cron=cron, anchor=_SAT)
    return sorted({at.strftime("%a") for at in fire_times(trigger, _SAT, _SAT + timedelta(weeks=weeks))},
                  key=["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].index)


def test_day_of_week_has_crontab_meaning() -> None:
    assert _days("0 2 * * 0") == _days("0 2 * * 7") == _days("0 2 * * sun") == ["Sun"]
    assert _days("0 2 * * 1-5") == _days("0 2 * * MON-fri") == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert _days("0 2 * * 5-7") == ["Sun", "Fri", "Sat"]  # Friday to Sunday
    assert _days("0 2 * * */2") == ["Sun", "Tue", "Thu", "Sat"]
    assert _days("0 2 * * 0,6") == _days("0 2 * * sat,sun") == ["Sun", "Sat"]
    assert _days("@weekly") == ["Sun"] and crontab_day_of_week("1-5/2") == "mon,wed,fri"
    first = make_trigger("cron", cron="0 2 * * 0", anchor=_SAT).get_next_fire_time(None, _SAT)
    assert first == datetime(2026, 12, 6, 2, 0, tzinfo=UTC)  # Sunday the 6th, not Monday the 7th


def test_day_of_month_or_day_of_week_as_in_crontab() -> None:
    trigger = make_trigger("cron", cron="0 0 13 * 5", anchor=_SAT)  # every 13th and every Friday
    fired = [at.date().isoformat() for at in fire_times(trigger, _SAT, datetime(2027, 1, 16, tzinfo=UTC))]
    assert fired == ["2026-12-11", "2026-12-13", "2026-12-18", "2026-12-25", "2027-01-01", "2027-01-08",
                     "2027-01-13", "2027-01-15"]


@pytest.mark.parametrize("cron", ["0 2 * * 8", "0 2 * * funday", "0 2 * * 5-1", "0 2 * * 1/0", "@often"])
def test_bad_day_of_week_is_refused(cron: str) -> None:
    with pytest.raises(ConfigurationError):
        make_trigger("cron", cron=cron)


async def test_next_fire_times_of_a_stored_schedule(hub: Any, roster: dict[str, Any]) -> None:
    store = ScheduleStore(await add_source(hub, "sis", roster["base"]))
    sunday = await store.add("sis", cron="0 2 * * 0", timezone="Europe/Berlin")
    upcoming = next_fire_times(sunday, 4)
    berlin = [at.astimezone(sunday_zone()) for at in upcoming]
    assert len(upcoming) == 4 and all(at > datetime.now(UTC) for at in upcoming)
    assert {at.strftime("%a %H:%M") for at in berlin} == {"Sun 02:00"}
    assert [b - a for a, b in zip(upcoming, upcoming[1:], strict=False)] == [timedelta(days=7)] * 3


def sunday_zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


async def _move_anchor(hub: Any, schedule_id: int, anchor: datetime) -> None:
    async with hub.db.begin() as conn:
        await conn.execute(update(schedules).where(schedules.c.id == schedule_id).values(anchor=anchor))


async def test_a_slot_missed_while_no_scheduler_ran_is_claimed_at_start(hub: Any, roster: dict[str, Any]) -> None:
    tenant = await add_source(hub, "sis", roster["base"])
    schedule = await ScheduleStore(tenant).add("sis", interval_seconds=3600)
    now = datetime.now(UTC).replace(microsecond=0)
    anchor = now - timedelta(hours=2, seconds=30)  # slots: anchor, +1h (1h30s ago), +2h (30 s ago)
    await _move_anchor(hub, schedule.id, anchor)
    node = SchedulerService(hub, FAST.model_copy(update={"catchup_seconds": 600}), name="starting")
    stop = asyncio.Event()
    task = asyncio.create_task(node.run(stop))
    try:
        for _ in range(400):  # the catch-up happens at start, the next firing is an hour away
            if node.claimed or task.done():
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    assert [(c.slot, c.outcome) for c in node.claimed] == [(anchor + timedelta(hours=2), "queued")]
    runs = await tenant.list_runs()
    assert len(runs) == 1 and runs[0].status == "queued"


async def test_removing_a_schedule_keeps_its_ledger_and_a_stale_node_only_warns(
        hub: Any, roster: dict[str, Any]) -> None:
    tenant = await add_source(hub, "sis", roster["base"])
    store = ScheduleStore(tenant)
    schedule = await store.add("sis", interval_seconds=60)
    past = await claim_slot(hub.db, schedule, schedule.anchor, "n1")
    assert past is not None and past.outcome == "queued"

    node = SchedulerService(hub, FAST, name="stale")  # loaded the schedule before it was removed
    node.schedules[schedule.id] = schedule
    node.checked[schedule.id] = schedule.anchor - timedelta(microseconds=1)  # its first slot is due again
    await store.remove(schedule.id)
    with _captured() as records:
        await node.fire(schedule.id)  # no exception, nothing claimed
    assert node.claimed == []
    warned = [r for r in records if r.name == "fediflow.scheduler" and r.levelno == logging.WARNING]
    assert warned and all(r.exc_info is None for r in warned)
    assert "removed" in warned[0].getMessage()

    with pytest.raises(NotFound):
        await store.get(schedule.id)
    assert await store.list() == []
    kept = await store.ledger(schedule.id)  # the audit of past slots survives the removal
    assert [(e.slot, e.outcome, e.run_id) for e in kept] == [(schedule.anchor, "queued", past.run_id)]
    async with hub.db.connect() as conn:
        assert len((await conn.execute(select(schedule_ledger))).all()) == 1


async def test_two_schedules_of_a_source_at_one_instant_queue_one_run(hub: Any, roster: dict[str, Any]) -> None:
    tenant = await add_source(hub, "sis", roster["base"])
    store = ScheduleStore(tenant)
    nightly = await store.add("sis", cron="0 2 * * *")
    weekly = await store.add("sis", cron="0 2 * * 0")
    slot = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    first = await claim_slot(hub.db, nightly, slot, "n1")
    assert first is not None and first.outcome == "queued"
    await set_run(hub, first.run_id, worker="w1", heartbeat_at=datetime.now(UTC))  # a worker took it at once
    second = await claim_slot(hub.db, weekly, slot, "n2")
    assert second is not None and (second.outcome, second.run_id) == ("coalesced", first.run_id)
    assert len(await tenant.list_runs()) == 1

    later = slot + timedelta(days=7)  # both again, claimed by two nodes at the same moment
    results = await asyncio.gather(claim_slot(hub.db, nightly, later, "n1"), claim_slot(hub.db, weekly, later, "n2"))
    assert sorted(r.outcome for r in results if r) == ["coalesced", "queued"]
    assert len({r.run_id for r in results if r}) == 1 and len(await tenant.list_runs()) == 2


async def test_an_idle_sync_logs_one_info_line(hub: Any, roster: dict[str, Any]) -> None:
    tenant = await add_source(hub, "sis", roster["base"])
    await SyncEngine(hub).sync(tenant, "sis")
    with _captured() as records:
        summary = await SyncEngine(hub).sync(tenant, "sis")
    assert summary.created == summary.updated == summary.deleted == 0 and summary.unchanged > 0
    assert [r.getMessage() for r in records if r.levelno >= logging.INFO] == ["sync finished"]

    # through a worker, with safeguards (a dry run first): still one line
    await set_safeguards(tenant, "sis", Safeguards(max_delete_pct=10))
    queued = await tenant.create_run(await tenant.get_source("sis"))
    with _captured() as records:
        await Worker(hub, FAST).run_until_idle()
    assert (await tenant.get_run(queued.id)).status == "succeeded"
    assert [r.getMessage() for r in records if r.levelno >= logging.INFO] == ["sync finished"]


def test_cli_next_fire_times_list_column_and_kept_slots(hub_env: dict[str, str], roster: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from hub.cli import build_app
    from hub.context import Hub
    from hub.settings import load_settings

    async def setup() -> None:
        hub = Hub.from_settings(load_settings())
        if hub.db.is_sqlite:
            await hub.db.migrate()
        await hub.store.ensure_tenant("default")
        await add_source(hub, "sis", roster["base"])
        await hub.close()

    asyncio.run(setup())
    app, runner = build_app(), CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})
        assert result.exit_code == code, result.output
        return result.output

    assert "schedule 1" in cli("schedules", "add", "sis", "--cron", "0 2 * * 0")
    cli("schedules", "add", "sis", "--every", "3600")
    listed = cli("schedules", "list")
    assert "next (UTC)" in listed and "0 2 * * 0" in listed
    expected = [at.strftime("%Y-%m-%d %H:%M:%S") for at in _next_sundays(3)]
    out = cli("schedules", "next", "1", "--count", "3")
    assert [line for line in out.splitlines() if "0 2 * * 0" in line] and all(day in out for day in expected)
    assert sum(" 02:00:00 UTC" in line for line in out.splitlines()) == 3
    both = cli("schedules", "next", "sis", "-n", "4")  # a source: its schedules merged, soonest first
    assert "every 3600s" in both
    cli("schedules", "next", "nope", code=1)

    async def claim_one() -> None:
        hub = Hub.from_settings(load_settings())
        store = ScheduleStore(await hub.store.tenant("default"))
        schedule = await store.get(2)
        await claim_slot(hub.db, schedule, schedule.anchor, "cli-test")
        await hub.close()

    asyncio.run(claim_one())
    cli("schedules", "remove", "2")
    assert "every 3600s" not in cli("schedules", "list")
    kept = cli("schedules", "slots", "2")
    assert "cli-test" in kept and "queued" in kept


def _next_sundays(count: int) -> list[datetime]:
    at = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    if at <= datetime.now(UTC):
        at += timedelta(days=1)
    while at.weekday() != 6:  # Python counts Monday as 0, Sunday as 6
        at += timedelta(days=1)
    return [at + timedelta(weeks=i) for i in range(count)]
