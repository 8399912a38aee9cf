"""The sync engine: connector records -> mapping -> canonical record -> store + change log.

For each stream of a source, in dependency order:

1. load, for this source and type, the raw-hash index (raw hash -> entity id) and the set of
   active entity ids (the deletion candidates of a full read);
2. read raw records one at a time; a record whose raw hash (over the raw record and the mapping's
   fingerprint) is in the index is unchanged and costs no mapping;
3. map, validate and hash the others; per batch, look the stable ids up, and write inserts,
   updates, change events (with the tenant's next sequences), record errors, the stream's cursor
   and the run's counters in ONE transaction;
4. when the connector says the read was complete, mark the candidates not seen ``tobedeleted``.

Crash safety: each committed batch records how many records of the stream it covers
(``position``). A resumed run reads the stream again from the start; records up to that position
are replayed without being counted or reported twice, and the raw-hash index recognises what was
already written, so the final state, the change log and the counts equal those of an
uninterrupted run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from hub.errors import ConfigurationError, Conflict, HubError, MappingError, RecordError, SourceDataError
from hub.events import ChangeEvent, ChangeOp, RunSummary
from hub.jsonutil import canonical_bytes, content_hash, loads
from hub.sdk import Connector, StreamSpec, StreamState
from hub.store import RunRecord, SourceRecord, TenantStore
from hub.store._sync_ops import (
    BatchWrite,
    apply_batch,
    entity_row,
    event_row,
    fetch_data,
    fetch_existing,
    load_source_index,
    load_stream_state,
    rows_for_errors,
    update_row,
)
from hub.store._tables import sync_runs
from hub.sync._locks import source_lock
from hub.sync._lookups import build_lookup_tables
from hub.sync._progress import NullProgress, Progress

__all__ = ["SyncEngine", "order_streams"]

log = logging.getLogger("fediflow.sync")

_COUNT_KEYS = ("created", "updated", "deleted", "unchanged", "errors")
_SENSITIVE = ("password", "secret", "token")


def _now() -> datetime:
    return datetime.now(UTC)


def order_streams(specs: Sequence[StreamSpec]) -> list[StreamSpec]:
    """Streams in the connector's order, moved after the streams they depend on."""
    by_name = {spec.name: spec for spec in specs}
    ordered: list[StreamSpec] = []
    visiting: set[str] = set()

    def visit(spec: StreamSpec) -> None:
        if spec in ordered:
            return
        if spec.name in visiting:
            raise ConfigurationError(f"streams depend on each other in a cycle through {spec.name!r}")
        visiting.add(spec.name)
        for dep in spec.depends_on:
            if dep in by_name:
                visit(by_name[dep])
        visiting.discard(spec.name)
        ordered.append(spec)

    for spec in specs:
        visit(spec)
    return ordered


