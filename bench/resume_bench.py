"""Benchmark: a crashed sync resumed on PostgreSQL, with and without the writer's statistics refresh.

    python -m bench.resume_bench --users 30000
    python -m bench.resume_bench --users 100000 --kill-at 0.5   # the issue's case: ~405k entities

Autovacuum is off for the benchmark's tables (``autovacuum_enabled = false``), so the planner has only
the statistics the hub itself gathers. In one run:

1. a fresh database (``ff_bench_resume_tpl``) is initialised and the first sync of the generated
   bundle is killed (SIGKILL) once ``--kill-at`` of the bundle's entities are committed, with the
   refresh off (as the hub wrote before it had one): a run left ``running`` with committed batches,
   tables never analysed;
2. that database is cloned (``CREATE DATABASE ... TEMPLATE``) once per mode, and ``fediflow sync``
   resumes the run in the clone, timed:

   * ``stale``: the refresh off (the hub before the fix);
   * ``analyzed``: the refresh off, after a manual full ``ANALYZE entities, changes`` (the issue's
     workaround; its own time is reported apart);
   * ``fresh``: the hub as it is (hub.store._writer._Statistics);

3. ``--first-rounds`` rounds (default 1) of an uninterrupted first sync into a fresh database, refresh
   off and on (then on and off), to show what the refresh costs a run that hardly needs it (a first
   sync does no lookups while a type is new).

Rates are the records the resumed run wrote (entities at its end minus entities at the kill) per
minute. Every resumed run is checked to succeed with the bundle's entity count, unless it was
stopped by ``--time-limit`` (for the ``stale`` mode on a large bundle: it would take the better
part of an hour; the rate until then is reported, ``finished: false``).
Databases are named ``ff_bench_resume_*`` and dropped at the end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.fernet import Fernet

from hub.demo import generate_bundle

OUT = Path(__file__).parent / "out"
PREFIX = "ff_bench_resume"
#: the bundle files whose records become entities (roles and userProfiles are merged into users)
ENTITY_FILES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
#: runs the CLI with the writer's statistics refresh turned off
NO_REFRESH = ("import sys; from hub.store._writer import BatchWriter; BatchWriter.refresh_statistics = False; "
              "from hub.cli import main; sys.argv[0] = 'fediflow'; main()")


def expected_entities(bundle: Path) -> int:
    total = 0
    for name in ENTITY_FILES:
        with (bundle / f"{name}.csv").open("rb") as fh:
            total += sum(1 for line in fh if line.strip()) - 1
    return total


class Bench:
    def __init__(self, admin_dsn: str, bundle: Path) -> None:
        self.admin_dsn = admin_dsn
        self.bundle = bundle
        self.key = Fernet.generate_key().decode()
        self.data = OUT / "resume-data"
        self.time_limit: float | None = None

    def dsn(self, name: str) -> str:
        return f"{self.admin_dsn.rsplit('/', 1)[0]}/{name}"

    def env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEDIFLOW_")}
        env.update(FEDIFLOW_DATA_DIR=str(self.data), FEDIFLOW_LOG_FORMAT="json", COLUMNS="120",
                   FEDIFLOW_SECURITY__SECRET_KEY=self.key,
                   FEDIFLOW_DATABASE__URL=self.dsn(name).replace("postgresql://", "postgresql+asyncpg://"))
        return env

    @staticmethod
    def command(args: list[str], refresh: bool) -> list[str]:
        if refresh:
            return [sys.executable, "-m", "hub.cli", *args]
        return [sys.executable, "-c", NO_REFRESH, *args]

    def cli(self, name: str, args: list[str], refresh: bool = True) -> tuple[float, str]:
        start = time.perf_counter()
        proc = subprocess.run(self.command(args, refresh), env=self.env(name), capture_output=True, text=True,
                              check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"fediflow {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return elapsed, proc.stderr

    async def admin(self, *sql: str) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            for statement in sql:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def query(self, name: str, sql: str) -> Any:
        conn = await asyncpg.connect(self.dsn(name))
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    async def fresh_database(self, name: str, template: str | None = None) -> None:
        create = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        await self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', create)

    async def drop(self, name: str) -> None:
        await self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def prepare(self, name: str, refresh: bool) -> None:
        """A fresh database with the schema, autovacuum off on the sync's tables, and the source."""
        await self.fresh_database(name)
        shutil.rmtree(self.data, ignore_errors=True)
        self.cli(name, ["init"], refresh)
        conn = await asyncpg.connect(self.dsn(name))
        try:
            for table in ("entities", "changes", "run_errors", "sync_runs", "stream_states"):
                await conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false, "
                                   "toast.autovacuum_enabled = false)")
        finally:
            await conn.close()
        self.cli(name, ["sources", "add", "bench", "--connector", "oneroster_csv", "--set",
                        f"path={self.bundle.resolve()}"], refresh)

    async def killed_sync(self, name: str, kill_after: int) -> int:
        """Start the first sync (refresh off), SIGKILL it once ``kill_after`` entities are committed;
        returns the entities committed."""
        proc = await asyncio.create_subprocess_exec(
            *self.command(["sync", "bench"], refresh=False), env=self.env(name), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        conn = await asyncpg.connect(self.dsn(name))
        try:
            while proc.returncode is None:
                count = await conn.fetchval("SELECT coalesce(max(id), 0) FROM entities")
                if count >= kill_after:
                    os.killpg(proc.pid, signal.SIGKILL)
                    await proc.wait()
                    break
                await asyncio.sleep(0.1)
            else:
                raise SystemExit(f"the first sync ended before it was killed ({proc.returncode}): lower --kill-at")
            await asyncio.sleep(0.5)  # the server notices the dropped connection and rolls back
            status = await conn.fetchval("SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1")
            if status != "running":
                raise SystemExit(f"the killed run is {status!r}, not 'running'")
            return int(await conn.fetchval("SELECT count(*) FROM entities"))
        finally:
            await conn.close()

    async def resume(self, template: str, mode: str, expected: int, at_kill: int) -> dict[str, Any]:
        name = f"{PREFIX}_{mode}"
        await self.fresh_database(name, template)
        result: dict[str, Any] = {"mode": mode}
        if mode == "analyzed":
            start = time.perf_counter()
            conn = await asyncpg.connect(self.dsn(name))
            try:
                await conn.execute("ANALYZE entities, changes")
            finally:
                await conn.close()
            result["manual_analyze_seconds"] = round(time.perf_counter() - start, 2)
        seconds, finished = await self.timed_sync(name, refresh=mode == "fresh", limit=self.time_limit)
        entities = int(await self.query(name, "SELECT count(*) FROM entities"))
        status = await self.query(name, "SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1")
        if finished and (status != "succeeded" or entities != expected):
            raise SystemExit(f"resumed run ({mode}): {status}, {entities} entities, expected {expected}")
        await asyncio.sleep(1)  # activity counters reach the server's statistics within a second
        analyses = await self.query(name, "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'entities'")
        result.update(seconds=round(seconds, 2), finished=finished, records_written=entities - at_kill,
                      records_per_min=round((entities - at_kill) / seconds * 60), analyses_of_entities=analyses)
        await self.drop(name)
        return result

    async def timed_sync(self, name: str, refresh: bool, limit: float | None) -> tuple[float, bool]:
        """``fediflow sync bench``: (seconds, finished); stopped (SIGKILL) after ``limit`` seconds."""
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *self.command(["sync", "bench"], refresh), env=self.env(name), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True)
        try:
            _out, err = await asyncio.wait_for(proc.communicate(), limit)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            await asyncio.sleep(0.5)
            return time.perf_counter() - start, False
        if proc.returncode != 0:
            raise SystemExit(f"fediflow sync failed ({proc.returncode}):\n{err.decode()[-3000:]}")
        return time.perf_counter() - start, True

    async def first_sync(self, refresh: bool, expected: int) -> tuple[float, int]:
        """An uninterrupted first sync into a fresh database: (seconds, analyses of entities)."""
        name = f"{PREFIX}_first_{'on' if refresh else 'off'}"
        await self.prepare(name, refresh)
        seconds, _ = self.cli(name, ["sync", "bench"], refresh)
        entities = int(await self.query(name, "SELECT count(*) FROM entities"))
        if entities != expected:
            raise SystemExit(f"first sync (refresh {refresh}): {entities} entities, expected {expected}")
        await asyncio.sleep(1)
        analyses = await self.query(name, "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'entities'")
        await self.drop(name)
        return seconds, int(analyses)


