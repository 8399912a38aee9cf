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

``approve_run`` puts a held run back in the queue with the safeguard bypassed (and queues
``sync.run.approved``); ``discard_run``
ends it as ``discarded``. Deletions are soft (``tobedeleted``); :func:`purge_deleted` is the only
hard delete and runs only when asked for explicitly (``fediflow purge``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update

from hub.errors import ConfigurationError, Conflict, NotFound
from hub.events import RunSummary
from hub.store import RunRecord, SourceRecord, TenantStore
from hub.store._tables import entities, run_holds, source_safeguards, sync_runs
from hub.sync._engine import SyncEngine

__all__ = [
    "HoldRecord",
    "Safeguards",
    "SafeguardOutcome",
    "approve_run",
    "clear_safeguards",
    "discard_run",
    "evaluate",
    "get_hold",
    "get_safeguards",
    "list_holds",
    "purge_deleted",
    "run_with_safeguards",
    "set_safeguards",
]

log = logging.getLogger("fediflow.sync.safeguards")

_COUNT_KEYS = ("created", "updated", "deleted", "unchanged", "errors")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Safeguards:
    """Thresholds of one source, in percent of the source's active entities of a type.

    ``max_delete_pct``: most entities of a type a run may delete (mark ``tobedeleted``);
    ``max_change_pct``: most it may create + update + delete. ``per_type`` overrides both per
    canonical type (or stream name): ``{"User": {"max_delete_pct": 5}}``. Types with fewer than
    ``min_entities`` active entities (a first import has none) are not checked.
    """

    max_delete_pct: float | None = None
    max_change_pct: float | None = None
    per_type: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    min_entities: int = 0

    def __post_init__(self) -> None:
        for name, value in (("max_delete_pct", self.max_delete_pct), ("max_change_pct", self.max_change_pct)):
            if value is not None and value < 0:
                raise ConfigurationError(f"{name} must be >= 0")
        for type_name, limits in self.per_type.items():
            unknown = set(limits) - {"max_delete_pct", "max_change_pct"}
            if unknown:
                raise ConfigurationError(f"per_type[{type_name!r}]: unknown limit(s) {', '.join(sorted(unknown))}")
            if any(v is not None and v < 0 for v in limits.values()):
                raise ConfigurationError(f"per_type[{type_name!r}]: limits must be >= 0")
        if self.min_entities < 0:
            raise ConfigurationError("min_entities must be >= 0")

    @property
    def active(self) -> bool:
        return self.max_delete_pct is not None or self.max_change_pct is not None or any(
            v is not None for limits in self.per_type.values() for v in limits.values())

    def limits_for(self, type_name: str, stream: str) -> tuple[float | None, float | None]:
        own = self.per_type.get(type_name) or self.per_type.get(stream) or {}
        return (own["max_delete_pct"] if "max_delete_pct" in own else self.max_delete_pct,
                own["max_change_pct"] if "max_change_pct" in own else self.max_change_pct)

    def as_dict(self) -> dict[str, Any]:
        return {"max_delete_pct": self.max_delete_pct, "max_change_pct": self.max_change_pct,
                "per_type": {k: dict(v) for k, v in self.per_type.items()}, "min_entities": self.min_entities}


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


@dataclass(frozen=True, slots=True)
class SafeguardOutcome:
    """What :func:`run_with_safeguards` did: ``summary`` of the applied run, or ``hold`` when held."""

    run_id: int
    summary: RunSummary | None = None
    hold: HoldRecord | None = None


# --- thresholds ---------------------------------------------------------------------------------


async def get_safeguards(tenant: TenantStore, source: str | SourceRecord) -> Safeguards:
    record = source if isinstance(source, SourceRecord) else await tenant.get_source(source)
    async with tenant.db.connect() as conn:
        row = (await conn.execute(select(source_safeguards).where(
            source_safeguards.c.tenant_id == tenant.tenant_id, source_safeguards.c.source_id == record.id))).first()
    if row is None:
        return Safeguards()
    return Safeguards(row.max_delete_pct, row.max_change_pct, row.per_type or {}, row.min_entities)


async def set_safeguards(tenant: TenantStore, source: str, safeguards: Safeguards) -> Safeguards:
    record = await tenant.get_source(source)
    values = {"max_delete_pct": safeguards.max_delete_pct, "max_change_pct": safeguards.max_change_pct,
              "per_type": {k: dict(v) for k, v in safeguards.per_type.items()},
              "min_entities": safeguards.min_entities, "updated_at": _now()}
    async with tenant.db.begin() as conn:
        done = await conn.execute(update(source_safeguards).where(
            source_safeguards.c.tenant_id == tenant.tenant_id, source_safeguards.c.source_id == record.id).values(**values))
        if done.rowcount == 0:
            await conn.execute(source_safeguards.insert().values(tenant_id=tenant.tenant_id, source_id=record.id,
                                                                **values))
    return await get_safeguards(tenant, record)


async def clear_safeguards(tenant: TenantStore, source: str) -> None:
    record = await tenant.get_source(source)
    async with tenant.db.begin() as conn:
        await conn.execute(delete(source_safeguards).where(
            source_safeguards.c.tenant_id == tenant.tenant_id, source_safeguards.c.source_id == record.id))


async def _baseline(tenant: TenantStore, source: SourceRecord) -> dict[str, int]:
    """Active entities of ``source`` per canonical type."""
    query = (select(entities.c.type, func.count()).where(
        entities.c.tenant_id == tenant.tenant_id, entities.c.source_id == source.id, entities.c.status == "active")
        .group_by(entities.c.type))
    async with tenant.db.connect() as conn:
        return {type_name: count for type_name, count in await conn.execute(query)}


def evaluate(safeguards: Safeguards, per_stream: Mapping[str, Mapping[str, int]], types: Mapping[str, str],
             baseline: Mapping[str, int]) -> tuple[dict[str, Any], list[str]]:
    """The diff (per stream: type, baseline, counts, percentages) and the thresholds it breaks."""
    diff: dict[str, Any] = {}
    reasons: list[str] = []
    for stream, counts in per_stream.items():
        type_name = types.get(stream, stream)
        base = baseline.get(type_name, 0)
        changed = sum(counts.get(k, 0) for k in ("created", "updated", "deleted"))
        entry: dict[str, Any] = {"type": type_name, "active_before": base,
                                 **{k: counts.get(k, 0) for k in _COUNT_KEYS}}
        if base:
            entry["delete_pct"] = round(100.0 * counts.get("deleted", 0) / base, 2)
            entry["change_pct"] = round(100.0 * changed / base, 2)
        diff[stream] = entry
        if not base or base < safeguards.min_entities:
            continue
        max_delete, max_change = safeguards.limits_for(type_name, stream)
        if max_delete is not None and entry["delete_pct"] > max_delete:
            reasons.append(f"{type_name}: {counts.get('deleted', 0)} of {base} deleted "
                           f"({entry['delete_pct']}% > {max_delete}%)")
        if max_change is not None and entry["change_pct"] > max_change:
            reasons.append(f"{type_name}: {changed} of {base} changed ({entry['change_pct']}% > {max_change}%)")
    return diff, reasons


# --- running ------------------------------------------------------------------------------------


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


# --- holds --------------------------------------------------------------------------------------


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


# --- purge --------------------------------------------------------------------------------------


async def purge_deleted(tenant: TenantStore, *, source: str | None = None, type_name: str | None = None) -> int:
    """Hard-delete the ``tobedeleted`` entities of the tenant (of one source, of one type). Returns how many.

    The change log keeps their history (append-only); nothing else ever deletes an entity row.
    """
    cond = [entities.c.tenant_id == tenant.tenant_id, entities.c.status == "tobedeleted"]
    if source is not None:
        cond.append(entities.c.source_id == (await tenant.get_source(source)).id)
    if type_name is not None:
        cond.append(entities.c.type == type_name)
    async with tenant.db.begin() as conn:
        result = await conn.execute(delete(entities).where(*cond))
    log.warning("purged tobedeleted entities", extra={"tenant": tenant.tenant.slug, "source": source,
                                                      "type": type_name, "count": result.rowcount})
    return int(result.rowcount)
