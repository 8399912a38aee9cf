"""The SQL of the sync hot path: index loads, batch lookups and one-transaction batch writes.

Every function takes the tenant id explicitly and filters by it. Writes use executemany with
plain parameter lists (never ``insert().values(list)``), which is what keeps SQLite fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.jsonutil import PreEncoded
from hub.store._tables import changes, entities, run_errors, stream_states, sync_runs, tenants

__all__ = [
    "BatchWrite",
    "ExistingEntity",
    "StoredStreamState",
    "apply_batch",
    "entity_row",
    "event_row",
    "fetch_existing",
    "load_source_index",
    "load_stream_state",
    "rows_for_errors",
    "save_stream_state",
    "update_row",
]

# SQLite's default limit of host parameters is 32766; stay well below it in IN lists
_IN_CHUNK = 900


@dataclass(frozen=True, slots=True)
class ExistingEntity:
    id: int
    hash: bytes
    version: int
    status: str
    data: Any | None = None


@dataclass(frozen=True, slots=True)
class StoredStreamState:
    """A stream's saved state: the connector's cursor after the last committed batch, the cursor
    the run that wrote it started from, and how many records of that run were committed."""

    cursor: dict[str, Any]
    start_cursor: dict[str, Any]
    run_id: int | None
    done: bool
    position: int


async def load_source_index(conn: AsyncConnection, tenant_id: int, source_id: int,
                            type_: str) -> tuple[dict[bytes, int], set[int]]:
    """For one source and type: raw hash -> entity id, and the ids of its active entities."""
    raw_index: dict[bytes, int] = {}
    active: set[int] = set()
    result = await conn.stream(
        select(entities.c.id, entities.c.raw_hash, entities.c.status).where(
            entities.c.tenant_id == tenant_id, entities.c.source_id == source_id, entities.c.type == type_
        ).execution_options(yield_per=20000)
    )
    async for partition in result.partitions(20000):
        for entity_id, raw_hash, status in partition:
            if raw_hash is not None:
                raw_index[raw_hash] = entity_id
            if status == "active":
                active.add(entity_id)
    return raw_index, active


async def fetch_existing(conn: AsyncConnection, tenant_id: int, type_: str,
                         stable_ids: Sequence[str]) -> dict[str, ExistingEntity]:
    found: dict[str, ExistingEntity] = {}
    for start in range(0, len(stable_ids), _IN_CHUNK):
        chunk = stable_ids[start : start + _IN_CHUNK]
        rows = await conn.execute(
            select(entities.c.id, entities.c.stable_id, entities.c.hash, entities.c.version, entities.c.status).where(
                entities.c.tenant_id == tenant_id, entities.c.type == type_, entities.c.stable_id.in_(chunk)
            )
        )
        for entity_id, stable_id, hash_, version, status in rows:
            found[stable_id] = ExistingEntity(entity_id, hash_, version, status)
    return found


async def fetch_data(conn: AsyncConnection, tenant_id: int, ids: Sequence[int]) -> dict[int, Any]:
    """Canonical data of entities by id (used for the records a full sync marks deleted)."""
    found: dict[int, Any] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        rows = await conn.execute(
            select(entities.c.id, entities.c.stable_id, entities.c.data, entities.c.version).where(
                entities.c.tenant_id == tenant_id, entities.c.id.in_(ids[start : start + _IN_CHUNK])
            )
        )
        for row in rows:
            found[row.id] = row
    return found


async def load_stream_state(conn: AsyncConnection, source_id: int, stream: str) -> StoredStreamState | None:
    row = (
        await conn.execute(
            select(stream_states.c.cursor, stream_states.c.run_id, stream_states.c.done).where(
                stream_states.c.source_id == source_id, stream_states.c.stream == stream
            )
        )
    ).first()
    if row is None:
        return None
    stored = row.cursor
    return StoredStreamState(
        dict(stored.get("cursor", {})), dict(stored.get("start", {})), row.run_id, row.done, int(stored.get("position", 0))
    )


@dataclass(slots=True)
class BatchWrite:
    """Everything one batch commits together.

    ``inserts`` and ``updates`` are entity rows; ``events`` the change rows without their sequence
    (assigned here, under the tenant row lock, so sequences commit in order).
    """

    tenant_id: int
    source_id: int
    run_id: int
    stream: str
    type: str
    now: datetime
    inserts: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    raw_hash_updates: list[dict[str, Any]]
    events: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    cursor: Mapping[str, Any]
    start_cursor: Mapping[str, Any]
    position: int
    stream_done: bool
    counts: Mapping[str, int]
    per_stream: Mapping[str, Mapping[str, int]]


_update_entity = (
    update(entities)
    .where(entities.c.id == bindparam("_id"))
    .values(
        data=bindparam("data"),
        hash=bindparam("hash"),
        raw_hash=bindparam("raw_hash"),
        version=bindparam("version"),
        status=bindparam("status"),
        source_id=bindparam("source_id"),
        updated_at=bindparam("updated_at"),
    )
)
_update_raw_hash = update(entities).where(entities.c.id == bindparam("_id")).values(raw_hash=bindparam("raw_hash"))


async def apply_batch(conn: AsyncConnection, batch: BatchWrite) -> list[dict[str, Any]]:
    """Write one batch in the caller's transaction; returns the change rows with their ``seq``."""
    if batch.inserts:
        await conn.execute(entities.insert(), batch.inserts)
    if batch.updates:
        await conn.execute(_update_entity, batch.updates)
    if batch.raw_hash_updates:
        await conn.execute(_update_raw_hash, batch.raw_hash_updates)
    if batch.events:
        last = (
            await conn.execute(
                update(tenants)
                .where(tenants.c.id == batch.tenant_id)
                .values(change_seq=tenants.c.change_seq + len(batch.events))
                .returning(tenants.c.change_seq)
            )
        ).scalar_one()
        first = last - len(batch.events) + 1
        for offset, event in enumerate(batch.events):
            event["seq"] = first + offset
        await conn.execute(changes.insert(), batch.events)
    if batch.errors:
        await conn.execute(run_errors.insert(), batch.errors)
    await save_stream_state(conn, batch.source_id, batch.stream, batch.run_id, batch.cursor, batch.start_cursor,
                            batch.position, batch.stream_done, batch.now)
    counts = batch.counts
    await conn.execute(
        update(sync_runs)
        .where(sync_runs.c.id == batch.run_id, sync_runs.c.tenant_id == batch.tenant_id)
        .values(
            created=sync_runs.c.created + counts.get("created", 0),
            updated=sync_runs.c.updated + counts.get("updated", 0),
            deleted=sync_runs.c.deleted + counts.get("deleted", 0),
            unchanged=sync_runs.c.unchanged + counts.get("unchanged", 0),
            errors=sync_runs.c.errors + counts.get("errors", 0),
            per_stream=dict(batch.per_stream),
            heartbeat_at=batch.now,
        )
    )
    return batch.events


