"""Safeguards: a run whose changes exceed a source's thresholds is held, with its diff, for a person.

Wraps :class:`~hub.sync.SyncEngine` (never changes it)::

    run_with_safeguards(hub, tenant, run_id)
      no thresholds for the source, an approved hold, or a resumed run (it passed before)
          -> SyncEngine.sync(run_id=run_id)
      otherwise: a dry run first (its per-stream counts are the diff), compared with the
      thresholds against the source's active entities of each canonical type
          within -> SyncEngine.sync(run_id=run_id)
          beyond -> the run becomes ``held`` (a ``run_holds`` row keeps the diff and the dry run
                    id) and a ``sync.run.held`` event is queued for webhook subscribers

The policy and its evaluation are in ``_safeguard_policy``, holds and the decision on them
(``approve_run``, ``discard_run``) in ``_holds``, the one hard delete in ``_purge``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from hub.errors import Conflict
from hub.events import RunSummary
from hub.store import RunRecord, SourceRecord, TenantStore
from hub.store._tables import entities, run_holds, sync_runs
from hub.sync._engine import SyncEngine
from hub.sync._holds import HoldRecord, get_hold
from hub.sync._safeguard_policy import Safeguards, evaluate, get_safeguards

__all__ = ["SafeguardOutcome", "run_with_safeguards"]

log = logging.getLogger("fediflow.sync.safeguards")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SafeguardOutcome:
    """What :func:`run_with_safeguards` did: ``summary`` of the applied run, or ``hold`` when held."""

    run_id: int
    summary: RunSummary | None = None
    hold: HoldRecord | None = None



async def _baseline(tenant: TenantStore, source: SourceRecord) -> dict[str, int]:
    """Active entities of ``source`` per canonical type."""
    query = (select(entities.c.type, func.count()).where(
        entities.c.tenant_id == tenant.tenant_id, entities.c.source_id == source.id, entities.c.status == "active")
        .group_by(entities.c.type))
    async with tenant.db.connect() as conn:
        return {type_name: count for type_name, count in await conn.execute(query)}



async def _hold_of(tenant: TenantStore, run_id: int) -> Any:
    async with tenant.db.connect() as conn:
        return (await conn.execute(select(run_holds).where(
            run_holds.c.tenant_id == tenant.tenant_id, run_holds.c.run_id == run_id))).first()


async def _create_dry_run(tenant: TenantStore, run: RunRecord, worker: str | None) -> int:
    """A queued dry run already owned by ``worker`` (so no other worker claims it)."""
    now = _now()
    async with tenant.db.begin() as conn:
        result = await conn.execute(sync_runs.insert().values(
            tenant_id=tenant.tenant_id, source_id=run.source_id, status="queued", dry_run=True,
            full_refresh=run.full_refresh, created=0, updated=0, deleted=0, unchanged=0, errors=0, per_stream={},
            message=f"safeguard check of run {run.id}", attempts=1, queued_at=now, heartbeat_at=now, worker=worker))
        return int(result.inserted_primary_key[0])


def _stream_types(hub: Any, tenant: TenantStore, source: SourceRecord, streams: list[str]) -> dict[str, str]:
    types: dict[str, str] = {}
    for stream in streams:
        try:
            types[stream] = hub.mappings.get(source.connector, stream, tenant.tenant.slug).target
        except Exception:  # noqa: BLE001 - a stream without a mapping keeps its own name
            types[stream] = stream
    return types


async def run_with_safeguards(hub: Any, tenant: TenantStore, run_id: int, *,
                              worker: str | None = None, progress: Any = None) -> SafeguardOutcome:
    """Execute the queued (or claimed) run ``run_id``, holding it instead when it breaks the thresholds.

    ``worker`` names the claiming worker; the safeguard's dry run is created owned by it.
    ``progress`` (a :class:`hub.sync.Progress`) sees the applied run's streams.
    Raises what :meth:`SyncEngine.sync` raises (a Conflict when the source is being synced elsewhere).
    """
    engine = SyncEngine(hub)
    run = await tenant.get_run(run_id)
    source = await tenant.get_source(run.source_id)
    if not run.dry_run and not run.per_stream:
        safeguards = await get_safeguards(tenant, source)
        hold = await _hold_of(tenant, run.id) if safeguards.active else None
        if safeguards.active and not (hold is not None and hold.decision == "approved"):
            held = await _check(hub, engine, tenant, source, run, safeguards, worker)
            if held is not None:
                return SafeguardOutcome(run.id, hold=held)
    summary = await engine.sync(tenant, source.name, run_id=run.id, progress=progress)
    return SafeguardOutcome(run.id, summary=summary)


async def _check(hub: Any, engine: SyncEngine, tenant: TenantStore, source: SourceRecord, run: RunRecord,
                 safeguards: Safeguards, worker: str | None) -> HoldRecord | None:
    baseline = await _baseline(tenant, source)
    dry_id = await _create_dry_run(tenant, run, worker)
    try:
        dry = await engine.sync(tenant, source.name, run_id=dry_id)
    except Conflict:
        async with tenant.db.begin() as conn:  # never started: do not leave it queued
            await conn.execute(update(sync_runs).where(sync_runs.c.id == dry_id, sync_runs.c.status == "queued")
                               .values(status="failed", message="source busy", finished_at=_now()))
        raise
    if dry.status != "succeeded":
        return None  # the real run reports the same failure
    types = _stream_types(hub, tenant, source, list(dry.per_stream))
    diff, reasons = evaluate(safeguards, dry.per_stream, types, baseline)
    if not reasons:
        return None
    now = _now()
    body = {"streams": diff, "dry_run_id": dry_id, "thresholds": safeguards.as_dict()}
    async with tenant.db.begin() as conn:
        held = await conn.execute(update(sync_runs).where(
            sync_runs.c.id == run.id, sync_runs.c.tenant_id == tenant.tenant_id,
            sync_runs.c.status.in_(("queued", "running"))).values(
            status="held", message="held by safeguards: " + "; ".join(reasons), heartbeat_at=now))
        if held.rowcount == 0:
            raise Conflict(f"run {run.id} changed status while its safeguard check ran")
        await conn.execute(delete(run_holds).where(run_holds.c.run_id == run.id))
        await conn.execute(run_holds.insert().values(tenant_id=tenant.tenant_id, run_id=run.id, dry_run_id=dry_id,
                                                     diff=body, reasons=reasons, created_at=now))
        await _emit_held(conn, tenant, source, run, body, reasons)
    log.warning("run held by safeguards", extra={"run": run.id, "source": source.name, "reasons": reasons})
    return await get_hold(tenant, run.id)


async def _emit_held(conn: Any, tenant: TenantStore, source: SourceRecord, run: RunRecord,
                     diff: Mapping[str, Any], reasons: list[str]) -> None:
    """Queue ``sync.run.held`` for webhook subscribers, in the hold's transaction (hub.webhooks)."""
    from hub.webhooks import RUN_HELD, emit_run_event

    await emit_run_event(conn, run.id, RUN_HELD, tenant=tenant.tenant.slug, extra={
        "reasons": reasons, "diff": diff, "approve": f"/api/v1/runs/{run.id}/approve",
        "discard": f"/api/v1/runs/{run.id}/discard"})
