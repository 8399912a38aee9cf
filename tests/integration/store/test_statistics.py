"""The planner's statistics keep up with a sync's bulk writes (hub.store._writer._Statistics).

On PostgreSQL, a table never analysed, or analysed before a type was in it, makes the planner
expect a row or two of the type, and the stable-id lookup (``fetch_existing``) then reads every row
of the type through another (tenant_id, type, ...) index for each chunk of ids (docs/performance.md,
"PostgreSQL statistics"). After a run's writes the statistics must know the types written, the
lookup's row estimate must be about the ids asked for, and the plan never that filtered index scan.
On SQLite nothing is analysed: its planner picks the unique index without statistics.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from hub.store._sync_ops import BatchWrite, bulk_sql, entity_row, event_row, fetch_existing
from hub.store._writer import BatchWriter


async def _run(hub: Any, tmp_path: Path) -> tuple[int, int, int]:
    """(tenant id, source id, run id) of a running run of a new source of the tenant ``default``."""
    store = await hub.store.tenant("default")
    cls = hub.plugins.connector("oneroster_csv")
    source = await store.add_source("stats", "oneroster_csv", store.validate_config(cls.config_model,
                                                                                      {"path": str(tmp_path)}))
    run = await store.create_run(source, status="running")
    return store.tenant_id, source.id, run.id


async def _write(hub: Any, ids: tuple[int, int, int], type_: str, count: int, *, batch: int = 1000,
                 refresh: bool = True) -> BatchWriter:
    """Insert ``count`` entities of ``type_`` (and their change events) in batches, as a sync does."""
    tenant_id, source_id, run_id = ids
    now = datetime.now(UTC)
    ts = bulk_sql(hub.db.dialect).ts(now)
    writer = BatchWriter(hub.db, None)
    if not refresh:
        writer.statistics = None
    prefix = type_.lower()[:3]
    for start in range(0, count, batch):
        stable_ids = [f"{prefix}-{n:07d}" for n in range(start, min(start + batch, count))]
        data = [json.dumps({"sourcedId": sid, "status": "active"}) for sid in stable_ids]
        write = BatchWrite(
            tenant_id=tenant_id, source_id=source_id, run_id=run_id, stream=type_, now=now,
            inserts=[entity_row(tenant_id, type_, sid, source_id, doc, b"h" * 16, None, 1, "active", ts)
                     for sid, doc in zip(stable_ids, data, strict=True)],
            updates=[], raw_hash_updates=[],
            events=[event_row(tenant_id, type_, sid, "created", 1, source_id, run_id, doc, ts)
                    for sid, doc in zip(stable_ids, data, strict=True)],
            errors=[], cursor={}, start_cursor={}, position=start + len(stable_ids), stream_done=False,
            counts={"created": len(stable_ids)}, per_stream={})
        await writer.submit(write)
    await writer.aclose()
    return writer


@contextmanager
def _captured(hub: Any) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and their parameters) run on the hub's database inside the block."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    engine = hub.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


async def _lookup_plan(hub: Any, tenant_id: int, type_: str, stable_ids: list[str]) -> Any:
    """The plan of the statement ``fetch_existing`` runs for ``stable_ids`` (one chunk)."""
    async with hub.db.connect() as conn:
        with _captured(hub) as seen:
            found = await fetch_existing(conn, tenant_id, type_, stable_ids)
        assert len(found) == len(stable_ids)
        (statement, parameters), = seen
        prefix = "EXPLAIN QUERY PLAN " if hub.db.is_sqlite else "EXPLAIN (FORMAT JSON) "
        rows = (await conn.exec_driver_sql(prefix + statement, parameters)).all()
    if hub.db.is_sqlite:
        return [row[-1] for row in rows]
    plan = rows[0][0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if node.get("Relation Name") == "entities":
        yield node
    for child in node.get("Plans", []):
        yield from _scans(child)


def _assert_sound(plan: dict[str, Any], asked: int, unique: str) -> None:
    """The lookup of ``asked`` existing ids is estimated at about that many rows, and is not a scan of
    another index filtered on stable_id (the degraded plan)."""
    assert asked / 4 <= plan["Plan Rows"] <= asked * 4, plan
    scans = list(_scans(plan))
    assert scans, plan
    for scan in scans:
        assert not (scan.get("Index Name", unique) != unique and "stable_id" in scan.get("Filter", "")), scan


async def _unique_stable_id_index(hub: Any) -> str:
    async with hub.db.connect() as conn:
        names = (await conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'entities' AND indexdef LIKE 'CREATE UNIQUE%'"
            " AND indexdef LIKE '%(tenant_id, type, stable_id)%'"))).scalars().all()
    assert len(names) == 1, names
    return names[0]


async def _statistics(hub: Any) -> dict[str, Any]:
    """reltuples and the most common values of the key column of ``entities`` and ``changes``."""
    found: dict[str, Any] = {}
    async with hub.db.connect() as conn:
        for table, column in (("entities", "type"), ("changes", "entity_type")):
            tuples = (await conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                                         {"t": table})).scalar_one()
            common = (await conn.execute(text(
                "SELECT most_common_vals::text FROM pg_stats WHERE tablename = :t AND attname = :c"),
                {"t": table, "c": column})).scalar_one_or_none()
            found[table] = (tuples, common or "")
    return found


async def test_lookup_searches_the_unique_index_after_bulk_writes(hub: Any, tmp_path: Path) -> None:
    """A first batch of users (analysed while small), then enrollments, 20 times as many: the
    statistics know both types and the lookup of enrollments is a search of the unique index."""
    ids = await _run(hub, tmp_path)
    await _write(hub, ids, "User", 1000)
    writer = await _write(hub, ids, "Enrollment", 20_000)
    plan = await _lookup_plan(hub, ids[0], "Enrollment", [f"enr-{n:07d}" for n in range(0, 20_000, 25)])
    if hub.db.is_sqlite:
        assert writer.statistics is None
        assert any("USING INDEX" in step and "stable_id=?" in step for step in plan), plan
        return
    assert writer.statistics is not None and "entities" in writer.statistics.analyzed
    stats = await _statistics(hub)
    for table in ("entities", "changes"):
        tuples, common = stats[table]
        assert tuples >= 21_000 / (1 + writer.statistics.GROWTH) - 2000, stats  # a batch and an ANALYZE late
        assert "Enrollment" in common and "User" in common, stats
    _assert_sound(plan, 800, await _unique_stable_id_index(hub))


async def test_resumed_run_refreshes_statistics_left_stale(hub: Any, tmp_path: Path) -> None:
    """Rows written without any analysis (a crashed run, autovacuum off): the next run's first batch
    has the tables analysed, whatever the server's activity counters say."""
    if hub.db.is_sqlite:
        pytest.skip("SQLite is not analysed (see the first test)")
    ids = await _run(hub, tmp_path)
    await _write(hub, ids, "Enrollment", 12_000, refresh=False)
    asked = [f"enr-{n:07d}" for n in range(0, 12_000, 15)]
    assert (await _statistics(hub))["entities"] == (-1, ""), "the premise: never analysed"
    assert (await _lookup_plan(hub, ids[0], "Enrollment", asked))["Plan Rows"] < 80, "the premise: a bad estimate"
    writer = await _write(hub, ids, "User", 500)
    assert writer.statistics is not None and writer.statistics.analyzed == ["entities", "changes"]
    stats = await _statistics(hub)
    assert stats["entities"][0] >= 12_000 and "Enrollment" in stats["entities"][1], stats
    _assert_sound(await _lookup_plan(hub, ids[0], "Enrollment", asked), len(asked),
                  await _unique_stable_id_index(hub))


async def test_no_analysis_while_statistics_are_fresh(hub: Any, tmp_path: Path) -> None:
    """Small runs on analysed tables that barely grow cost one catalog read, no ANALYZE."""
    if hub.db.is_sqlite:
        pytest.skip("SQLite is not analysed")
    ids = await _run(hub, tmp_path)
    first = await _write(hub, ids, "User", 4000, batch=4000)
    assert first.statistics is not None and first.statistics.analyzed == ["entities", "changes"]
    writer = await _write(hub, ids, "Class", 200)
    assert writer.statistics is not None and writer.statistics.analyzed == []