async def run(opts: argparse.Namespace) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    bundle = OUT / f"bundle-{opts.users}-{opts.seed}"
    if not (bundle / "manifest.csv").exists():
        generate_bundle(bundle, users=opts.users, seed=opts.seed)
    expected = expected_entities(bundle)
    bench = Bench(opts.pg, bundle)
    bench.time_limit = opts.time_limit
    template = f"{PREFIX}_tpl"
    result: dict[str, Any] = {"users": opts.users, "entities": expected, "resume": []}
    modes = [mode for mode in opts.modes.split(",") if mode]
    if modes:
        await bench.prepare(template, refresh=False)
        at_kill = await bench.killed_sync(template, int(expected * opts.kill_at))
        print(f"first sync killed with {at_kill} of {expected} entities committed", flush=True)
        result["entities_at_kill"] = at_kill
    for mode in modes:
        outcome = await bench.resume(template, mode, expected, at_kill)
        print(outcome, flush=True)
        result["resume"].append(outcome)
    if modes and not opts.keep:
        await bench.drop(template)
    by_mode = {r["mode"]: r for r in result["resume"]}
    if "stale" in by_mode and "fresh" in by_mode:
        result["fresh_over_stale_seconds"] = round(by_mode["fresh"]["seconds"] / by_mode["stale"]["seconds"], 3)
    if "analyzed" in by_mode and "fresh" in by_mode:
        result["fresh_over_analyzed_seconds"] = round(by_mode["fresh"]["seconds"] / by_mode["analyzed"]["seconds"], 3)
    if opts.first_rounds:
        firsts: dict[bool, list[float]] = {False: [], True: []}
        for round_ in range(opts.first_rounds):  # off, on, then on, off: drift hits both alike
            for refresh in (False, True) if round_ % 2 == 0 else (True, False):
                seconds, analyses = await bench.first_sync(refresh, expected)
                print(f"first sync, refresh {'on' if refresh else 'off'}: {seconds:.1f}s, {analyses} analyses",
                      flush=True)
                firsts[refresh].append(round(seconds, 2))
                if refresh:
                    result["first_sync_analyses_of_entities"] = analyses
        result.update(first_sync_refresh_off_seconds=firsts[False], first_sync_refresh_on_seconds=firsts[True],
                      first_sync_on_over_off=round(sum(firsts[True]) / sum(firsts[False]), 3))
    shutil.rmtree(bench.data, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of the entities committed at the kill")
    parser.add_argument("--modes", default="stale,analyzed,fresh", help="resumed runs to time ('': none)")
    parser.add_argument("--first-rounds", type=int, default=1,
                        help="rounds of uninterrupted first syncs, refresh off and on (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the killed run's database")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="stop a resumed run after this many seconds and report its rate so far")
    parser.add_argument("--pg", default=os.environ.get("FEDIFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"),
                        help="an admin DSN of the server (its database is only used to create the bench's own)")
    opts = parser.parse_args()
    result = asyncio.run(run(opts))
    (OUT / "resume_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
