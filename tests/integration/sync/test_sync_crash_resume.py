"""kill -9 in the middle of a real `fediflow sync`, then sync again: exactly the uninterrupted result.

The interrupted sync runs as a subprocess of the real CLI with small batches; the test waits until
part of it has committed, kills it with SIGKILL and runs the same command again. The store, the
change log (no duplicate event, gap-free sequence) and the run's counts must equal those of an
uninterrupted sync of the same bundle into a fresh database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from sqlalchemy import func, select

from hub.demo import generate_bundle
from hub.store import Database
from hub.store._tables import changes, entities, sync_runs

pytestmark = pytest.mark.slow


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "hub.cli", *args], env=env, capture_output=True, text=True,
                            timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"fediflow {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result


def prepare(env: dict[str, str], bundle: Path) -> None:
    cli(env, "init")
    cli(env, "sources", "add", "sis", "--connector", "oneroster_csv", "--set", f"path={bundle}")


async def snapshot(url: str) -> dict[str, Any]:
    db = Database(url)
    try:
        async with db.connect() as conn:
            ents = sorted((r.type, r.stable_id, bytes(r.hash), r.version, r.status) for r in await conn.execute(
                select(entities.c.type, entities.c.stable_id, entities.c.hash, entities.c.version, entities.c.status)))
            events = sorted((r.entity_type, r.stable_id, r.op, r.version) for r in await conn.execute(
                select(changes.c.entity_type, changes.c.stable_id, changes.c.op, changes.c.version)))
            seqs = [r[0] for r in await conn.execute(select(changes.c.seq).order_by(changes.c.seq))]
            runs = (await conn.execute(select(sync_runs).order_by(sync_runs.c.id))).all()
    finally:
        await db.dispose()
    last = runs[-1]
    return {"entities": ents, "events": events, "seqs": seqs, "run_status": last.status,
            "counts": (last.created, last.updated, last.deleted, last.unchanged, last.errors), "runs": len(runs),
            "attempts": last.attempts}


async def committed_changes(url: str) -> int:
    db = Database(url)
    try:
        async with db.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(changes))).scalar_one()
    finally:
        await db.dispose()


def writers_of(url: str) -> list[psutil.Process]:
    """Writer processes (hub.store._writer) of the database at ``url``."""
    found = []
    for proc in psutil.process_iter():
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if "hub.store._writer" in cmdline and url in cmdline:
            found.append(proc)
    return found


@pytest.mark.parametrize("writer", ["in-process", "writer-process"])
def test_kill_9_mid_sync_then_rerun_equals_an_uninterrupted_sync(hub_env: dict[str, str], tmp_path: Path,
                                                                 writer: str) -> None:
    url = hub_env["FEDIFLOW_DATABASE__URL"]
    if writer == "writer-process" and not url.startswith("sqlite"):
        pytest.skip("the writer process is SQLite's")
    bundle = tmp_path / "bundle"
    generate_bundle(bundle, users=1500, seed=11)
    base = {**os.environ, **hub_env, "FEDIFLOW_SYNC__BATCH_SIZE": "150", "FEDIFLOW_LOG_FORMAT": "json"}
    if writer == "writer-process":  # from the first batch on: the kill hits a sync whose writer is a child
        base["FEDIFLOW_SYNC__WRITER_PROCESS_AFTER"] = "0"

    reference_url = f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"
    reference_env = {**base, "FEDIFLOW_DATABASE__URL": reference_url, "FEDIFLOW_DATA_DIR": str(tmp_path / "ref")}
    prepare(reference_env, bundle)
    cli(reference_env, "sync", "sis")
    expected = asyncio.run(snapshot(reference_url))
    assert expected["run_status"] == "succeeded" and len(expected["events"]) > 5000

    prepare(base, bundle)
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "sync", "sis"], env=base,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if asyncio.run(committed_changes(url)) >= 3000:
                break
            assert proc.poll() is None, "the sync finished before it could be interrupted"
            time.sleep(0.02)
        else:
            pytest.fail("the sync committed nothing in 120 s")
        if writer == "writer-process":
            assert writers_of(url), "the sync writes through its writer process"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while writers_of(url):  # the writer dies with its parent: nothing commits after the kill
        assert time.monotonic() < deadline, "a writer process outlived its sync"
        time.sleep(0.05)
    interrupted = asyncio.run(snapshot(url))
    assert interrupted["run_status"] == "running", "a killed run is left running, to be resumed"
    assert 0 < len(interrupted["events"]) < len(expected["events"])

    cli(base, "sync", "sis")
    resumed = asyncio.run(snapshot(url))
    assert resumed["runs"] == 1 and resumed["attempts"] == 2, "the same run was resumed"
    assert resumed["run_status"] == "succeeded"
    assert resumed["entities"] == expected["entities"]
    assert resumed["events"] == expected["events"], "no duplicate and no missing change event"
    assert resumed["seqs"] == list(range(1, len(expected["events"]) + 1))
    assert resumed["counts"] == expected["counts"]
