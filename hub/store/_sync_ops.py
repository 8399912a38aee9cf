"""The SQL of the sync hot path: index loads, batch lookups and one-transaction batch writes.

Every function takes the tenant id explicitly and filters by it. Writes use executemany with
plain parameter lists (never ``insert().values(list)``), which is what keeps SQLite fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store._tables import entities, run_errors, stream_states, sync_runs, tenants

__all__ = [
    "BatchWrite",
    "BulkSql",
    "bulk_sql",
    "ExistingEntity",
    "StoredStreamState",
    "apply_batch",
    "entity_row",
    "event_row",
    "fetch_existing",
    "has_entities",
    "load_source_index",
    "load_stream_state",
    "numbered",
    "rows_for_errors",
    "source_generation",
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
    #: the source that owns the entity (None once that source was removed)
    source_id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredStreamState:
    """A stream's saved state: the connector's cursor after the last committed batch, the cursor
    the run that wrote it started from, and how many records of that run were committed."""

    cursor: dict[str, Any]
    start_cursor: dict[str, Any]
    run_id: int | None
    done: bool
    position: int
    #: set when the last run read the stream completely without an error (see hub.sync._snapshots)
    snapshot: dict[str, Any] | None = None


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


async def has_entities(conn: AsyncConnection, tenant_id: int, type_: str) -> bool:
    """Whether the tenant has any entity of ``type_`` (from any source)."""
    query = select(entities.c.id).where(entities.c.tenant_id == tenant_id, entities.c.type == type_).limit(1)
    return (await conn.execute(query)).first() is not None


async def fetch_existing(conn: AsyncConnection, tenant_id: int, type_: str,
                         stable_ids: Sequence[str]) -> dict[str, ExistingEntity]:
    found: dict[str, ExistingEntity] = {}
    for start in range(0, len(stable_ids), _IN_CHUNK):
        chunk = stable_ids[start : start + _IN_CHUNK]
        rows = await conn.execute(
            select(entities.c.id, entities.c.stable_id, entities.c.hash, entities.c.version, entities.c.status,
                   entities.c.source_id).where(
                entities.c.tenant_id == tenant_id, entities.c.type == type_, entities.c.stable_id.in_(chunk)
            )
        )
        for entity_id, stable_id, hash_, version, status, owner in rows:
            found[stable_id] = ExistingEntity(entity_id, hash_, version, status, source_id=owner)
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
        dict(stored.get("cursor", {})), dict(stored.get("start", {})), row.run_id, row.done,
        int(stored.get("position", 0)), stored.get("snapshot"),
    )


def _generation_query(tenant_id: int, source_id: int, type_: str) -> Any:
    return select(func.count(), func.coalesce(func.sum(entities.c.version), 0)).where(
        entities.c.tenant_id == tenant_id, entities.c.source_id == source_id, entities.c.type == type_
    )


async def source_generation(conn: AsyncConnection, tenant_id: int, source_id: int, type_: str) -> list[int]:
    """``[count, sum of versions]`` of a source's entities of one type, whatever their status.

    Any write to them moves it: an update or a deletion mark raises a version, an entity taken
    over by another source or purged leaves the count.
    """
    row = (await conn.execute(_generation_query(tenant_id, source_id, type_))).one()
    return [int(row[0]), int(row[1])]


@dataclass(slots=True)
class BatchWrite:
    """Everything one batch commits together.

    ``inserts`` are :func:`entity_row` tuples, ``updates`` :func:`update_row` tuples and ``events``
    :func:`event_row` tuples without their sequence (assigned here, under the tenant row lock, so
    sequences commit in order). Timestamps in the tuples are already in the driver's form
    (:meth:`BulkSql.ts`).
    """

    tenant_id: int
    source_id: int
    run_id: int
    stream: str
    now: datetime
    inserts: list[tuple[Any, ...]]
    updates: list[tuple[Any, ...]]
    raw_hash_updates: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    errors: list[dict[str, Any]]
    cursor: Mapping[str, Any]
    start_cursor: Mapping[str, Any]
    position: int
    stream_done: bool
    counts: Mapping[str, int]
    per_stream: Mapping[str, Mapping[str, int]]
    #: with the stream's last batch of a clean complete read: the snapshot saved with its state;
    #: its ``generation`` is taken here, after the writes, when it has none yet
    snapshot: Mapping[str, Any] | None = None


_ENTITY_COLUMNS = ("tenant_id", "type", "stable_id", "source_id", "data", "hash", "raw_hash", "version", "status",
                   "created_at", "updated_at")
_EVENT_COLUMNS = ("tenant_id", "entity_type", "stable_id", "op", "version", "source_id", "run_id", "data", "at", "seq")
_UPDATE_COLUMNS = ("data", "hash", "raw_hash", "version", "status", "source_id", "updated_at")


class BulkSql:
    """Driver-level statements for the bulk writes of a sync.

    The hot path hands tuples straight to the driver's ``executemany`` (no per-row SQLAlchemy
    parameter processing, which costs more than SQLite's own work). Values must therefore be in
    the driver's form: :meth:`ts` converts a timestamp once per batch, JSON is text.
    """

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        mark = (lambda i: "?") if self.sqlite else (lambda i: f"${i}")

        def marks(n: int, start: int = 1) -> str:
            return ", ".join(mark(i) for i in range(start, start + n))

        self.insert_entities = (f"INSERT INTO entities ({', '.join(_ENTITY_COLUMNS)}) "
                                f"VALUES ({marks(len(_ENTITY_COLUMNS))})")
        self.insert_events = (f"INSERT INTO changes ({', '.join(_EVENT_COLUMNS)}) "
                              f"VALUES ({marks(len(_EVENT_COLUMNS))})")
        sets = ", ".join(f"{col} = {mark(i)}" for i, col in enumerate(_UPDATE_COLUMNS, start=1))
        self.update_entities = f"UPDATE entities SET {sets} WHERE id = {mark(len(_UPDATE_COLUMNS) + 1)}"
        self.update_raw_hash = f"UPDATE entities SET raw_hash = {mark(1)} WHERE id = {mark(2)}"

    def ts(self, value: datetime) -> Any:
        """A timestamp as the driver stores it: SQLAlchemy's SQLite text form, or an aware datetime."""
        if self.sqlite:
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value


