"""The worker queue: claiming (exclusive, one run per source at a time), executing, heartbeat, reaper."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scheduler_support import FAST, add_source, run_row, set_run

from hub.sync._locks import source_lock
from scheduler import Worker, claim_next, heartbeat, reap


async def test_worker_executes_a_queued_run(hub: Any, roster: dict[str, Any]) -> None:
    store = await add_source(hub, "sis", roster["base"])
    run = await store.create_run(await store.get_source("sis"))
    worker = Worker(hub, FAST, name="w1")
    await worker.run_until_idle()
    done = await store.get_run(run.id)
    assert done.status == "succeeded" and done.created > 0 and done.attempts == 1
    assert (await run_row(hub, run.id)).worker == "w1"
    assert await claim_next(hub.db, "w1", 2) is None


async def test_claims_are_exclusive_and_one_per_source(hub: Any, roster: dict[str, Any]) -> None:
    names = ["a", "b", "c"]
    for name in names:
        store = await add_source(hub, name, roster["base"])
        for _ in range(3):
            await store.create_run(await store.get_source(name))
    claimed = await asyncio.gather(*(claim_next(hub.db, f"w{i}", 30) for i in range(12)))
    got = [c for c in claimed if c is not None]
    assert len({c.id for c in got}) == len(got)
    assert sorted(c.source_id for c in got) == sorted({c.source_id for c in got}), "two runs of one source claimed"
    # sequential claims see the same rule: nothing more until a claimed run is done
    assert len(got) + sum(1 for _ in [await claim_next(hub.db, "late", 30)] if _) <= 3


async def test_reaper_requeues_a_dead_workers_run_and_another_worker_finishes_it(hub: Any,
                                                                                 roster: dict[str, Any]) -> None:
    store = await add_source(hub, "sis", roster["base"])
    run = await store.create_run(await store.get_source("sis"))
    assert (await claim_next(hub.db, "dead", 2)).id == run.id  # type: ignore[union-attr]
    await set_run(hub, run.id, status="running", started_at=datetime.now(UTC))
    assert await heartbeat(hub.db, "dead") == 1
    assert await reap(hub.db, 2) == []  # fresh heartbeat: alive
    await set_run(hub, run.id, heartbeat_at=datetime.now(UTC) - timedelta(seconds=5))
    assert await reap(hub.db, 2) == [run.id]
    row = await run_row(hub, run.id)
    assert (row.status, row.worker, row.attempts) == ("queued", None, 2)
    await Worker(hub, FAST, name="w2").run_until_idle()
    done = await store.get_run(run.id)
    assert done.status == "succeeded" and done.attempts == 2 and done.created > 0


async def test_a_dead_workers_dry_run_is_failed_not_requeued(hub: Any, roster: dict[str, Any]) -> None:
    store = await add_source(hub, "sis", roster["base"])
    run = await store.create_run(await store.get_source("sis"), dry_run=True)
    await claim_next(hub.db, "dead", 2)
    await set_run(hub, run.id, heartbeat_at=datetime.now(UTC) - timedelta(seconds=5))
    assert await reap(hub.db, 2) == []
    assert (await store.get_run(run.id)).status == "failed"


@pytest.mark.postgres
async def test_postgres_source_lock_keeps_runs_alive_and_releases_claims(hub: Any, roster: dict[str, Any]) -> None:
    if hub.db.is_sqlite:
        pytest.skip("PostgreSQL advisory locks")
    store = await add_source(hub, "sis", roster["base"])
    source = await store.get_source("sis")
    run = await store.create_run(source)
    async with source_lock(hub.db, source.id, source.name):  # another process syncing this source
        await claim_next(hub.db, "slow", 2)
        await set_run(hub, run.id, heartbeat_at=datetime.now(UTC) - timedelta(seconds=30))
        assert await reap(hub.db, 2) == []  # stale heartbeat, but the lock says its engine is alive
        await set_run(hub, run.id, worker=None, heartbeat_at=None)
        worker = Worker(hub, FAST, name="w1")
        await worker.run_until_idle()
        assert worker.counts == {"released": 1}
        row = await run_row(hub, run.id)
        assert (row.status, row.worker) == ("queued", None)
    await Worker(hub, FAST, name="w1").run_until_idle()
    assert (await store.get_run(run.id)).status == "succeeded"
