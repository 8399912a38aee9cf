"""The run ledger: exactly one node wins each (schedule, slot).

Every scheduler node fires every schedule (APScheduler keeps its jobs in memory, never in a shared
job store). Firing means: insert (schedule_id, slot) into ``schedule_ledger``, whose UNIQUE
constraint lets exactly one insert succeed. The winner, in the same transaction, queues a run of
the source, or coalesces the slot into a run of that source still waiting in the queue, or records
why it queued nothing (the source has a held run; the source is disabled).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from hub.store._tables import schedule_ledger, sources, sync_runs

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
    """Claim ``slot`` of ``schedule`` for ``node``; None when another node has it already."""
    now = datetime.now(UTC)
    async with db.begin() as conn:
        won = (await conn.execute(
            _insert(db).values(schedule_id=schedule.id, slot=slot, node=node, claimed_at=now, outcome="claimed")
            .on_conflict_do_nothing(index_elements=["schedule_id", "slot"]).returning(schedule_ledger.c.id)
        )).scalar_one_or_none()
        if won is None:
            return None
        outcome, run_id = await _enqueue(conn, schedule, now)
        await conn.execute(update(schedule_ledger).where(schedule_ledger.c.id == won)
                           .values(outcome=outcome, run_id=run_id))
    log.info("schedule slot claimed", extra={"schedule": schedule.id, "source": schedule.source,
                                             "slot": slot.isoformat(), "outcome": outcome, "run": run_id})
    return ClaimedSlot(schedule.id, slot, outcome, run_id)


async def _enqueue(conn: Any, schedule: ScheduleRecord, now: datetime) -> tuple[str, int | None]:
    enabled = (await conn.execute(select(sources.c.enabled).where(sources.c.id == schedule.source_id))).scalar()
    if not enabled:
        return "skipped", None
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
