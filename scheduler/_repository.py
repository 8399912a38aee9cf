"""Schedules of a tenant's sources (cron or interval), stored in the database.

A schedule's slots are the fire times of its trigger, computed the same way on every node:
interval schedules count whole intervals from ``anchor`` (UTC); cron schedules follow the crontab
expression (crontab's meaning, :mod:`scheduler._cron`) in the schedule's time zone, from ``anchor``
on. Removing a schedule marks it (``removed_at``): it stops firing and is no longer listed, while
its ledger of claimed slots stays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update

from hub.errors import ConfigurationError, NotFound
from hub.store import TenantStore
from hub.store._tables import schedule_ledger, schedules, sources
from scheduler._cron import cron_trigger

__all__ = ["LedgerEntry", "ScheduleRecord", "ScheduleStore", "all_enabled_schedules", "fire_times", "make_trigger",
           "next_fire_times"]

_TINY = timedelta(microseconds=1)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    id: int
    tenant_id: int
    source_id: int
    source: str
    kind: str
    cron: str | None
    interval_seconds: int | None
    timezone: str
    full_refresh: bool
    enabled: bool
    anchor: datetime
    created_at: datetime
    updated_at: datetime

    @property
    def expression(self) -> str:
        return self.cron if self.kind == "cron" else f"every {self.interval_seconds}s"


def _record(row: Any) -> ScheduleRecord:
    return ScheduleRecord(row.id, row.tenant_id, row.source_id, row.source_name, row.kind, row.cron,
                          row.interval_seconds, row.timezone, row.full_refresh, row.enabled, row.anchor,
                          row.created_at, row.updated_at)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"unknown time zone {name!r}") from None


def make_trigger(kind: str, *, cron: str | None = None, interval_seconds: int | None = None,
                 timezone: str = "UTC", anchor: datetime | None = None) -> Any:
    """The APScheduler 3 trigger of a schedule; a bad expression is a ConfigurationError.

    ``cron`` is a crontab expression with crontab's meaning (:mod:`scheduler._cron`): five fields
    (minute hour day month day-of-week) or six with seconds first, 0 and 7 are Sunday, names accepted.
    """
    from apscheduler.triggers.interval import IntervalTrigger

    start = anchor or _now()
    if kind == "interval":
        if not interval_seconds or interval_seconds < 1:
            raise ConfigurationError("an interval schedule needs interval_seconds >= 1")
        return IntervalTrigger(seconds=interval_seconds, start_date=start, timezone=UTC)
    if kind != "cron" or not cron:
        raise ConfigurationError("a schedule is either cron (with an expression) or interval")
    return cron_trigger(cron, _zone(timezone), start)


def trigger_of(schedule: ScheduleRecord) -> Any:
    return make_trigger(schedule.kind, cron=schedule.cron, interval_seconds=schedule.interval_seconds,
                        timezone=schedule.timezone, anchor=schedule.anchor)


def fire_times(trigger: Any, after: datetime, until: datetime) -> Iterator[datetime]:
    """The trigger's fire times in (after, until], in UTC."""
    at = trigger.get_next_fire_time(None, after + _TINY)
    while at is not None and at <= until:
        yield at.astimezone(UTC)
        at = trigger.get_next_fire_time(at, at + _TINY)


