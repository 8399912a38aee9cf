"""The run ledger: exactly one node wins each (schedule, slot).

Every scheduler node fires every schedule (APScheduler keeps its jobs in memory, never in a shared
job store). Firing means: insert (schedule_id, slot) into ``schedule_ledger``, whose UNIQUE
constraint lets exactly one insert succeed. The winner, in the same transaction, queues a run of
the source, or coalesces the slot into a run of that source still waiting in the queue (or into the
run another schedule of the same source queued for the same instant), or records why it queued
nothing (the source has a held run; the source is disabled). A schedule removed or disabled since
this node loaded it claims nothing (a warning, until the node's next reload drops it); the ledger
of a removed schedule is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hub.store._tables import schedule_ledger, schedules, sources, sync_runs
from scheduler._repository import ScheduleRecord

__all__ = ["ClaimedSlot", "claim_slot"]

log = logging.getLogger("fediflow.scheduler")


@dataclass(frozen=True, slots=True)
class ClaimedSlot:
    schedule_id: int
    slot: datetime
    outcome: str
    run_id: int | None


def _insert(db: Any) -> Any:
    if db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert(schedule_ledger)


async def claim_slot(db: Any, schedule: ScheduleRecord, slot: datetime, node: str) -> ClaimedSlot | None:
    """Claim ``slot`` of ``schedule`` for ``node``; None when another node has it already, or when
    the schedule was removed or disabled meanwhile (logged as a warning: the node's copy is stale
    until its next reload)."""
    now = datetime.now(UTC)
    try:
        async with db.begin() as conn:
            if not await _in_force(db, conn, schedule, slot):
                return None
            won = (await conn.execute(
                _insert(db).values(schedule_id=schedule.id, slot=slot, node=node, claimed_at=now, outcome="claimed")
                .on_conflict_do_nothing(index_elements=["schedule_id", "slot"]).returning(schedule_ledger.c.id)
            )).scalar_one_or_none()
            if won is None:
                return None
            outcome, run_id = await _enqueue(db, conn, schedule, slot, now)
            await conn.execute(update(schedule_ledger).where(schedule_ledger.c.id == won)
                               .values(outcome=outcome, run_id=run_id))
    except IntegrityError:  # the schedule (or its source) was deleted under us: nothing to claim
        log.warning("schedule gone, slot not claimed", extra={"schedule": schedule.id, "source": schedule.source,
                                                              "slot": slot.isoformat()})
        return None
    log.info("schedule slot claimed", extra={"schedule": schedule.id, "source": schedule.source,
                                             "slot": slot.isoformat(), "outcome": outcome, "run": run_id})
    return ClaimedSlot(schedule.id, slot, outcome, run_id)


async def _in_force(db: Any, conn: Any, schedule: ScheduleRecord, slot: datetime) -> bool:
    """Whether the schedule still exists, enabled and not removed (its row share-locked on PostgreSQL,
    so a removal commits before or after this claim, never across it)."""
    query = select(schedules.c.enabled, schedules.c.removed_at).where(schedules.c.id == schedule.id)
    if not db.is_sqlite:
        query = query.with_for_update(read=True)
    row = (await conn.execute(query)).first()
    if row is not None and row.enabled and row.removed_at is None:
        return True
    log.warning("schedule removed or disabled since this node loaded it; slot not claimed",
                extra={"schedule": schedule.id, "source": schedule.source, "slot": slot.isoformat()})
    return False


async def _enqueue(db: Any, conn: Any, schedule: ScheduleRecord, slot: datetime,
                   now: datetime) -> tuple[str, int | None]:
    # one claim at a time per source (PostgreSQL: the source row's lock), so two schedules of one
    # source claimed at once by two nodes see each other's run
    query = select(sources.c.enabled).where(sources.c.id == schedule.source_id)
    if not db.is_sqlite:
        query = query.with_for_update()
    enabled = (await conn.execute(query)).scalar()
    if not enabled:
        return "skipped", None
    # another schedule of this source firing at the same instant: one run for both
    same_instant = (await conn.execute(
        select(schedule_ledger.c.run_id).join(schedules, schedules.c.id == schedule_ledger.c.schedule_id)
        .where(schedules.c.source_id == schedule.source_id, schedule_ledger.c.slot == slot,
               schedule_ledger.c.schedule_id != schedule.id, schedule_ledger.c.run_id.is_not(None))
        .order_by(schedule_ledger.c.id).limit(1))).scalar()
    if same_instant is not None:
        return "coalesced", int(same_instant)
    waiting = (await conn.execute(
        select(sync_runs.c.id, sync_runs.c.status)
        .where(sync_runs.c.source_id == schedule.source_id, sync_runs.c.dry_run.is_(False),
               ((sync_runs.c.status == "queued") & sync_runs.c.worker.is_(None)) | (sync_runs.c.status == "held"))
        .order_by(sync_runs.c.id).limit(1)
    )).first()
    if waiting is not None:
        return ("held" if waiting.status == "held" else "coalesced"), waiting.id
    result = await conn.execute(sync_runs.insert().values(
        tenant_id=schedule.tenant_id, source_id=schedule.source_id, status="queued", dry_run=False,
        full_refresh=schedule.full_refresh, created=0, updated=0, deleted=0, unchanged=0, errors=0,
        per_stream={}, message=f"schedule {schedule.id}", attempts=1, queued_at=now))
    return "queued", int(result.inserted_primary_key[0])
