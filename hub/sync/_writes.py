"""How a stream's batches reach the store: classify each batch against the stored entities (new,
changed, unchanged, another source's, a duplicate), build its write, hand it to the run's
:class:`~hub.store._writer.BatchWriter` once the previous one committed, recheck a batch the unique
index refused, and mark what a complete read did not see ``tobedeleted``.

:class:`BatchWrites` is the half of :class:`~hub.sync._stream.StreamSync` that writes; the read
loop is the other half (hub/sync/_stream.py). Both share the stream's state set up there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from hub.events import ChangeOp
from hub.jsonutil import canonical_bytes, content_hash
from hub.store._sync_ops import (
    BatchWrite,
    ExistingEntity,
    bulk_sql,
    entity_row,
    event_row,
    fetch_data,
    fetch_existing,
    numbered,
    rows_for_errors,
    update_row,
)
from hub.sync._batches import Batch, Rows, sorted_keys

__all__ = ["BatchWrites"]

log = logging.getLogger("fediflow.sync")

_OP_COUNT = {ChangeOp.CREATED: "created", ChangeOp.UPDATED: "updated", ChangeOp.DELETED: "deleted"}


def _now() -> datetime:
    return datetime.now(UTC)


class BatchWrites:
    """Classifying and writing the batches of one stream (mixed into StreamSync, which sets the state)."""

    # set by StreamSync.__init__ / run_stream
    run: Any
    db: Any
    tenant_id: int
    source_id: int
    run_id: int
    type: str
    position: int
    batch: Batch

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

    # --- batches ---------------------------------------------------------------------------------

    async def _flush(self, done: bool) -> None:
        """Classify the current batch against the store, then hand its write to a task."""
        batch, self.batch = self.batch, Batch()
        self.run.progress.advance(self.spec.name, batch.read)
        if self.gate is not None and batch.records:  # references: reject (hub.sync._references)
            await self.gate.screen(self.db, self.tenant_id, batch, self.run.keep_error)
        # While the tenant had no entity of this type when the stream started, a stable id can only
        # be in the store if this stream wrote it (an earlier batch, so a duplicate that never gets
        # here) or another writer inserted it since: the lookup is skipped, and the entities'
        # unique index catches the second case when the write runs (see _recheck).
        again = any(item.again for item in batch.records)
        if again:  # later copies: classify them against what the earlier batches committed
            await self._drain()
        unchecked = self.new_type and bool(batch.records) and not again
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
        copies, raw_hits = self.copies, batch.raw_hits
        last_wins = copies.last_wins
        for item in batch.records:
            found = existing.get(item.stable_id)
            count = copies.absent(item) if found is None else None
            if count is not None:  # e.g. deleted, never had: nothing to delete
                if not item.replay:
                    delta[count] += 1
                continue
            if found is None:
                data = item.encoded.decode()  # once: the entity row and its change event carry the same JSON
                op, version = ChangeOp.CREATED, 1  # a deleted record never had was counted above
                inserts.append(entity_row(tenant_id, type_, item.stable_id, source_id, data,
                                          item.hash, item.raw_hash, 1, item.status, ts))
            elif found.source_id is not None and found.source_id != source_id:
                # identity is scoped to the source: another source's record is never overwritten
                if not item.replay:
                    delta["errors"] += 1
                    if self.run.keep_error():
                        rows.errors.append((item.ref, "sourcedId", f"sourcedId {item.stable_id!r} already belongs to "
                                            "another source of this tenant; give this source an id prefix "
                                            "(fediflow sources options NAME --id-prefix ...)", "error"))
                continue
            elif found.id in self.touched and not last_wins:
                if not item.replay:
                    delta["errors"] += 1
                    if self.run.keep_error():
                        rows.errors.append((item.ref, "sourcedId", f"duplicate sourcedId {item.stable_id!r} in "
                                            "this stream", "error"))
                continue
            elif last_wins and raw_hits.get(found.id, 0) > item.position:
                if not item.replay:  # a later copy, read unchanged by its raw hash, supersedes this one
                    delta["unchanged"] += 1
                continue
            else:
                self.touched.add(found.id)
                self.candidates.discard(found.id)
                if last_wins and copies.hold(found, item):
                    continue
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
