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
result is the same as a fully sequential run. This module is the read loop; classifying and
writing the batches is :mod:`hub.sync._writes`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from hub.errors import RecordError, SourceDataError
from hub.identity import prefix_ids
from hub.jsonutil import canonical_bytes, content_hash
from hub.sdk import RawRecord, StreamSpec, StreamState
from hub.settings import SyncSettings
from hub.store._sync_ops import (
    BatchWrite,
    fetch_existing,
    has_entities,
    load_source_index,
    load_stream_state,
    source_generation,
)
from hub.sync._batches import Batch, Counts, Pending, SharedType, sorted_keys, validation_problem
from hub.sync._copies import Copies
from hub.sync._references import reference_gate
from hub.sync._snapshots import snapshot_key, unchanged_records
from hub.sync._storable import NUL_MESSAGE, SURROGATE_MESSAGE, nul_field, surrogate_field
from hub.sync._writes import BatchWrites

__all__ = ["StreamSync"]

log = logging.getLogger("fediflow.sync")

DEFAULT_MAX_RECORD_BYTES = SyncSettings.model_fields["max_record_bytes"].default


def too_big(size: int, limit: int, when: str = "") -> str:
    """The record error of a record over ``sync.max_record_bytes``."""
    return f"record is {size} bytes{when}, over the limit of {limit} (sync.max_record_bytes)"


def _now() -> datetime:
    return datetime.now(UTC)