_BULK = {"sqlite": BulkSql("sqlite"), "postgresql": BulkSql("postgresql")}


def bulk_sql(dialect: str) -> BulkSql:
    """The bulk statements of a dialect (``sqlite`` or ``postgresql``)."""
    return _BULK[dialect]


def apply_batch(conn: Connection, batch: BatchWrite) -> int | None:
    """Write one batch in the caller's transaction; returns the sequence of its first change event.

    Synchronous, so that the whole batch runs as one call: in a writer process on SQLite
    (hub.store._writer) or through ``AsyncConnection.run_sync`` elsewhere. :func:`numbered` gives
    the events their sequences.
    """
    sql = bulk_sql(conn.dialect.name)
    if batch.inserts:
        conn.exec_driver_sql(sql.insert_entities, batch.inserts)
    if batch.updates:
        conn.exec_driver_sql(sql.update_entities, batch.updates)
    if batch.raw_hash_updates:
        conn.exec_driver_sql(sql.update_raw_hash, batch.raw_hash_updates)
    first: int | None = None
    if batch.events:
        last = conn.execute(
            update(tenants)
            .where(tenants.c.id == batch.tenant_id)
            .values(change_seq=tenants.c.change_seq + len(batch.events))
            .returning(tenants.c.change_seq)
        ).scalar_one()
        first = last - len(batch.events) + 1
        conn.exec_driver_sql(sql.insert_events, numbered(batch.events, first))
    if batch.errors:
        conn.execute(run_errors.insert(), batch.errors)
    snapshot = dict(batch.snapshot) if batch.snapshot is not None else None
    if snapshot is not None and "generation" not in snapshot:
        row = conn.execute(_generation_query(batch.tenant_id, batch.source_id, snapshot["type"])).one()
        snapshot["generation"] = [int(row[0]), int(row[1])]
    _save_stream_state(conn, batch, snapshot)
    counts = batch.counts
    conn.execute(
        update(sync_runs)
        .where(sync_runs.c.id == batch.run_id, sync_runs.c.tenant_id == batch.tenant_id)
        .values(
            created=sync_runs.c.created + counts.get("created", 0),
            updated=sync_runs.c.updated + counts.get("updated", 0),
            deleted=sync_runs.c.deleted + counts.get("deleted", 0),
            unchanged=sync_runs.c.unchanged + counts.get("unchanged", 0),
            errors=sync_runs.c.errors + counts.get("errors", 0),
            warnings=sync_runs.c.warnings + counts.get("warnings", 0),
            per_stream=dict(batch.per_stream),
            heartbeat_at=batch.now,
        )
    )
    return first


