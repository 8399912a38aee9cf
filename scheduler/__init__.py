"""Schedules, the run ledger and the worker queue: how several nodes share the work of one hub.

- :class:`ScheduleStore`: cron and interval schedules per source (in the database; crontab
  expressions mean what crontab says, :func:`cron_trigger`), their next slots and their ledger;
- :class:`SchedulerService`: the scheduler role (APScheduler 3, in-memory jobs rebuilt from the
  database; each slot claimed through the ledger, so exactly one node queues its run);
- :class:`Worker`: the worker role (claims queued runs with ``FOR UPDATE SKIP LOCKED``,
  heartbeats, re-queues the runs of dead workers, applies the safeguards);
- :class:`SchedulerSettings`: their settings (``FEDIFLOW_SCHEDULER__...``).

Depends on the hub core only; APScheduler is imported by the scheduler role alone.
"""

from scheduler._cron import cron_trigger, crontab_day_of_week
from scheduler._ledger import ClaimedSlot, claim_slot
from scheduler._queue import ClaimedRun, claim_next, heartbeat, reap, release
from scheduler._repository import (
    LedgerEntry,
    ScheduleRecord,
    ScheduleStore,
    all_enabled_schedules,
    fire_times,
    make_trigger,
    next_fire_times,
)
from scheduler._service import SchedulerService
from scheduler._settings import SchedulerSettings, scheduler_settings
from scheduler._worker import Worker, node_name

__all__ = [
    "ClaimedRun",
    "ClaimedSlot",
    "LedgerEntry",
    "ScheduleRecord",
    "ScheduleStore",
    "SchedulerService",
    "SchedulerSettings",
    "Worker",
    "all_enabled_schedules",
    "claim_next",
    "claim_slot",
    "cron_trigger",
    "crontab_day_of_week",
    "fire_times",
    "heartbeat",
    "make_trigger",
    "next_fire_times",
    "node_name",
    "reap",
    "release",
    "scheduler_settings",
]
