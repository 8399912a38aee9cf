"""Held runs: the hold a safeguard left (its diff and reasons), and a person's decision on it.

:func:`approve_run` puts a held run back in the queue with the safeguard bypassed (and queues
``sync.run.approved``); :func:`discard_run` ends it as ``discarded``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, select, update

from hub.errors import Conflict, NotFound
from hub.store import RunRecord, TenantStore
from hub.store._tables import run_holds, sync_runs

__all__ = ["HoldRecord", "approve_run", "discard_run", "get_hold", "list_holds"]

log = logging.getLogger("fediflow.sync.safeguards")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class HoldRecord:
    run_id: int
    source: str
    dry_run_id: int | None
    diff: Mapping[str, Any]
    reasons: list[str]
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime



def _hold_record(row: Any) -> HoldRecord:
    return HoldRecord(row.run_id, row.source_name, row.dry_run_id, row.diff, list(row.reasons), row.decision,
                      row.decided_by, row.decided_at, row.created_at)


def _holds_query(tenant: TenantStore) -> Any:
    from hub.store._tables import sources

    return (select(run_holds, sources.c.name.label("source_name"))
            .join(sync_runs, sync_runs.c.id == run_holds.c.run_id)
            .join(sources, sources.c.id == sync_runs.c.source_id)
            .where(run_holds.c.tenant_id == tenant.tenant_id))


async def get_hold(tenant: TenantStore, run_id: int) -> HoldRecord:
    async with tenant.db.connect() as conn:
        row = (await conn.execute(_holds_query(tenant).where(run_holds.c.run_id == run_id))).first()
    if row is None:
        raise NotFound(f"run {run_id} has no hold")
    return _hold_record(row)


async def list_holds(tenant: TenantStore, *, waiting_only: bool = True, limit: int = 100) -> list[HoldRecord]:
    query = _holds_query(tenant)
    if waiting_only:
        query = query.where(run_holds.c.decision.is_(None))
    async with tenant.db.connect() as conn:
        return [_hold_record(r) for r in await conn.execute(query.order_by(run_holds.c.run_id.desc()).limit(limit))]


async def _decide(tenant: TenantStore, run_id: int, decision: str, by: str | None, values: dict[str, Any]) -> RunRecord:
    now = _now()
    async with tenant.db.begin() as conn:
        done = await conn.execute(update(sync_runs).where(
            sync_runs.c.id == run_id, sync_runs.c.tenant_id == tenant.tenant_id, sync_runs.c.status == "held")
            .values(**values))
        if done.rowcount == 0:
            run = await tenant.get_run(run_id)  # NotFound for another tenant's run
            raise Conflict(f"run {run_id} is {run.status}, not held")
        await conn.execute(update(run_holds).where(and_(run_holds.c.run_id == run_id, run_holds.c.decision.is_(None)))
                           .values(decision=decision, decided_by=by, decided_at=now))
        if decision == "approved":  # sync.run.approved, in the decision's transaction
            from hub.webhooks import RUN_APPROVED, emit_run_event

            await emit_run_event(conn, run_id, RUN_APPROVED, tenant=tenant.tenant.slug,
                                 extra={"by": by})
    log.info("held run decided", extra={"run": run_id, "decision": decision, "by": by})
    return await tenant.get_run(run_id)


async def approve_run(tenant: TenantStore, run_id: int, *, by: str | None = None) -> RunRecord:
    """Queue the held run again; it then runs for real with the safeguard bypassed."""
    return await _decide(tenant, run_id, "approved", by,
                         {"status": "queued", "worker": None, "message": f"approved by {by or 'an operator'}"})


async def discard_run(tenant: TenantStore, run_id: int, *, by: str | None = None) -> RunRecord:
    """End the held run without applying anything."""
    return await _decide(tenant, run_id, "discarded", by,
                         {"status": "discarded", "finished_at": _now(), "message": f"discarded by {by or 'an operator'}"})
