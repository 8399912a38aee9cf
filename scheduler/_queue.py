"""The run queue in ``sync_runs``: claim, heartbeat, release, and the reaper of dead workers' runs.

A claimed run stays ``queued`` with ``worker`` set until the engine starts it (``running``); the
worker bumps ``heartbeat_at`` of its runs (the engine also does, on every batch). A run whose
heartbeat is older than the lease belongs to a dead worker: the reaper puts it back in the queue
(``attempts`` + 1) and the next worker resumes it from its saved stream state. On PostgreSQL a run
whose source lock (the engine's session advisory lock) is still held by a live session is never
taken for dead.

Claiming on PostgreSQL is ``SELECT ... FOR NO KEY UPDATE OF sources SKIP LOCKED LIMIT 1`` then a
guarded ``UPDATE ... RETURNING`` in the same transaction: concurrent workers never wait on, nor
take, the same run, nor two runs of one source. On SQLite a single ``UPDATE ... WHERE id =
(SELECT ...)`` runs under the database's single writer lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update

from hub.store._tables import sources, sync_runs
from hub.sync import source_lock_free

__all__ = ["ClaimedRun", "claim_next", "heartbeat", "reap", "release", "requeue_interrupted"]

log = logging.getLogger("fediflow.worker")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    id: int
    tenant_id: int
    source_id: int


def _busy(cutoff: datetime, source_id: Any = None, run_id: Any = None) -> Any:
    """A live run of the same source (running, or claimed and about to run)."""
    other = sync_runs.alias("other")
    return exists().where(
        other.c.source_id == (sync_runs.c.source_id if source_id is None else source_id),
        other.c.id != (sync_runs.c.id if run_id is None else run_id),
        or_(other.c.status == "running", and_(other.c.status == "queued", other.c.worker.is_not(None))),
        other.c.heartbeat_at >= cutoff)


async def claim_next(db: Any, worker: str, lease_seconds: float) -> ClaimedRun | None:
    """Claim the oldest queued run whose source is not being synced; None when there is none.

    PostgreSQL: the candidate's *source* row is locked (``FOR NO KEY UPDATE ... SKIP LOCKED``), so
    concurrent claimers never pick two runs of one source; the source is then checked again for a
    live run in a fresh statement (which sees every claim committed before the lock was granted).
    SQLite: one UPDATE statement, atomic under the single writer lock.
    """
    now = _now()
    cutoff = now - timedelta(seconds=lease_seconds)
    claim = (update(sync_runs).where(sync_runs.c.status == "queued", sync_runs.c.worker.is_(None))
             .values(worker=worker, heartbeat_at=now)
             .returning(sync_runs.c.id, sync_runs.c.tenant_id, sync_runs.c.source_id))
    if db.is_sqlite:
        pick = (select(sync_runs.c.id).where(sync_runs.c.status == "queued", sync_runs.c.worker.is_(None),
                                             ~_busy(cutoff)).order_by(sync_runs.c.id).limit(1))
        async with db.begin() as conn:
            row = (await conn.execute(claim.where(sync_runs.c.id == pick.scalar_subquery()))).first()
        return ClaimedRun(row.id, row.tenant_id, row.source_id) if row else None
    skipped: list[int] = []
    async with db.begin() as conn:
        for _ in range(8):
            pick = (select(sync_runs.c.id, sync_runs.c.source_id)
                    .join(sources, sources.c.id == sync_runs.c.source_id)
                    .where(sync_runs.c.status == "queued", sync_runs.c.worker.is_(None), ~_busy(cutoff),
                           sync_runs.c.source_id.not_in(skipped))
                    .order_by(sync_runs.c.id).limit(1)
                    .with_for_update(of=sources, skip_locked=True, key_share=True))
            candidate = (await conn.execute(pick)).first()
            if candidate is None:
                return None
            if (await conn.execute(select(_busy(cutoff, candidate.source_id, candidate.id)))).scalar():
                skipped.append(candidate.source_id)
                continue
            row = (await conn.execute(claim.where(sync_runs.c.id == candidate.id))).first()
            if row is not None:
                return ClaimedRun(row.id, row.tenant_id, row.source_id)
    return None


async def heartbeat(db: Any, worker: str) -> int:
    """Bump the heartbeat of every live run of ``worker``."""
    async with db.begin() as conn:
        result = await conn.execute(update(sync_runs).where(
            sync_runs.c.worker == worker, sync_runs.c.status.in_(("queued", "running"))).values(heartbeat_at=_now()))
    return int(result.rowcount)


async def release(db: Any, run_id: int, worker: str) -> bool:
    """Give a claimed run that never started back to the queue (its source was busy)."""
    async with db.begin() as conn:
        result = await conn.execute(update(sync_runs).where(
            sync_runs.c.id == run_id, sync_runs.c.worker == worker, sync_runs.c.status == "queued")
            .values(worker=None, heartbeat_at=None))
    return result.rowcount > 0


async def requeue_interrupted(db: Any, run_ids: list[int], worker: str) -> int:
    """Queue again runs this worker interrupted at shutdown (the engine marked them failed)."""
    if not run_ids:
        return 0
    async with db.begin() as conn:
        result = await conn.execute(update(sync_runs).where(
            sync_runs.c.id.in_(run_ids), sync_runs.c.worker == worker, sync_runs.c.dry_run.is_(False),
            sync_runs.c.status.in_(("failed", "running", "queued")))
            .values(status="queued", worker=None, heartbeat_at=None, finished_at=None,
                    attempts=sync_runs.c.attempts + 1, message=f"interrupted by the shutdown of {worker}; re-queued"))
    return int(result.rowcount)


async def reap(db: Any, lease_seconds: float) -> list[int]:
    """Re-queue real runs and fail dry runs whose heartbeat is older than the lease. Returns the re-queued ids."""
    now = _now()
    stale = and_(
        or_(sync_runs.c.status == "running", and_(sync_runs.c.status == "queued", sync_runs.c.worker.is_not(None))),
        or_(sync_runs.c.heartbeat_at.is_(None), sync_runs.c.heartbeat_at < now - timedelta(seconds=lease_seconds)),
        source_lock_free(db, "sync_runs.source_id"))
    async with db.begin() as conn:
        requeued = [r.id for r in await conn.execute(
            update(sync_runs).where(stale, sync_runs.c.dry_run.is_(False))
            .values(status="queued", worker=None, heartbeat_at=None, attempts=sync_runs.c.attempts + 1,
                    message="its worker stopped answering (lease expired); re-queued")
            .returning(sync_runs.c.id))]
        await conn.execute(update(sync_runs).where(stale, sync_runs.c.dry_run.is_(True))
                           .values(status="failed", finished_at=now, message="its worker stopped answering"))
    if requeued:
        log.warning("re-queued runs of dead workers", extra={"runs": requeued})
    return requeued