class StreamSync(BatchWrites):
    """Syncs one stream of one run. ``run`` is the engine's run context (tenant, source, run, ...)."""

    def __init__(self, run: Any, spec: StreamSpec, mapping: Any, batch_size: int,
                 notify: Callable[[Sequence[tuple[Any, ...]], datetime], None],
                 shared: SharedType | None = None, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> None:
        self.run = run
        self.spec = spec
        self.max_record_bytes = max_record_bytes
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
        # StreamSpec.duplicates: which copy of a stable id read twice is kept (hub.sync._copies)
        self.copies = Copies(spec.duplicates == "last_wins", run.dry_run, self.mapped_ids)
        self.candidates: set[int] = set()  # active entity ids not seen yet (deletion candidates)
        self.batch = Batch()
        self.position = 0
        self.writing: asyncio.Task[None] | None = None
        self.snapshot_key: str | None = None
        self.unchecked: tuple[BatchWrite, Batch] | None = None  # the write of ``writing`` and its batch, if unchecked
        self.new_type = False  # the tenant had no entity of this type when the stream started
        self.stopped: SourceDataError | None = None  # what ended the read early (see _stopped)
        self.protected: set[str] = set()  # stable ids of records that failed: not deletion candidates
        self.gate = reference_gate(run, spec.name, self.type, self.model)  # references: reject

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
        prefix = run.source.options.id_prefix
        # the prefix is part of what the raw hash covers: changing it maps every record again
        fingerprint = self.mapping.fingerprint.encode() + (b"\0" + prefix.encode() if prefix else b"")
        keep_raw_hash = not self.mapping.lookups
        apply, validate, to_json = self.mapping.apply, self.model.model_validate, self.serializer.to_json
        copies, max_bytes = self.copies, self.max_record_bytes
        last_wins = copies.last_wins
        copies.holding = last_wins and replay_until > 0
        run.progress.stream_started(spec.name)
        try:
            async for record in self._guarded(run.connector.read(spec.name, self.state)):
                self.position += 1
                batch = self.batch
                batch.read += 1
                replay = self.position <= replay_until
                if record.error is None:
                    try:
                        raw = canonical_bytes(record.data)
                    except TypeError:  # a lone surrogate (orjson refuses it): not Unicode text
                        record = record._replace(error=SURROGATE_MESSAGE, field=surrogate_field(record.data))
                if record.error is not None:
                    self._error(record.ref, record.field, record.error, replay)
                    self._protect(record.data, prefix)
                else:
                    for warned_field, warning in record.warnings:  # what the connector tolerated
                        self._warning(record.ref, warned_field, warning, replay)
                    raw_hash = content_hash(fingerprint + raw)
                    entity_id = raw_index.get(raw_hash)
                    if entity_id is not None and last_wins and entity_id in self.touched:
                        entity_id = None  # read before: this copy may undo what the earlier one changed
                    if len(raw) > max_bytes:
                        self._error(record.ref, None, too_big(len(raw), max_bytes, " as read"), replay)
                        self._protect(record.data, prefix)
                    elif entity_id is not None:
                        if entity_id in self.touched:
                            self._error(record.ref, "sourcedId", "duplicate record: the same record was read earlier "
                                        "in this stream", replay)
                        else:
                            self.touched.add(entity_id)
                            self.candidates.discard(entity_id)
                            if last_wins:
                                batch.raw_hits[entity_id] = self.position
                            if not replay:
                                batch.delta["unchanged"] += 1
                    else:
                        try:
                            mapped = apply(record.data, tables)
                            if prefix:
                                prefix_ids(mapped, prefix)
                            if mapped.get("metadata"):
                                mapped["metadata"] = sorted_keys(mapped["metadata"])
                            obj = validate(mapped)
                        except RecordError as exc:
                            self._error(record.ref, exc.field, exc.message, replay)
                            self._protect(record.data, prefix)
                        except ValidationError as exc:
                            self._error(record.ref, *validation_problem(exc), replay)
                            self._protect(record.data, prefix)
                        else:
                            stable_id = obj.sourcedId
                            try:
                                encoded = to_json(obj, by_alias=True, exclude_none=True)
                                unstorable = nul_field(encoded, mapped) if b"\\" in encoded else None
                            except PydanticSerializationError:  # a lone surrogate: not Unicode text
                                encoded, unstorable = b"", surrogate_field(mapped) or ""
                            if unstorable is not None:  # the same on every database (hub.sync._storable)
                                self._error(record.ref, unstorable or None,
                                            NUL_MESSAGE if encoded else SURROGATE_MESSAGE, replay)
                                self.protected.add(stable_id)
                            elif len(encoded) > max_bytes:
                                self._error(record.ref, None, too_big(len(encoded), max_bytes), replay)
                                self.protected.add(stable_id)
                            elif copies.is_duplicate(stable_id):
                                self._error(record.ref, "sourcedId", f"duplicate sourcedId {stable_id!r} in this "
                                            "stream", replay)
                            else:
                                copies.add(batch, Pending(stable_id, encoded, content_hash(encoded),
                                                         raw_hash if keep_raw_hash else None, str(obj.status.value),
                                                         replay, record.ref, self.position))
                if copies.holding and self.position >= replay_until:
                    await self._end_replay()  # flushes
                elif len(batch.records) >= self.batch_size or batch.read >= self.batch_size * 10:
                    await self._flush(done=False)
            if copies.holding:  # the stream ended before the replayed part did
                await self._end_replay()
            mark = not self._stopped() and self.state.present and self.state.complete  # _stopped() reports
            if self.shared is not None:
                self.shared.complete = self.shared.complete and mark
                mark = self.shared.complete and self.shared.is_last(spec.name)
            await self._flush(done=not mark)
            if mark:
                await self._keep_protected()
                await self._mark_missing(sorted(self.candidates))
            await self._drain()
        finally:
            await self._settle()
        run.progress.stream_finished(spec.name, self.counts.as_dict())

    async def _settle(self) -> None:
        """When the read ends early (an exception, a cancellation), let the write in flight finish:
        it commits or rolls back on its own. Cancelling it would abandon its transaction mid-way,
        and on SQLite the run could then not be marked failed ("database is locked"). Its own
        failure, if any, is not raised here: the exception that ended the read is the run's."""
        task, self.writing = self.writing, None
        if task is None or task.done():
            return
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            log.warning("the batch in flight failed while the stream stopped",
                        extra={"run": self.run_id, "stream": self.spec.name, "error": type(task.exception()).__name__})

    def _protect(self, data: Any, prefix: str) -> None:
        """A record that failed: if its sourcedId can be told, its stored entity is not marked deleted
        by this read (a broken row is a reason to report, never to deprovision a person)."""
        stable_id = self.mapping.identify(data)
        if stable_id is not None:
            self.protected.add(prefix + stable_id)

    async def _keep_protected(self) -> None:
        """Take the stored entities of the records that failed out of the deletion candidates."""
        if not self.protected or not self.candidates:
            return
        async with self.db.connect() as conn:
            found = await fetch_existing(conn, self.tenant_id, self.type, sorted(self.protected))
        self.candidates.difference_update(e.id for e in found.values() if e.source_id == self.source_id)

    async def _guarded(self, records: AsyncIterator[RawRecord]) -> AsyncIterator[RawRecord]:
        """The connector's records; a SourceDataError raised by the read ends them (kept in ``stopped``)."""
        try:
            async for record in records:
                yield record
        except SourceDataError as exc:
            self.stopped = exc

    def _stopped(self) -> bool:
        """Whether the read stopped on a SourceDataError (an unreadable file, a header without a required
        column). Then the stream's error is reported, what was read before is kept, and nothing is marked
        deleted (the read was not complete); the run goes on with the next stream."""
        exc = self.stopped
        if exc is None:
            return False
        log.warning("stream stopped: its data cannot be read; the run goes on with the next stream",
                    extra={"source": self.run.source.name, "stream": self.spec.name, "run": self.run_id})
        self._error(exc.where or self.spec.name, None,
                    f"{exc.message} (the stream stopped here; no record of it was marked deleted)", False)
        return True

    async def _skip_unchanged(self, snapshot: dict[str, Any], records: int) -> None:
        """Record ``records`` unchanged records without reading them (see hub.sync._snapshots)."""
        name = self.spec.name
        self.run.progress.stream_started(name)
        self.position = records
        self.run.progress.advance(name, records)
        log.debug("stream unchanged since its last complete read, not read again",
                 extra={"source": self.run.source.name, "stream": name, "records": records})
        await self._submit(self._state_write(counts={"unchanged": records}, done=True, snapshot=snapshot))
        await self._drain()
        self.run.progress.stream_finished(name, self.counts.as_dict())

    def _error(self, ref: str, field_name: str | None, message: str, replay: bool) -> None:
        """Count a record error and keep it for the report (never twice for a replayed record)."""
        if replay:
            return
        self.batch.delta["errors"] += 1
        if self.run.keep_error():
            self.batch.errors.append((ref, field_name, message, "error"))

    def _warning(self, ref: str, field_name: str | None, message: str, replay: bool) -> None:
        """Count a warning about a record that is kept, and keep it for the report (severity
        "warning"; never twice for a replayed record). Warnings and errors share the run's limit
        of kept entries; all are counted."""
        if replay:
            return
        self.batch.delta["warnings"] += 1
        if self.run.keep_error():
            self.batch.errors.append((ref, field_name, message, "warning"))

    # --- later copies of a stable id (StreamSpec.duplicates == "last_wins") -----------------------

    async def _end_replay(self) -> None:
        """The replayed part of a resumed last_wins read is read: write what is still held back
        (see hub.sync._copies) once the replayed batches are classified."""
        await self._flush(done=False)
        held = self.copies.end_replay()
        if held:
            self.batch.records.extend(held)
            await self._flush(done=False)
