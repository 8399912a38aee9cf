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

import gc
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError

from hub.errors import ConfigurationError, Conflict, HubError, MappingError, SourceDataError
from hub.events import ChangeEvent, ChangeOp, RunSummary
from hub.identity import relink
from hub.jsonutil import loads
from hub.sdk import Connector, StreamSpec
from hub.store import RunRecord, SourceRecord, TenantStore
from hub.store._db import short_reason
from hub.store._tables import sync_runs
from hub.store._writer import BatchWriter
from hub.sync._batches import COUNT_KEYS, Counts, SharedType
from hub.sync._locks import source_lock
from hub.sync._lookups import build_lookup_tables
from hub.sync._progress import NullProgress, Progress
from hub.sync._references import check_run_references
from hub.sync._stream import StreamSync

__all__ = ["SyncEngine", "order_streams"]

log = logging.getLogger("fediflow.sync")



def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _bulk_gc() -> Iterator[None]:
    """Fewer cyclic-GC passes while a sync creates millions of short-lived objects.

    A sync allocates several objects per record and keeps large indexes alive; with the default
    thresholds the collector re-scans them over and over (about 20% of a large sync). Objects from
    before the run are frozen out of collection, and the young-generation threshold is raised;
    both are restored afterwards.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


async def _run_event(conn: Any, tenant: TenantStore, run_id: int, event_type: str) -> None:
    """Queue a run lifecycle event for webhook subscribers in ``conn``'s transaction (hub.webhooks)."""
    from hub.webhooks import emit_run_event  # the delivery queue is hub.webhooks'

    await emit_run_event(conn, run_id, event_type, tenant=tenant.tenant.slug)


def _failure_message(exc: BaseException) -> str:
    """A failed run's message for an exception outside the hub's tree: a database error in one short
    line (never its SQL or parameters, see hub.store._db.short_reason), else the exception's type and text."""
    if isinstance(exc, DBAPIError):
        return f"database error: {short_reason(exc)}"
    return f"{type(exc).__name__}: {exc}"


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


def shared_types(specs: Sequence[StreamSpec], mappings: Mapping[str, Any]) -> dict[str, SharedType]:
    """The canonical types that several of a run's streams produce, with those streams in run order."""
    by_type: dict[str, list[str]] = {}
    for spec in specs:
        if spec.name in mappings:
            by_type.setdefault(mappings[spec.name].target, []).append(spec.name)
    return {type_: SharedType(tuple(names)) for type_, names in by_type.items() if len(names) > 1}