def numbered(events: Sequence[tuple[Any, ...]], first: int | None) -> list[tuple[Any, ...]]:
    """``event_row`` tuples with their sequence appended (``first``, ``first + 1``, ...)."""
    if first is None:
        return []
    return [(*event, first + offset) for offset, event in enumerate(events)]


def _save_stream_state(conn: Connection, batch: BatchWrite, snapshot: Mapping[str, Any] | None) -> None:
    stored: dict[str, Any] = {"cursor": dict(batch.cursor), "start": dict(batch.start_cursor),
                              "position": batch.position}
    if snapshot is not None:
        stored["snapshot"] = dict(snapshot)
    values = {"cursor": stored, "run_id": batch.run_id, "done": batch.stream_done, "updated_at": batch.now}
    result = conn.execute(
        update(stream_states)
        .where(stream_states.c.source_id == batch.source_id, stream_states.c.stream == batch.stream)
        .values(**values)
    )
    if result.rowcount == 0:
        conn.execute(stream_states.insert().values(source_id=batch.source_id, stream=batch.stream, **values))


def entity_row(tenant_id: int, type_: str, stable_id: str, source_id: int, data: str, hash_: bytes,
               raw_hash: bytes | None, version: int, status: str, ts: Any) -> tuple[Any, ...]:
    """One entity insert (columns of ``_ENTITY_COLUMNS``); ``data`` is the canonical JSON text."""
    return (tenant_id, type_, stable_id, source_id, data, hash_, raw_hash, version, status, ts, ts)


def update_row(entity_id: int, data: str, hash_: bytes, raw_hash: bytes | None, version: int, status: str,
               source_id: int, ts: Any) -> tuple[Any, ...]:
    """One entity update (``_UPDATE_COLUMNS`` then the id)."""
    return (data, hash_, raw_hash, version, status, source_id, ts, entity_id)


def event_row(tenant_id: int, type_: str, stable_id: str, op: str, version: int, source_id: int, run_id: int,
              data: str, ts: Any) -> tuple[Any, ...]:
    """One change-log insert before its sequence is appended (``_EVENT_COLUMNS``)."""
    return (tenant_id, type_, stable_id, op, version, source_id, run_id, data, ts)


def rows_for_errors(run_id: int, stream: str,
                    errors: Iterable[tuple[str, str | None, str, str]]) -> list[dict[str, Any]]:
    """``run_errors`` rows from (ref, field, message, severity) tuples; severity is "error" or "warning".

    Text any database can hold: a NUL or a lone surrogate (from a connector's ref, say) is written
    escaped (``\\x00``, ``\\udcff``), so a report row is stored the same on SQLite and PostgreSQL.
    """
    return [{"run_id": run_id, "stream": stream, "ref": _storable(ref)[:512],
             "field": None if field is None else _storable(field)[:255], "message": _storable(message),
             "severity": severity}
            for ref, field, message, severity in errors]


def _storable(text: str) -> str:
    if text.isascii() and "\x00" not in text:
        return text
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