async def save_stream_state(conn: AsyncConnection, source_id: int, stream: str, run_id: int,
                            cursor: Mapping[str, Any], start_cursor: Mapping[str, Any], position: int, done: bool,
                            now: datetime) -> None:
    stored = {"cursor": dict(cursor), "start": dict(start_cursor), "position": position}
    result = await conn.execute(
        update(stream_states)
        .where(stream_states.c.source_id == source_id, stream_states.c.stream == stream)
        .values(cursor=stored, run_id=run_id, done=done, updated_at=now)
    )
    if result.rowcount == 0:
        await conn.execute(
            stream_states.insert().values(
                source_id=source_id, stream=stream, cursor=stored, run_id=run_id, done=done, updated_at=now
            )
        )


def entity_row(tenant_id: int, type_: str, stable_id: str, source_id: int, encoded: bytes, hash_: bytes,
               raw_hash: bytes | None, version: int, status: str, now: datetime) -> dict[str, Any]:
    """Parameters of one entity insert; ``encoded`` is the canonical JSON, written as is."""
    return {
        "tenant_id": tenant_id,
        "type": type_,
        "stable_id": stable_id,
        "source_id": source_id,
        "data": PreEncoded(encoded.decode()),
        "hash": hash_,
        "raw_hash": raw_hash,
        "version": version,
        "status": status,
        "created_at": now,
        "updated_at": now,
    }


def update_row(entity_id: int, encoded: bytes, hash_: bytes, raw_hash: bytes | None, version: int, status: str,
               source_id: int, now: datetime) -> dict[str, Any]:
    """Parameters of one entity update (see ``_update_entity``)."""
    return {"_id": entity_id, "data": PreEncoded(encoded.decode()), "hash": hash_, "raw_hash": raw_hash,
            "version": version, "status": status, "source_id": source_id, "updated_at": now}


def event_row(tenant_id: int, type_: str, stable_id: str, op: str, version: int, source_id: int, run_id: int,
              encoded: bytes, now: datetime) -> dict[str, Any]:
    """Parameters of one change-log insert, before its sequence is assigned."""
    return {"tenant_id": tenant_id, "entity_type": type_, "stable_id": stable_id, "op": op, "version": version,
            "source_id": source_id, "run_id": run_id, "data": PreEncoded(encoded.decode()), "at": now}


def rows_for_errors(run_id: int, stream: str, errors: Iterable[tuple[str, str | None, str]]) -> list[dict[str, Any]]:
    return [{"run_id": run_id, "stream": stream, "ref": ref[:512], "field": field, "message": message}
            for ref, field, message in errors]