@dataclass
class _RunContext:
    tenant: TenantStore
    source: SourceRecord
    run: RunRecord
    connector: Connector
    dry_run: bool
    full_refresh: bool
    progress: Progress
    writer: BatchWriter
    max_errors: int = 10000
    per_stream: dict[str, dict[str, int]] = field(default_factory=dict)
    errors_kept: int = 0
    #: (stream, canonical type) of the run's mapped streams, in run order
    stream_types: list[tuple[str, str]] = field(default_factory=list)
    #: streams whose read stopped on a SourceDataError (reported in the run's errors; see StreamSync._stopped)
    stopped: list[str] = field(default_factory=list)

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
        self.max_record_bytes = hub.settings.sync.max_record_bytes

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
        with _bulk_gc():
            return await self._sync_locked(tenant, source, connector, dry_run=dry_run, full_refresh=full_refresh,
                                           progress=progress, run_id=run_id)

    async def _sync_locked(self, tenant: TenantStore, source: SourceRecord, connector: Connector, *, dry_run: bool,
                           full_refresh: bool, progress: Progress | None, run_id: int | None) -> RunSummary:
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
            sync_settings = self.hub.settings.sync
            writer = BatchWriter(tenant.db, sync_settings.writer_process_after if sync_settings.writer_process else None)
            ctx = _RunContext(tenant, source, run, connector, dry_run, run.full_refresh or full_refresh,
                              progress or NullProgress(), writer, self.max_errors,
                              per_stream={k: dict(v) for k, v in run.per_stream.items()})
            try:
                if not run.dry_run:  # sync.run.started for webhook subscribers (hub.webhooks._lifecycle)
                    async with tenant.db.begin() as conn:
                        await _run_event(conn, tenant, run.id, "sync.run.started")
                specs = order_streams(connector.streams())
                mappings = self._mappings_for(ctx, specs)
                check = await connector.check()
                if not check.ok:
                    raise SourceDataError(check.message)
                shared = shared_types(specs, mappings)
                ctx.stream_types = [(spec.name, mappings[spec.name].target) for spec in specs if spec.name in mappings]
                for spec in specs:
                    mapping = mappings.get(spec.name)
                    if mapping is not None:
                        await self._sync_stream(ctx, spec, mapping, shared.get(mapping.target))
                if not ctx.dry_run:  # links across sources follow what this run wrote (hub.identity)
                    await relink(ctx.tenant, self.hub.settings.identity.match,
                                 dict.fromkeys(m.target for m in mappings.values()))
                await check_run_references(ctx)  # warnings for what this run wrote (hub.sync._references)
            except HubError as exc:
                await writer.aclose()  # a batch in flight commits before the run is marked failed
                await self._finish(ctx, "failed", str(exc))
                raise
            except BaseException as exc:  # cancelled or a bug: record it, then let it propagate
                await writer.aclose()
                await self._finish(ctx, "failed", _failure_message(exc))
                raise
            finally:
                await writer.aclose()
                await connector.aclose()
            stopped = (f"stream(s) stopped, the rest of the run went on: {', '.join(ctx.stopped)} (see the run's "
                       "errors)") if ctx.stopped else None
            return await self._finish(ctx, "succeeded", stopped)

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
            totals = Counts()
            for counts in ctx.per_stream.values():
                totals.add(counts)
            values.update(totals.as_dict(), per_stream=ctx.per_stream)
        async with ctx.tenant.db.begin() as conn:
            await conn.execute(
                update(sync_runs)
                .where(sync_runs.c.id == ctx.run.id, sync_runs.c.tenant_id == ctx.tenant.tenant_id)
                .values(**values)
            )
            if not ctx.dry_run:  # in the status change's transaction: the event exists iff the status does
                await _run_event(conn, ctx.tenant, ctx.run.id,
                                 "sync.run.finished" if status == "succeeded" else "sync.run.failed")
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
            warnings=run.warnings,
            started_at=run.started_at or run.queued_at,
            finished_at=run.finished_at,
            per_stream=run.per_stream,
        )
        # counts nested: "created" is a LogRecord attribute, and logging refuses extras that clash;
        # one info line per real run (a safeguard's dry run before it is at debug level)
        log.log(logging.DEBUG if ctx.dry_run else logging.INFO, "sync finished",
                extra={"run": run.id, "source": ctx.source.name, "status": status, "dry_run": ctx.dry_run,
                       "counts": {k: getattr(run, k) for k in COUNT_KEYS}})
        self.hub.plugins.notify_run(summary)
        return summary

    # --- a stream ---------------------------------------------------------------------------

    async def _sync_stream(self, ctx: _RunContext, spec: StreamSpec, mapping: Any, shared: SharedType | None) -> None:
        tables = await build_lookup_tables(ctx.connector, mapping) if mapping.lookups else None
        stream = StreamSync(ctx, spec, mapping, self.batch_size, lambda rows, at: self._notify(ctx, rows, at), shared,
                            max_record_bytes=self.max_record_bytes)
        await stream.run_stream(tables)
        if stream.stopped is not None:
            ctx.stopped.append(spec.name)

    def _notify(self, ctx: _RunContext, rows: Sequence[tuple[Any, ...]], at: datetime) -> None:
        """Hand committed change rows (``event_row`` tuples + seq) to ``on_change_events`` observers."""
        if not rows or not self.hub.plugins.observes_changes:
            return
        events = [
            ChangeEvent(tenant=ctx.tenant.tenant.slug, seq=row[9], entity_type=row[1], stable_id=row[2],
                        op=ChangeOp(row[3]), version=row[4], source=ctx.source.name, run_id=row[6], at=at,
                        data=loads(row[7]))
            for row in rows
        ]
        self.hub.plugins.notify_changes(events)
