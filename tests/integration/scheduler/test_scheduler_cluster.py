"""Three `fediflow serve --role worker --role scheduler` processes on one PostgreSQL database.

For ~40 seconds of second-level schedules (an interval and a cron with seconds): every slot is
claimed exactly once (no duplicate, none missed), every scheduled run is queued once and never runs
twice at once; a worker killed with SIGKILL in the middle of a long run loses it to another worker,
which resumes it after the lease and finishes it with the right result. SIGTERM stops the others
cleanly (exit 0).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scheduler_support import add_source, run_row
from sqlalchemy import select

from hub.demo import generate_bundle
from hub.store._tables import schedule_ledger, sync_runs
from scheduler import ScheduleStore, fire_times
from scheduler._repository import trigger_of

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

NODES = 3
DURATION = 40.0
LEASE = 3


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    fediflow = Path(sys.executable).with_name("fediflow")
    with log.open("wb") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([str(fediflow), "serve", "--role", "worker", "--role", "scheduler",
                                 "--host", "127.0.0.1", "--port", "0"], env=env, stdout=subprocess.DEVNULL, stderr=err)


async def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_three_nodes_share_schedules_and_resume_a_killed_workers_run(
        hub: Any, hub_env: dict[str, str], tmp_path: Path) -> None:
    if hub.db.is_sqlite:
        pytest.skip("several nodes need PostgreSQL")
    big_path = tmp_path / "big"
    big_bundle = generate_bundle(big_path, users=1500, seed=4)
    base = tmp_path / "small"
    generate_bundle(base, users=40, seed=3)
    for tenant in ("t2", "t3"):  # one tenant per source: the bundles share stable ids
        await hub.store.ensure_tenant(tenant)
    fast = await add_source(hub, "fast", base)
    cronned = await add_source(hub, "cronned", base, tenant="t2")
    store = await add_source(hub, "big", big_path, tenant="t3")
    every2 = await ScheduleStore(fast).add("fast", interval_seconds=2)
    cron3 = await ScheduleStore(cronned).add("cronned", cron="*/3 * * * * *")

    env = {**os.environ, **hub_env,
           "FEDIFLOW_SYNC__BATCH_SIZE": "50", "FEDIFLOW_LOG_LEVEL": "INFO",
           "FEDIFLOW_SCHEDULER__LEASE_SECONDS": str(LEASE), "FEDIFLOW_SCHEDULER__HEARTBEAT_SECONDS": "0.5",
           "FEDIFLOW_SCHEDULER__POLL_SECONDS": "0.2", "FEDIFLOW_SCHEDULER__RELOAD_SECONDS": "1",
           "FEDIFLOW_SCHEDULER__CATCHUP_SECONDS": "600", "FEDIFLOW_SCHEDULER__SHUTDOWN_GRACE_SECONDS": "10"}
    procs = {i: _start(env, tmp_path / f"node{i}.log") for i in range(NODES)}
    started = time.monotonic()
    try:
        await asyncio.sleep(6)
        big = await store.create_run(await store.get_source("big"))

        async def claimed_mid_run() -> Any:
            row = await run_row(hub, big.id)
            return row if row.status == "running" and row.worker and row.per_stream else None

        victim_row = await _wait_for(claimed_mid_run, 30, "the big run to be running")
        victim_pid = int(victim_row.worker.rsplit(":", 1)[1])
        victim = next(i for i, p in procs.items() if p.pid == victim_pid)
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait(timeout=10)
        killed_at = datetime.now(UTC)

        async def finished() -> Any:
            row = await run_row(hub, big.id)
            return row if row.status in ("succeeded", "failed") else None

        done = await _wait_for(finished, 60, "the big run to be resumed and finished")
        assert done.status == "succeeded", done.message
        assert done.attempts >= 2 and done.worker != victim_row.worker
        big_users = await store.count_entities("User")
        assert big_users == big_bundle.counts["users"] == 1500

        await asyncio.sleep(max(0.0, DURATION - (time.monotonic() - started)))
        stop_at = datetime.now(UTC)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = {i: p.wait(timeout=40) for i, p in procs.items()}
    survivors = {i: c for i, c in codes.items() if i != victim}
    assert all(c == 0 for c in survivors.values()), (codes, [(tmp_path / f"node{i}.log").read_text()[-3000:]
                                                            for i in survivors])

    async with hub.db.connect() as conn:
        ledger = (await conn.execute(select(schedule_ledger).order_by(schedule_ledger.c.slot))).all()
        runs = (await conn.execute(select(sync_runs).order_by(sync_runs.c.id))).all()
    figures: dict[str, Any] = {}
    for schedule in (every2, cron3):
        slots = [r.slot for r in ledger if r.schedule_id == schedule.id]
        expected = list(fire_times(trigger_of(schedule), schedule.anchor - timedelta(microseconds=1), slots[-1]))
        dupes = [s for s, n in Counter(slots).items() if n > 1]
        figures[schedule.expression] = {"expected": len(expected), "claimed": len(slots), "duplicates": len(dupes)}
        assert not dupes
        assert slots == expected, f"missed slots: {sorted(set(expected) - set(slots))}"
        assert slots[-1] >= stop_at - timedelta(seconds=8), "the schedule stopped firing"
        assert len({r.node for r in ledger if r.schedule_id == schedule.id}) >= 2, "one node did all the work"
    print("cluster figures:", figures, "big run attempts:", done.attempts, "users:", big_users)

    # every queued slot made exactly one run; runs of one source never overlapped (a resumed run's
    # span starts at its first attempt, so runs of the killed worker are left out of that check)
    queued = [r.run_id for r in ledger if r.outcome == "queued"]
    assert len(queued) == len(set(queued))
    scheduled_runs = [r for r in runs if r.id in set(queued)]
    assert len(scheduled_runs) == len(queued)
    assert len([r for r in runs if not r.dry_run and r.source_id != big.source_id]) == len(queued)
    for source_id in {r.source_id for r in runs}:
        spans = sorted((r.started_at, r.finished_at, r.id, r.worker, r.attempts) for r in runs
                       if r.source_id == source_id and not r.dry_run and r.started_at and r.finished_at
                       and r.attempts == 1)
        for before, after in zip(spans, spans[1:], strict=False):
            assert after[0] >= before[1] - timedelta(milliseconds=5), f"two runs of one source at once: {before} {after}"
    assert not [r.id for r in scheduled_runs if r.status == "failed"], "a scheduled run failed"
    assert killed_at < done.finished_at