def next_fire_times(schedule: ScheduleRecord, count: int = 5, *, after: datetime | None = None) -> list[datetime]:
    """The schedule's next ``count`` slots after ``after`` (default: now), in UTC."""
    trigger = trigger_of(schedule)
    found: list[datetime] = []
    at = trigger.get_next_fire_time(None, max(after or _now(), schedule.anchor - _TINY) + _TINY)
    while at is not None and len(found) < count:
        found.append(at.astimezone(UTC))
        at = trigger.get_next_fire_time(at, at + _TINY)
    return found


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One claimed slot of a schedule: who claimed it, when, and what it did."""

    schedule_id: int
    slot: datetime
    node: str
    claimed_at: datetime
    outcome: str
    run_id: int | None


def _query(*, removed: bool = False) -> Any:
    query = select(schedules, sources.c.name.label("source_name")).join(sources, sources.c.id == schedules.c.source_id)
    return query if removed else query.where(schedules.c.removed_at.is_(None))


async def all_enabled_schedules(db: Any) -> list[ScheduleRecord]:
    """Every enabled schedule of an enabled source, all tenants (what the scheduler role loads)."""
    async with db.connect() as conn:
        rows = await conn.execute(_query().where(schedules.c.enabled.is_(True), sources.c.enabled.is_(True))
                                  .order_by(schedules.c.id))
        return [_record(r) for r in rows]


class ScheduleStore:
    """One tenant's schedules."""

    def __init__(self, tenant: TenantStore) -> None:
        self.tenant = tenant
        self.db = tenant.db

    async def add(self, source: str, *, cron: str | None = None, interval_seconds: int | None = None,
                  timezone: str = "UTC", full_refresh: bool = False, enabled: bool = True) -> ScheduleRecord:
        if (cron is None) == (interval_seconds is None):
            raise ConfigurationError("give either a cron expression or an interval, not both")
        record = await self.tenant.get_source(source)
        kind = "cron" if cron is not None else "interval"
        now = _now().replace(microsecond=0)
        make_trigger(kind, cron=cron, interval_seconds=interval_seconds, timezone=timezone, anchor=now)  # validates
        async with self.db.begin() as conn:
            result = await conn.execute(schedules.insert().values(
                tenant_id=self.tenant.tenant_id, source_id=record.id, kind=kind, cron=cron,
                interval_seconds=interval_seconds, timezone=timezone, full_refresh=full_refresh, enabled=enabled,
                anchor=now, created_at=now, updated_at=now))
            schedule_id = int(result.inserted_primary_key[0])
        return await self.get(schedule_id)

    async def get(self, schedule_id: int) -> ScheduleRecord:
        async with self.db.connect() as conn:
            row = (await conn.execute(_query().where(schedules.c.tenant_id == self.tenant.tenant_id,
                                                     schedules.c.id == schedule_id))).first()
        if row is None:
            raise NotFound(f"no schedule {schedule_id} in tenant {self.tenant.tenant.slug!r}")
        return _record(row)

    async def list(self, *, source: str | None = None) -> list[ScheduleRecord]:
        query = _query().where(schedules.c.tenant_id == self.tenant.tenant_id)
        if source is not None:
            query = query.where(sources.c.name == source)
        async with self.db.connect() as conn:
            return [_record(r) for r in await conn.execute(query.order_by(schedules.c.id))]

    async def set_enabled(self, schedule_id: int, enabled: bool) -> ScheduleRecord:
        await self.get(schedule_id)
        async with self.db.begin() as conn:
            await conn.execute(update(schedules).where(schedules.c.tenant_id == self.tenant.tenant_id,
                                                       schedules.c.id == schedule_id)
                               .values(enabled=enabled, updated_at=_now()))
        return await self.get(schedule_id)

    async def remove(self, schedule_id: int) -> None:
        """Stop the schedule for good. Its row and its ledger stay (the audit of past slots)."""
        await self.get(schedule_id)
        now = _now()
        async with self.db.begin() as conn:
            await conn.execute(update(schedules).where(schedules.c.tenant_id == self.tenant.tenant_id,
                                                       schedules.c.id == schedule_id, schedules.c.removed_at.is_(None))
                               .values(enabled=False, removed_at=now, updated_at=now))

    async def ledger(self, schedule_id: int, *, limit: int = 100) -> list[LedgerEntry]:
        """The latest claimed slots of a schedule, removed ones included (newest first)."""
        async with self.db.connect() as conn:
            owned = (await conn.execute(select(schedules.c.id).where(
                schedules.c.tenant_id == self.tenant.tenant_id, schedules.c.id == schedule_id))).first()
            if owned is None:
                raise NotFound(f"no schedule {schedule_id} in tenant {self.tenant.tenant.slug!r}")
            rows = await conn.execute(select(schedule_ledger).where(schedule_ledger.c.schedule_id == schedule_id)
                                      .order_by(schedule_ledger.c.slot.desc()).limit(limit))
            return [LedgerEntry(r.schedule_id, r.slot, r.node, r.claimed_at, r.outcome, r.run_id) for r in rows]
