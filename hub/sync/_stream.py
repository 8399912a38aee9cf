"""The sync of one stream: read -> (raw hash) -> map -> validate -> classify -> write, in batches.

Canonical records are stored and hashed as pydantic's JSON of the validated model (fields in the
model's order) with the keys of the free-form ``metadata`` object sorted, so the same record always
gives the same bytes whatever the order of the source's extra columns.

Reading, mapping and classifying run in order on the event loop; the write of batch N is handed
to the run's :class:`~hub.store._writer.BatchWriter` when N is complete and awaited before N+1 is
handed over, so batches commit strictly in order. On a large SQLite run the writer is a child
process and batch N is written while N+1 is mapped; in process the write mostly advances while
the loop waits for it. Classification (is this stable id new, changed, unchanged or a duplicate?)
is done before the write is handed over, against the store as of the previous commit, so the
result is the same as a fully sequential run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from hub.errors import RecordError
from hub.events import ChangeOp
from hub.jsonutil import canonical_bytes, content_hash
from hub.sdk import StreamSpec, StreamState
from hub.store._sync_ops import (
    BatchWrite,
    ExistingEntity,
    bulk_sql,
    entity_row,
    event_row,
    fetch_data,
    fetch_existing,
    has_entities,
    load_source_index,
    load_stream_state,
    numbered,
    rows_for_errors,
    source_generation,
    update_row,
)
from hub.sync._batches import Batch, Counts, Pending, Rows, SharedType, sorted_keys, validation_problem
from hub.sync._snapshots import snapshot_key, unchanged_records

__all__ = ["StreamSync"]

log = logging.getLogger("fediflow.sync")

_OP_COUNT = {ChangeOp.CREATED: "created", ChangeOp.UPDATED: "updated", ChangeOp.DELETED: "deleted"}


def _now() -> datetime:
    return datetime.now(UTC)


class StreamSync:
    """Syncs one stream of one run. ``run`` is the engine's run context (tenant, source, run, ...)."""

    def __init__(self, run: Any, spec: StreamSpec, mapping: Any, batch_size: int,
                 notify: Callable[[Sequence[tuple[Any, ...]], datetime], None],
                 shared: SharedType | None = None) -> None:
        self.run = run
        self.spec = spec
        self.shared = shared
        self.mapping = mapping
        self.batch_size = batch_size
        self.notify = notify
        self.db = run.tenant.db
        self.tenant_id = run.tenant.tenant_id
        self.source_id = run.source.id
        self.run_id = run.run.id
        self.type = mapping.target
        self.model = mapping.model
        self.serializer = mapping.model.__pydantic_serializer__
        self.counts = Counts()
        self.touched: set[int] = set()  # entity ids seen in this read
        self.mapped_ids: set[str] = set()  # stable ids mapped in this read
        self.candidates: set[int] = set()  # active entity ids not seen yet (deletion candidates)
        self.batch = Batch()
        self.position = 0
        self.writing: asyncio.Task[None] | None = None
        self.snapshot_key: str | None = None
        self.unchecked: tuple[BatchWrite, Batch] | None = None  # the write of ``writing`` and its batch, if unchecked
        self.new_type = False  # the tenant had no entity of this type when the stream started

    # --- the read loop -------------------------------------------------------------------------

    async def run_stream(self, tables: Any) -> None:
        run, spec = self.run, self.spec
        async with self.db.connect() as conn:
            stored = await load_stream_state(conn, self.source_id, spec.name)
        if stored is not None and stored.run_id == self.run_id and stored.done and not run.dry_run:
            if self.shared is not None:
                self.shared.complete = False
            return  # finished by an earlier attempt of this run
        resuming = stored is not None and stored.run_id == self.run_id and not run.dry_run
        self.start_cursor = dict(stored.start_cursor if resuming else (stored.cursor if stored else {}))
        replay_until = stored.position if resuming else 0
        self.state = StreamState(cursor=dict(self.start_cursor), full_refresh=run.full_refresh)
        if resuming:
            self.counts.add(run.per_stream.get(spec.name, {}))

        shortcut = not self.mapping.lookups and not run.full_refresh
        if shortcut and self.shared is None:
            self.snapshot_key = await snapshot_key(run.connector, spec.name, self.mapping)
        if self.snapshot_key is not None and not resuming and stored is not None and stored.snapshot:
            async with self.db.connect() as conn:
                generation = await source_generation(conn, self.tenant_id, self.source_id, self.type)
            records = unchanged_records(stored, self.snapshot_key, generation)
            if records is not None:
                await self._skip_unchanged(stored.snapshot, records)
                return
        async with self.db.connect() as conn:
            raw_index, self.candidates = await load_source_index(conn, self.tenant_id, self.source_id, self.type)
            if self.shared is not None:
                if self.shared.candidates is None:
                    self.shared.candidates = self.candidates
                self.candidates = self.shared.candidates
            self.new_type = not await has_entities(conn, self.tenant_id, self.type)
        if not shortcut:
            raw_index = {}
        fingerprint = self.mapping.fingerprint.encode()
        keep_raw_hash = not self.mapping.lookups
        apply, validate, to_json = self.mapping.apply, self.model.model_validate, self.serializer.to_json
        run.progress.stream_started(spec.name)
        try:
            async for record in run.connector.read(spec.name, self.state):
                self.position += 1
                batch = self.batch
                batch.read += 1
                replay = self.position <= replay_until
                if record.error is not None:
                    self._error(record.ref, None, record.error, replay)
                else:
                    raw_hash = content_hash(fingerprint + canonical_bytes(record.data))
                    entity_id = raw_index.get(raw_hash)
                    if entity_id is not None:
                        if entity_id in self.touched:
                            self._error(record.ref, "sourcedId", "duplicate record: the same record was read earlier "
                                        "in this stream", replay)
                        else:
                            self.touched.add(entity_id)
                            self.candidates.discard(entity_id)
                            if not replay:
                                batch.delta["unchanged"] += 1
                    else:
                        try:
                            mapped = apply(record.data, tables)
                            if mapped.get("metadata"):
                                mapped["metadata"] = sorted_keys(mapped["metadata"])
                            obj = validate(mapped)
                        except RecordError as exc:
                            self._error(record.ref, exc.field, exc.message, replay)
                        except ValidationError as exc:
                            self._error(record.ref, *validation_problem(exc), replay)
                        else:
                            stable_id = obj.sourcedId
                            if stable_id in self.mapped_ids:
                                self._error(record.ref, "sourcedId", f"duplicate sourcedId {stable_id!r} in this "
                                            "stream", replay)
                            else:
                                self.mapped_ids.add(stable_id)
                                encoded = to_json(obj, by_alias=True, exclude_none=True)
                                batch.records.append(Pending(stable_id, encoded, content_hash(encoded),
                                                              raw_hash if keep_raw_hash else None,
                                                              str(obj.status.value), replay, record.ref))
                if len(batch.records) >= self.batch_size or batch.read >= self.batch_size * 10:
                    await self._flush(done=False)
            mark = self.state.present and self.state.complete
            if self.shared is not None:
                self.shared.complete = self.shared.complete and mark
                mark = self.shared.complete and self.shared.is_last(spec.name)
            await self._flush(done=not mark)
            if mark:
                await self._mark_missing(sorted(self.candidates))
            await self._drain()
        finally:
            if self.writing is not None and not self.writing.done():
                self.writing.cancel()
        run.progress.stream_finished(spec.name, self.counts.as_dict())

    async def _skip_unchanged(self, snapshot: dict[str, Any], records: int) -> None:
        """Record ``records`` unchanged records without reading them (see hub.sync._snapshots)."""
        name = self.spec.name
        self.run.progress.stream_started(name)
        self.position = records
        self.run.progress.advance(name, records)
        log.info("stream unchanged since its last complete read, not read again",
                 extra={"source": self.run.source.name, "stream": name, "records": records})
        await self._submit(self._state_write(counts={"unchanged": records}, done=True, snapshot=snapshot))
        await self._drain()
        self.run.progress.stream_finished(name, self.counts.as_dict())

    def _state_write(self, *, counts: Mapping[str, int], done: bool, snapshot: Mapping[str, Any] | None,
                     inserts: list[tuple[Any, ...]] | None = None, updates: list[tuple[Any, ...]] | None = None,
                     raw_hash_updates: list[tuple[Any, ...]] | None = None,
                     events: list[tuple[Any, ...]] | None = None, errors: list[dict[str, Any]] | None = None,
                     now: datetime | None = None) -> BatchWrite:
        """A batch for this stream at its current position and cursor."""
        return BatchWrite(
            tenant_id=self.tenant_id, source_id=self.source_id, run_id=self.run_id, stream=self.spec.name,
            now=now or _now(), inserts=inserts or [], updates=updates or [], raw_hash_updates=raw_hash_updates or [],
            events=events or [], errors=errors or [], cursor=dict(self.state.cursor), start_cursor=self.start_cursor,
            position=self.position, stream_done=done, counts=counts, per_stream={}, snapshot=snapshot)

    def _final_snapshot(self) -> dict[str, Any] | None:
        """The snapshot the last batch of a complete read saves, when the read had no record error."""
        if self.snapshot_key is None or self.counts.errors:
            return None
        return {"key": self.snapshot_key, "records": self.position, "type": self.type}

    def _error(self, ref: str, field_name: str | None, message: str, replay: bool) -> None:
        """Count a record error and keep it for the report (never twice for a replayed record)."""
        if replay:
            return
        self.batch.delta["errors"] += 1
        if self.run.keep_error():
            self.batch.errors.append((ref, field_name, message))

    # --- batches ---------------------------------------------------------------------------------

    async def _flush(self, done: bool) -> None:
        """Classify the current batch against the store, then hand its write to a task."""
        batch, self.batch = self.batch, Batch()
        self.run.progress.advance(self.spec.name, batch.read)
        # While the tenant had no entity of this type when the stream started, a stable id can only
        # be in the store if this stream wrote it (an earlier batch, so a duplicate that never gets
        # here) or another writer inserted it since: the lookup is skipped, and the entities'
        # unique index catches the second case when the write runs (see _recheck).
        unchecked = self.new_type and bool(batch.records)
        existing = {} if unchecked else await self._existing(batch)
        now = _now()
        rows = self._classify(batch, existing, bulk_sql(self.db.dialect).ts(now))
        await self._submit(self._batch_write(rows, now, done), batch if unchecked else None)

    async def _existing(self, batch: Batch) -> dict[str, ExistingEntity]:
        if not batch.records:
            return {}
        async with self.db.connect() as conn:
            return await fetch_existing(conn, self.tenant_id, self.type, [p.stable_id for p in batch.records])

    def _classify(self, batch: Batch, existing: Mapping[str, ExistingEntity], ts: Any) -> Rows:
        """The rows and counts of a batch given the stored entities of its stable ids.

        ``batch`` itself is left as it was (its delta and errors are copied), so an unchecked batch
        can be classified again if its write fails.
        """
        rows = Rows(errors=list(batch.errors), delta=dict(batch.delta))
        inserts, updates, raw_updates, events, delta = rows.inserts, rows.updates, rows.raw_updates, rows.events, rows.delta
        tenant_id, type_, source_id, run_id = self.tenant_id, self.type, self.source_id, self.run_id
        for item in batch.records:
            found = existing.get(item.stable_id)
            if found is None:
                data = item.encoded.decode()  # once: the entity row and its change event carry the same JSON
                op, version = (ChangeOp.DELETED if item.status == "tobedeleted" else ChangeOp.CREATED), 1
                inserts.append(entity_row(tenant_id, type_, item.stable_id, source_id, data,
                                          item.hash, item.raw_hash, 1, item.status, ts))
            elif found.id in self.touched:
                if not item.replay:
                    delta["errors"] += 1
                    if self.run.keep_error():
                        rows.errors.append((item.ref, "sourcedId", f"duplicate sourcedId {item.stable_id!r} in "
                                            "this stream"))
                continue
            else:
                self.touched.add(found.id)
                self.candidates.discard(found.id)
                if found.hash == item.hash:
                    if item.raw_hash is not None:
                        raw_updates.append((item.raw_hash, found.id))
                    if not item.replay:
                        delta["unchanged"] += 1
                    continue
                data = item.encoded.decode()
                version = found.version + 1
                op = (ChangeOp.DELETED if item.status == "tobedeleted" and found.status != "tobedeleted"
                      else ChangeOp.UPDATED)
                updates.append(update_row(found.id, data, item.hash, item.raw_hash, version, item.status,
                                          source_id, ts))
            if not item.replay:
                delta[_OP_COUNT[op]] += 1
            events.append(event_row(tenant_id, type_, item.stable_id, op.value, version, source_id, run_id, data, ts))
        return rows

    def _batch_write(self, rows: Rows, now: datetime, done: bool) -> BatchWrite:
        return self._state_write(
            counts=rows.delta, done=done, snapshot=None, inserts=rows.inserts, updates=rows.updates,
            raw_hash_updates=rows.raw_updates, events=rows.events,
            errors=rows_for_errors(self.run_id, self.spec.name, rows.errors), now=now)

    async def _submit(self, write: BatchWrite, unchecked: Batch | None = None) -> None:
        """Start this batch's write once the previous one committed (commits stay in order).

        ``unchecked`` is the batch of a write whose inserts were not looked up in the store.
        """
        await self._drain()
        self._count(write.counts)
        if self.run.dry_run:
            return
        write.per_stream = {k: dict(v) for k, v in self.run.per_stream.items()}
        self.writing = asyncio.create_task(self._written(write, self.run.writer.submit(write)))
        self.unchecked = (write, unchecked) if unchecked is not None else None

    def _count(self, counts: Mapping[str, int]) -> None:
        self.counts.add(counts)
        self.run.per_stream[self.spec.name] = self.counts.as_dict()

    async def _written(self, write: BatchWrite, outcome: Awaitable[int | None]) -> None:
        """Wait for a submitted write to commit, then hand its change events to the observers."""
        self.notify(numbered(write.events, await outcome), write.now)

    async def _drain(self) -> None:
        if self.writing is not None:
            task, self.writing = self.writing, None
            unchecked, self.unchecked = self.unchecked, None
            try:
                await task
            except IntegrityError:
                if unchecked is None:
                    raise
                await self._recheck(*unchecked)

    async def _recheck(self, failed: BatchWrite, batch: Batch) -> None:
        """An unchecked batch hit the unique index (another writer inserted one of its stable ids):
        its transaction rolled back, so classify it against the store and write it again. Later
        batches of this stream are looked up as usual."""
        log.info("stable ids of %s were inserted by another writer during the sync; looking them up",
                 self.spec.name, extra={"run": self.run_id})
        self.new_type = False
        rows = self._classify(batch, await self._existing(batch), bulk_sql(self.db.dialect).ts(failed.now))
        self._count({key: -value for key, value in failed.counts.items()})
        self._count(rows.delta)
        write = replace(failed, inserts=rows.inserts, updates=rows.updates, raw_hash_updates=rows.raw_updates,
                        events=rows.events, errors=rows_for_errors(self.run_id, self.spec.name, rows.errors),
                        counts=rows.delta, per_stream={k: dict(v) for k, v in self.run.per_stream.items()})
        await self._written(write, self.run.writer.submit(write))

    async def _mark_missing(self, missing: list[int]) -> None:
        """After a complete read, mark this source's entities that were not seen ``tobedeleted``.

        The last of these batches ends the stream and carries its snapshot (see hub.sync._snapshots).
        """
        snapshot = self._final_snapshot()
        chunks = [missing[i : i + self.batch_size] for i in range(0, len(missing), self.batch_size)] or [[]]
        for number, chunk in enumerate(chunks, start=1):
            now = _now()
            ts = bulk_sql(self.db.dialect).ts(now)
            async with self.db.connect() as conn:
                rows = await fetch_data(conn, self.tenant_id, chunk) if chunk else {}
            updates, events = [], []
            for entity_id in chunk:
                row = rows[entity_id]
                data = dict(row.data)
                data["status"] = "tobedeleted"
                if data.get("metadata"):
                    data["metadata"] = sorted_keys(data["metadata"])
                try:
                    encoded = self.serializer.to_json(self.model.model_validate(data), by_alias=True, exclude_none=True)
                except ValidationError:  # stored under an older model: keep its shape
                    encoded = canonical_bytes(data)
                version, text = row.version + 1, encoded.decode()
                updates.append(update_row(entity_id, text, content_hash(encoded), None, version, "tobedeleted",
                                          self.source_id, ts))
                events.append(event_row(self.tenant_id, self.type, row.stable_id, ChangeOp.DELETED.value, version,
                                        self.source_id, self.run_id, text, ts))
            last = number == len(chunks)
            await self._submit(self._state_write(
                counts={"deleted": len(chunk)}, done=last, snapshot=snapshot if last else None, updates=updates,
                events=events, now=now))
