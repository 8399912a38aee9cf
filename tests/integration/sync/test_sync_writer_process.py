"""On SQLite a large run's batches are committed by a writer process (hub.store._writer): the result
is the same as writing in process, errors come back to the sync, and no writer outlives its run.
On PostgreSQL the setting changes nothing (the writes stay in process)."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
from sqlalchemy import select
from sync_support import add_csv_source

from hub.demo import mutate_bundle
from hub.store._tables import changes, entities

STARTED = "writer process started"


def writer_children() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "hub.store._writer" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


@pytest.fixture
async def hubs(hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Any, Any]]:
    """Two hubs on the same database: one writing through a writer process from the first batch (the
    sync waits for it to start, which a real sync does not), one writing in process."""
    from hub.context import Hub
    from hub.settings import load_settings
    from hub.store._writer import _Child

    ready = _Child.ready

    def started(self: _Child) -> bool:
        if not self.is_ready:
            self.recv.poll(30)
        return ready(self)

    monkeypatch.setattr(_Child, "ready", started)

    monkeypatch.setenv("FEDIFLOW_SYNC__WRITER_PROCESS_AFTER", "0")
    monkeypatch.setenv("FEDIFLOW_SYNC__BATCH_SIZE", "500")
    offloading = Hub.from_settings(load_settings())
    monkeypatch.setenv("FEDIFLOW_SYNC__WRITER_PROCESS", "false")
    in_process = Hub.from_settings(load_settings())
    if offloading.db.is_sqlite:
        await offloading.db.migrate()
    for slug in ("default", "a", "b"):
        await offloading.store.ensure_tenant(slug)
    try:
        yield offloading, in_process
    finally:
        await offloading.close()
        await in_process.close()


async def contents(hub: Any, tenant_id: int) -> tuple[list[Any], list[Any]]:
    async with hub.db.connect() as conn:
        ents = (await conn.execute(
            select(entities.c.type, entities.c.stable_id, entities.c.data, entities.c.hash, entities.c.raw_hash,
                   entities.c.version, entities.c.status)
            .where(entities.c.tenant_id == tenant_id).order_by(entities.c.id))).all()
        events = (await conn.execute(
            select(changes.c.seq, changes.c.entity_type, changes.c.stable_id, changes.c.op, changes.c.version,
                   changes.c.data)
            .where(changes.c.tenant_id == tenant_id).order_by(changes.c.seq))).all()
    return [tuple(r) for r in ents], [tuple(r) for r in events]


async def test_same_result_as_writing_in_process(hubs: Any, small_bundle: Any, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from hub.sync import SyncEngine

    caplog.set_level(logging.INFO, logger="fediflow.store")
    offloading, in_process = hubs
    path, _ = small_bundle
    work = tmp_path / "bundle"
    shutil.copytree(path, work)
    a = await add_csv_source(offloading, "sis", work, tenant="a")
    b = await add_csv_source(in_process, "sis", work, tenant="b")

    first_a = await SyncEngine(offloading).sync(a, "sis")
    first_b = await SyncEngine(in_process).sync(b, "sis")
    mutated = mutate_bundle(path, tmp_path / "mutated", change_pct=20, delete_pct=10, seed=5)
    shutil.rmtree(work)
    shutil.copytree(mutated.path, work)
    again_a = await SyncEngine(offloading).sync(a, "sis")
    again_b = await SyncEngine(in_process).sync(b, "sis")

    started = [r for r in caplog.records if r.getMessage() == STARTED]
    assert len(started) == (2 if offloading.db.is_sqlite else 0), "one writer per SQLite run, none on PostgreSQL"
    stopped = [r.__dict__["batches"] for r in caplog.records if r.getMessage() == "writer process stopped"]
    assert len(stopped) == len(started) and all(batches > 0 for batches in stopped)
    assert writer_children() == [], "the writer ends with its run"
    for x, y in ((first_a, first_b), (again_a, again_b)):
        assert (x.created, x.updated, x.deleted, x.unchanged, x.errors) == \
            (y.created, y.updated, y.deleted, y.unchanged, y.errors)
        assert x.per_stream == y.per_stream
    assert again_a.updated > 0 and again_a.deleted > 0
    assert await contents(offloading, a.tenant_id) == await contents(in_process, b.tenant_id)


async def test_a_unique_violation_in_the_writer_comes_back_and_the_batch_is_looked_up(
        hubs: Any, small_bundle: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first-sync path writes without lookups; a stable id inserted meanwhile by someone else makes
    the writer's transaction fail with the unique index, and the sync classifies and rewrites the batch."""
    from hub.store._writer import BatchWriter
    from hub.sync import SyncEngine

    offloading, _ = hubs
    if not offloading.db.is_sqlite:
        pytest.skip("the writer process is SQLite's")
    path, stats = small_bundle
    store = await add_csv_source(offloading, "sis", path)
    other = await store.get_source("sis")  # the same source's row, as another run's write would leave it
    db_file = offloading.db.url.split("///", 1)[1]
    original = BatchWriter.submit
    raced: list[str] = []
    offloaded = [0]

    def racing_submit(self: BatchWriter, write: Any) -> Any:
        if write.inserts and write.inserts[0][1] == "User" and not raced:
            tenant_id, type_, stable_id = write.inserts[0][:3]
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            with sqlite3.connect(db_file) as conn:  # another writer, committing first
                conn.execute("INSERT INTO entities (tenant_id, type, stable_id, source_id, data, hash, version, "
                             "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, 'active', ?, ?)",
                             (tenant_id, type_, stable_id, other.id, f'{{"sourcedId": "{stable_id}"}}',
                              b"\0" * 16, now, now))
            raced.append(stable_id)
        outcome = original(self, write)
        offloaded[0] = self.offloaded
        return outcome

    monkeypatch.setattr(BatchWriter, "submit", racing_submit)
    summary = await SyncEngine(offloading).sync(store, "sis")

    assert summary.status == "succeeded" and summary.errors == 0
    assert summary.per_stream["users"]["created"] == stats.counts["users"] - 1
    assert summary.per_stream["users"]["updated"] == 1
    entity = await store.get_entity("User", raced[0])
    assert entity.version == 2 and "givenName" in entity.data
    seqs = [c.seq for c in await store.changes_after(0, limit=100000)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert writer_children() == []
    assert raced and offloaded[0] > 0