def _validation_error(exc: ValidationError) -> tuple[str | None, str]:
    """The first problem of a pydantic error as (field, message), never echoing the value."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return loc, f"{first['msg']}{more}"


@dataclass(slots=True)
class _Pending:
    stable_id: str
    data: dict[str, Any]
    encoded: bytes
    hash: bytes
    raw_hash: bytes | None
    status: str
    replay: bool
    ref: str


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in _COUNT_KEYS}

    def add(self, other: Mapping[str, int]) -> None:
        for key in _COUNT_KEYS:
            setattr(self, key, getattr(self, key) + other.get(key, 0))


@dataclass
class _RunContext:
    tenant: TenantStore
    source: SourceRecord
    run: RunRecord
    connector: Connector
    dry_run: bool
    full_refresh: bool
    progress: Progress
    max_errors: int = 10000
    per_stream: dict[str, dict[str, int]] = field(default_factory=dict)
    errors_kept: int = 0

    def keep_error(self) -> bool:
        """Whether one more record error is stored (all are counted; at most ``max_errors`` kept)."""
        if self.errors_kept >= self.max_errors:
            return False
        self.errors_kept += 1
        return True


class SyncEngine:
    """Runs syncs for one hub (see :class:`hub.context.Hub`)."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.batch_size = hub.settings.sync.batch_size
        self.max_errors = hub.settings.sync.max_errors_per_run

    # --- a run ------------------------------------------------------------------------------

    async def sync(self, tenant: TenantStore, source_name: str, *, dry_run: bool = False,
                   full_refresh: bool = False, progress: Progress | None = None,
                   run_id: int | None = None) -> RunSummary:
        """Sync one source. Resumes the source's unfinished run, if any, unless ``dry_run``.

        ``run_id`` runs that queued run (created with ``TenantStore.create_run``) instead; its
        ``dry_run`` and ``full_refresh`` flags then apply.

        Raises MappingError / SourceDataError / ConnectorError before anything is written when the
        mappings or the source as a whole are unusable; the run is then recorded as failed.
        """
        source = await tenant.get_source(source_name)
        connector_cls = self.hub.plugins.connector(source.connector)
        config = await tenant.source_config(source, connector_cls.config_model)
        connector = connector_cls(config)
        async with source_lock(tenant.db, source.id, source.name):
            if run_id is not None:
                run = await tenant.get_run(run_id)
                if run.source_id != source.id or run.status not in ("queued", "running"):
                    raise Conflict(f"run {run_id} is not a queued run of source {source.name!r}")
                dry_run = run.dry_run
            else:
                run = None if dry_run else await tenant.unfinished_run(source)
            if run is None:
                run = await tenant.create_run(source, dry_run=dry_run, full_refresh=full_refresh, status="running")
            else:
                resumed = run.status == "running"
                run = await self._restart(tenant, run)
                if resumed:
                    log.info("resuming run", extra={"run": run.id, "source": source.name, "attempt": run.attempts})
            ctx = _RunContext(tenant, source, run, connector, dry_run, run.full_refresh or full_refresh,
                              progress or NullProgress(), self.max_errors, per_stream={k: dict(v) for k, v in run.per_stream.items()})
            try:
                specs = order_streams(connector.streams())
                mappings = self._mappings_for(ctx, specs)
                check = await connector.check()
                if not check.ok:
                    raise SourceDataError(check.message)
                for spec in specs:
                    mapping = mappings.get(spec.name)
                    if mapping is not None:
                        await self._sync_stream(ctx, spec, mapping, mappings)
            except HubError as exc:
                await self._finish(ctx, "failed", str(exc))
                raise
            except BaseException as exc:  # cancelled or a bug: record it, then let it propagate
                await self._finish(ctx, "failed", f"{type(exc).__name__}: {exc}")
                raise
            finally:
                await connector.aclose()
            return await self._finish(ctx, "succeeded", None)

    def _mappings_for(self, ctx: _RunContext, specs: Sequence[StreamSpec]) -> dict[str, Any]:
        """Compile every stream's mapping up front, so a mapping error stops the run before any write."""
        registry = self.hub.mappings
        available = set(registry.available(ctx.source.connector, ctx.tenant.tenant.slug))
        found: dict[str, Any] = {}
        for spec in specs:
            if spec.name not in available:
                log.warning("stream has no mapping, skipped", extra={"source": ctx.source.name, "stream": spec.name})
                continue
            found[spec.name] = registry.get(ctx.source.connector, spec.name, ctx.tenant.tenant.slug)
        if not found:
            raise MappingError(f"connector {ctx.source.connector!r} has no mapping for any of its streams")
        return found

    async def _restart(self, tenant: TenantStore, run: RunRecord) -> RunRecord:
        from sqlalchemy import update

        async with tenant.db.begin() as conn:
            await conn.execute(
                update(sync_runs)
                .where(sync_runs.c.id == run.id, sync_runs.c.tenant_id == tenant.tenant_id)
                .values(status="running", attempts=sync_runs.c.attempts + (1 if run.status == "running" else 0),
                        heartbeat_at=_now(), message=None,
                        started_at=run.started_at or _now())
            )
        return await tenant.get_run(run.id)

    async def _finish(self, ctx: _RunContext, status: str, message: str | None) -> RunSummary:
        from sqlalchemy import update

        now = _now()
        values: dict[str, Any] = {"status": status, "message": message, "finished_at": now, "heartbeat_at": now}
        if ctx.dry_run:  # nothing of a dry run was committed batch by batch: write its counts now
            totals = _Counts()
            for counts in ctx.per_stream.values():
                totals.add(counts)
            values.update(totals.as_dict(), per_stream=ctx.per_stream)
        async with ctx.tenant.db.begin() as conn:
            await conn.execute(
                update(sync_runs)
                .where(sync_runs.c.id == ctx.run.id, sync_runs.c.tenant_id == ctx.tenant.tenant_id)
                .values(**values)
            )
        run = await ctx.tenant.get_run(ctx.run.id)
        summary = RunSummary(
            run_id=run.id,
            tenant=ctx.tenant.tenant.slug,
            source=ctx.source.name,
            status=run.status,
            dry_run=run.dry_run,
            created=run.created,
            updated=run.updated,
            deleted=run.deleted,
            unchanged=run.unchanged,
            errors=run.errors,
            started_at=run.started_at or run.queued_at,
            finished_at=run.finished_at,
            per_stream=run.per_stream,
        )
        log.info("sync finished", extra={"run": run.id, "source": ctx.source.name, "status": status,
                                         **{k: getattr(run, k) for k in _COUNT_KEYS}})
        self.hub.plugins.notify_run(summary)
        return summary

    # --- a stream ---------------------------------------------------------------------------

    async def _sync_stream(self, ctx: _RunContext, spec: StreamSpec, mapping: Any,
                           mappings: Mapping[str, Any]) -> None:
        tenant_id, source_id, run_id = ctx.tenant.tenant_id, ctx.source.id, ctx.run.id
        db = ctx.tenant.db
        async with db.connect() as conn:
            stored = await load_stream_state(conn, source_id, spec.name)
        if stored is not None and stored.run_id == run_id and stored.done and not ctx.dry_run:
            return  # finished by an earlier attempt of this run
        resuming = stored is not None and stored.run_id == run_id and not ctx.dry_run
        start_cursor = dict(stored.start_cursor if resuming else (stored.cursor if stored else {}))
        replay_until = stored.position if resuming else 0
        state = StreamState(cursor=dict(start_cursor), full_refresh=ctx.full_refresh)
        counts = _Counts()
        if resuming:
            counts.add(ctx.per_stream.get(spec.name, {}))

        type_name = mapping.target
        model = mapping.model
        tables = await build_lookup_tables(ctx.connector, mapping) if mapping.lookups else None
        use_shortcut = not mapping.lookups and not ctx.full_refresh
        async with db.connect() as conn:
            raw_index, candidates = await load_source_index(conn, tenant_id, source_id, type_name)
        if not use_shortcut:
            raw_index = {}
        fingerprint = bytes.fromhex(mapping.fingerprint)[:16] if len(mapping.fingerprint) >= 32 else \
            mapping.fingerprint.encode()
        touched: set[int] = set()
        new_ids: set[str] = set()
        pending: list[_Pending] = []
        pending_ids: set[str] = set()
        errors: list[tuple[str, str | None, str]] = []
        since_flush: dict[str, int] = dict.fromkeys(_COUNT_KEYS, 0)
        position = 0
        read_since_flush = 0
        ctx.progress.stream_started(spec.name)

        def error(ref: str, field_name: str | None, message: str, replay: bool) -> None:
            if replay:
                return
            since_flush["errors"] += 1
            if ctx.keep_error():
                errors.append((ref, field_name, message))

        async def flush(done: bool) -> None:
            nonlocal pending, errors, read_since_flush
            batch, batch_errors, delta = pending, errors, dict(since_flush)
            pending, errors, read_since_flush = [], [], 0
            pending_ids.clear()
            for key in _COUNT_KEYS:
                since_flush[key] = 0
            await self._write_batch(ctx, spec, type_name, batch, batch_errors, delta, counts, touched, candidates,
                                    new_ids, state, start_cursor, position, done)

        async for record in ctx.connector.read(spec.name, state):
            position += 1
            read_since_flush += 1
            replay = position <= replay_until
            if record.error is not None:
                error(record.ref, None, record.error, replay)
            else:
                raw_bytes = canonical_bytes(record.data)
                raw_hash = content_hash(fingerprint + raw_bytes)
                entity_id = raw_index.get(raw_hash)
                if entity_id is not None:
                    if entity_id in touched:
                        error(record.ref, "sourcedId", "duplicate record: the same record was read earlier in this stream", replay)
                    else:
                        touched.add(entity_id)
                        candidates.discard(entity_id)
                        if not replay:
                            since_flush["unchanged"] += 1
                else:
                    try:
                        data = model.model_validate(mapping.apply(record.data, tables)).model_dump(
                            mode="json", by_alias=True, exclude_none=True)
                    except RecordError as exc:
                        error(record.ref, exc.field, exc.message, replay)
                    except ValidationError as exc:
                        error(record.ref, *_validation_error(exc), replay)
                    else:
                        stable_id = data["sourcedId"]
                        if stable_id in new_ids or stable_id in pending_ids:
                            error(record.ref, "sourcedId", f"duplicate sourcedId {stable_id!r} in this stream", replay)
                        else:
                            encoded = canonical_bytes(data)
                            pending_ids.add(stable_id)
                            pending.append(_Pending(stable_id, data, encoded, content_hash(encoded),
                                                    raw_hash if not mapping.lookups else None,
                                                    data.get("status", "active"), replay, record.ref))
            if len(pending) >= self.batch_size or read_since_flush >= self.batch_size * 10:
                ctx.progress.advance(spec.name, read_since_flush)
                await flush(done=False)
        ctx.progress.advance(spec.name, read_since_flush)
        complete = state.present and state.complete
        await flush(done=not complete)
        if complete:
            await self._mark_missing(ctx, spec, type_name, sorted(candidates), counts, state, start_cursor, position)
        ctx.progress.stream_finished(spec.name, counts.as_dict())

    async def _write_batch(self, ctx: _RunContext, spec: StreamSpec, type_name: str, batch: list[_Pending],
                           batch_errors: list[tuple[str, str | None, str]], delta: dict[str, int], counts: _Counts,
                           touched: set[int], candidates: set[int], new_ids: set[str], state: StreamState,
                           start_cursor: Mapping[str, Any], position: int, done: bool) -> None:
        """Look the batch's stable ids up and write it, its errors, cursor and counters in one transaction."""
        tenant_id, source_id, run_id = ctx.tenant.tenant_id, ctx.source.id, ctx.run.id
        now = _now()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        raw_updates: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        async with ctx.tenant.db.begin() as conn:
            existing = await fetch_existing(conn, tenant_id, type_name, [p.stable_id for p in batch]) if batch else {}
            for item in batch:
                found = existing.get(item.stable_id)
                if found is None:
                    new_ids.add(item.stable_id)
                    op = ChangeOp.DELETED if item.status == "tobedeleted" else ChangeOp.CREATED
                    version = 1
                    inserts.append(entity_row(tenant_id, type_name, item.stable_id, source_id, item.encoded,
                                              item.hash, item.raw_hash, 1, item.status, now))
                elif found.id in touched:
                    if not item.replay:
                        delta["errors"] += 1
                        if ctx.keep_error():
                            batch_errors.append((item.ref, "sourcedId",
                                                 f"duplicate sourcedId {item.stable_id!r} in this stream"))
                    continue
                else:
                    touched.add(found.id)
                    candidates.discard(found.id)
                    if found.hash == item.hash:
                        if item.raw_hash is not None:
                            raw_updates.append({"_id": found.id, "raw_hash": item.raw_hash})
                        if not item.replay:
                            delta["unchanged"] += 1
                        continue
                    version = found.version + 1
                    op = (ChangeOp.DELETED if item.status == "tobedeleted" and found.status != "tobedeleted"
                          else ChangeOp.UPDATED)
                    updates.append(update_row(found.id, item.encoded, item.hash, item.raw_hash, version, item.status,
                                              source_id, now))
                if not item.replay:
                    delta[{ChangeOp.CREATED: "created", ChangeOp.UPDATED: "updated", ChangeOp.DELETED: "deleted"}[op]] += 1
                events.append(event_row(tenant_id, type_name, item.stable_id, op.value, version, source_id, run_id,
                                        item.encoded, now))
            counts.add(delta)
            ctx.per_stream[spec.name] = counts.as_dict()
            if ctx.dry_run:
                await conn.rollback()
                return
            written = await apply_batch(conn, BatchWrite(
                tenant_id=tenant_id, source_id=source_id, run_id=run_id, stream=spec.name, type=type_name, now=now,
                inserts=inserts, updates=updates, raw_hash_updates=raw_updates, events=events,
                errors=rows_for_errors(run_id, spec.name, batch_errors), cursor=state.cursor,
                start_cursor=start_cursor, position=position, stream_done=done, counts=delta,
                per_stream=ctx.per_stream))
        self._notify(ctx, written)

    def _notify(self, ctx: _RunContext, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows or not self.hub.plugins.observes_changes:
            return
        events = [
            ChangeEvent(tenant=ctx.tenant.tenant.slug, seq=row["seq"], entity_type=row["entity_type"],
                        stable_id=row["stable_id"], op=ChangeOp(row["op"]), version=row["version"],
                        source=ctx.source.name, run_id=row["run_id"], at=row["at"], data=loads(str.__str__(row["data"])))
            for row in rows
        ]
        self.hub.plugins.notify_changes(events)

    async def _mark_missing(self, ctx: _RunContext, spec: StreamSpec, type_name: str, missing: list[int],
                            counts: _Counts, state: StreamState, start_cursor: Mapping[str, Any],
                            position: int) -> None:
        """Mark entities of this source that a complete read did not return ``tobedeleted``."""
        tenant_id, source_id, run_id = ctx.tenant.tenant_id, ctx.source.id, ctx.run.id
        chunks = [missing[i : i + self.batch_size] for i in range(0, len(missing), self.batch_size)] or [[]]
        for number, chunk in enumerate(chunks, start=1):
            now = _now()
            done = number == len(chunks)
            async with ctx.tenant.db.begin() as conn:
                rows = await fetch_data(conn, tenant_id, chunk) if chunk else {}
                updates, events = [], []
                for entity_id in chunk:
                    row = rows[entity_id]
                    data = dict(row.data)
                    data["status"] = "tobedeleted"
                    encoded = canonical_bytes(data)
                    version = row.version + 1
                    updates.append(update_row(entity_id, encoded, content_hash(encoded), None, version, "tobedeleted",
                                              source_id, now))
                    events.append(event_row(tenant_id, type_name, row.stable_id, ChangeOp.DELETED.value, version,
                                            source_id, run_id, encoded, now))
                counts.deleted += len(chunk)
                ctx.per_stream[spec.name] = counts.as_dict()
                if ctx.dry_run:
                    await conn.rollback()
                    continue
                written = await apply_batch(conn, BatchWrite(
                    tenant_id=tenant_id, source_id=source_id, run_id=run_id, stream=spec.name, type=type_name,
                    now=now, inserts=[], updates=updates, raw_hash_updates=[], events=events, errors=[],
                    cursor=state.cursor, start_cursor=start_cursor, position=position, stream_done=done,
                    counts={"deleted": len(chunk)}, per_stream=ctx.per_stream))
            self._notify(ctx, written)
