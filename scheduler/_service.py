"""The scheduler role: APScheduler 3 fires each schedule; the ledger decides which node acts.

The job store is APScheduler's in-memory one, rebuilt from the ``schedules`` table at start and
refreshed every ``reload_seconds`` (schedules added, changed or removed through any node). It is
never shared between processes. When a schedule's job fires, this node claims every slot of the
schedule due since it last looked (:func:`scheduler._ledger.claim_slot`); the slots another node
claimed first are dropped by the ledger's unique constraint. At start the slots of the last
``catchup_seconds`` are claimed at once, so a slot missed while
every scheduler was down runs at start, not at the schedule's next firing. Nothing here runs a
sync: a claimed slot only queues a run, and workers execute it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from hub.errors import HubError
from scheduler._ledger import ClaimedSlot, claim_slot
from scheduler._repository import ScheduleRecord, all_enabled_schedules, fire_times, trigger_of
from scheduler._settings import SchedulerSettings, scheduler_settings
from scheduler._worker import node_name

__all__ = ["SchedulerService"]

log = logging.getLogger("fediflow.scheduler")


def _job_id(schedule_id: int) -> str:
    return f"schedule-{schedule_id}"


class SchedulerService:
    def __init__(self, hub: Any, settings: SchedulerSettings | None = None, *, name: str | None = None) -> None:
        self.hub = hub
        self.settings = settings or scheduler_settings(hub)
        self.name = name or node_name()
        self.schedules: dict[int, ScheduleRecord] = {}
        #: per schedule: slots up to here have been claimed by this node or found taken
        self.checked: dict[int, datetime] = {}
        self.claimed: list[ClaimedSlot] = []
        self._scheduler: Any = None
        #: whether the schedules were loaded once (the first load catches up on missed slots)
        self._loaded = False

    async def run(self, stop: asyncio.Event) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            # a late job still claims every slot it missed (fire() looks back), so run it however late
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._scheduler.start()
        try:
            await self.refresh()
            self._scheduler.add_job(self.refresh, IntervalTrigger(seconds=self.settings.reload_seconds),
                                    id="schedules-reload", name="reload schedules")
            log.info("scheduler started", extra={"node": self.name, "schedules": len(self.schedules)})
            await stop.wait()
        finally:
            self._scheduler.shutdown(wait=False)
            log.info("scheduler stopped", extra={"node": self.name, "slots_claimed": len(self.claimed)})

    async def refresh(self) -> None:
        """Make the in-memory jobs match the enabled schedules in the database."""
        try:
            current = {s.id: s for s in await all_enabled_schedules(self.hub.db)}
        except (HubError, SQLAlchemyError) as exc:
            log.warning("cannot load schedules", extra={"error": str(exc)})
            return
        for schedule_id in set(self.schedules) - set(current):
            self._scheduler.remove_job(_job_id(schedule_id))
            self.schedules.pop(schedule_id)
            self.checked.pop(schedule_id, None)
        now = datetime.now(UTC)
        initial = not self._loaded
        for schedule_id, schedule in current.items():
            known = self.schedules.get(schedule_id)
            if known is not None and known.updated_at == schedule.updated_at:
                continue
            try:
                trigger = trigger_of(schedule)
            except HubError as exc:
                log.error("schedule not loaded", extra={"schedule": schedule_id, "error": str(exc)})
                continue
            self.schedules[schedule_id] = schedule
            self.checked.setdefault(schedule_id, max(now - timedelta(seconds=self.settings.catchup_seconds),
                                                     schedule.anchor - timedelta(microseconds=1)))
            self._scheduler.add_job(self.fire, trigger, args=[schedule_id], id=_job_id(schedule_id),
                                    name=f"{schedule.source} {schedule.expression}", replace_existing=True)
            if initial:  # catch up at start: slots missed while no scheduler ran (within catchup_seconds)
                await self.fire(schedule_id)
        self._loaded = True

    async def fire(self, schedule_id: int) -> None:
        """Claim the schedule's slots due since this node last looked.

        Never raises: APScheduler would print the traceback outside the hub's (JSON) logging. A
        database error is a warning and the slot is tried again on the next firing.
        """
        try:
            await self._fire(schedule_id)
        except Exception:  # a bug: logged (JSON, with the traceback) by the hub's logger, not APScheduler's
            log.exception("schedule firing failed", extra={"schedule": schedule_id})

    async def _fire(self, schedule_id: int) -> None:
        schedule = self.schedules.get(schedule_id)
        if schedule is None:
            return
        now = datetime.now(UTC)
        last = self.checked[schedule_id]
        for slot in fire_times(trigger_of(schedule), last, now):
            try:
                claimed = await claim_slot(self.hub.db, schedule, slot, self.name)
            except (HubError, SQLAlchemyError) as exc:  # try this slot again on the next firing
                log.warning("cannot claim a slot", extra={"schedule": schedule_id, "slot": slot.isoformat(),
                                                          "error": str(exc).splitlines()[0][:300]})
                return
            self.checked[schedule_id] = slot
            if claimed is not None:
                self.claimed.append(claimed)
