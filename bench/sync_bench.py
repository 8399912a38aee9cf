"""Benchmark: full sync of a generated OneRoster bundle on SQLite vs a raw sqlite3 insert baseline.

    python -m bench.sync_bench --users 100000

Measured in the same run, on the same machine:

* baseline: the users and enrollments rows of the bundle read with the ``csv`` module and inserted
  with ``sqlite3.executemany`` into a fresh WAL database (one table each, no index but the rowid,
  one commit per 2000 rows) -- the same rows, streamed the same way, with none of the hub's work;
* first sync: ``fediflow sync`` in a fresh data directory, as a subprocess: parse, map, validate,
  hash, upsert and change log of every stream, with its peak RSS;
* storage floor: the first sync's own entity and change rows re-inserted with raw ``executemany``
  into a fresh store of the same schema, a commit per 2,000 records: the writes alone, with none
  of the reading, mapping, validation or hashing; no sync of this schema can be faster;
* re-sync: the same command again on the unchanged bundle (its files are recognised unchanged
  and not read again: hub.sync._snapshots);
* record-level re-sync: the same records in files whose bytes differ (a blank line appended to
  each, which readers skip), so every record is read, raw-hashed and found unchanged.

The rate of a sync is (users + enrollments rows) / wall time, although the sync also processes
orgs, sessions, courses, classes and demographics; the ratio is sync rate / baseline rate.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil

from hub.demo import generate_bundle

OUT = Path(__file__).parent / "out"


def baseline(bundle: Path, db_path: Path) -> tuple[int, float]:
    """Raw csv + sqlite3 executemany of users and enrollments into a fresh WAL database: (rows, seconds)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    total = 0
    start = time.perf_counter()
    for name in ("users", "enrollments"):
        with (bundle / f"{name}.csv").open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            quoted = ", ".join(f'"{c}"' for c in header)
            conn.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, {', '.join(f'{chr(34)}{c}{chr(34)} TEXT' for c in header)})")
            sql = f"INSERT INTO {name} ({quoted}) VALUES ({', '.join('?' * len(header))})"
            batch: list[list[str]] = []
            for row in reader:
                batch.append(row)
                if len(batch) == 2000:
                    conn.executemany(sql, batch)
                    conn.commit()
                    total += len(batch)
                    batch = []
            if batch:
                conn.executemany(sql, batch)
                conn.commit()
                total += len(batch)
    elapsed = time.perf_counter() - start
    conn.close()
    return total, elapsed


def storage_floor(synced_db: Path, fresh_db: Path, batch: int = 2000, stripped: bool = False) -> tuple[int, float]:
    """The first sync's own entity and change rows, re-inserted with raw ``sqlite3.executemany`` into a
    fresh store of the same schema (entities, then their change events, a commit per batch of
    ``batch`` records, as the sync writes them): no parsing, mapping, validation or hashing.
    Returns (records, seconds of the inserts and commits alone). This bounds any sync of this schema.

    ``stripped``: the same without foreign keys, without the API's paging index on entities and
    with change events that do not carry the record (``{}``): what a leaner schema could reach.
    """
    src = sqlite3.connect(f"file:{synced_db}?mode=ro", uri=True)
    dst = sqlite3.connect(fresh_db)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"foreign_keys={'OFF' if stripped else 'ON'}",
                   "cache_size=-65536"):
        dst.execute(f"PRAGMA {pragma}")
    if stripped:
        dst.execute("DROP INDEX IF EXISTS ix_entities_tenant_id_type_id")
    ent_cols = [r[1] for r in src.execute("PRAGMA table_info(entities)") if r[1] != "id"]
    chg_cols = [r[1] for r in src.execute("PRAGMA table_info(changes)") if r[1] != "id"]
    ent_sql = f"INSERT INTO entities ({', '.join(ent_cols)}) VALUES ({', '.join('?' * len(ent_cols))})"
    chg_sql = f"INSERT INTO changes ({', '.join(chg_cols)}) VALUES ({', '.join('?' * len(chg_cols))})"
    ents = src.execute(f"SELECT {', '.join(ent_cols)} FROM entities ORDER BY id")
    picked = ["'{}'" if stripped and col == "data" else col for col in chg_cols]
    chgs = src.execute(f"SELECT {', '.join(picked)} FROM changes ORDER BY id")
    total, spent = 0, 0.0
    while rows := ents.fetchmany(batch):
        events = chgs.fetchmany(len(rows))
        start = time.perf_counter()
        dst.executemany(ent_sql, rows)
        dst.executemany(chg_sql, events)
        dst.commit()
        spent += time.perf_counter() - start
        total += len(rows)
    src.close()
    dst.close()
    return total, spent


def touched_copy(bundle: Path) -> Path:
    """A copy of ``bundle`` whose CSV files end with one more (blank) line: same records, other bytes."""
    copy = bundle.with_name(bundle.name + "-touched")
    if not (copy / "manifest.csv").exists():
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(bundle, copy)
        for file in copy.glob("*.csv"):
            if file.name != "manifest.csv":
                with file.open("ab") as fh:
                    fh.write(b"\r\n")
    return copy


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run `fediflow ARGS`; return (seconds, peak RSS bytes of the process tree, stdout)."""
    cmd = [sys.executable, "-m", "hub.cli", *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:  # the CLI and its writer process, if it started one
            peak = max(peak, sum(p.memory_info().rss for p in [ps, *ps.children(recursive=True)]))
        except psutil.Error:
            pass
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"fediflow {' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    return elapsed, peak, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    opts = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    bundle = OUT / f"bundle-{opts.users}-{opts.seed}"
    if not (bundle / "manifest.csv").exists():
        t = time.perf_counter()
        generate_bundle(bundle, users=opts.users, seed=opts.seed)
        print(f"generated {bundle} in {time.perf_counter() - t:.1f}s", flush=True)

    rows, base_s = baseline(bundle, OUT / "baseline.db")
    base_rate = rows / base_s
    print(f"baseline: {rows} rows in {base_s:.2f}s = {base_rate:,.0f} rows/s", flush=True)

    data = OUT / "sync-data"
    shutil.rmtree(data, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDIFLOW_")}
    env.update(FEDIFLOW_DATA_DIR=str(data), FEDIFLOW_LOG_FORMAT="json", COLUMNS="120")
    run_cli(["init"], env)
    run_cli(["sources", "add", "bench", "--connector", "oneroster_csv", "--set", f"path={bundle.resolve()}"], env)
    first_s, first_rss, first_out = run_cli(["sync", "bench"], env)
    second_s, second_rss, _ = run_cli(["sync", "bench"], env)
    run_cli(["sources", "set", "bench", "--set", f"path={touched_copy(bundle).resolve()}"], env)
    record_s, record_rss, _ = run_cli(["sync", "bench"], env)
    sync_rate = rows / first_s

    floors = {}
    for stripped in (False, True):
        floor_data = OUT / "floor-data"
        shutil.rmtree(floor_data, ignore_errors=True)
        floor_env = {**env, "FEDIFLOW_DATA_DIR": str(floor_data)}
        run_cli(["init"], floor_env)
        run_cli(["sources", "add", "bench", "--connector", "oneroster_csv", "--set", f"path={bundle.resolve()}"],
                floor_env)
        floor_records, floors[stripped] = storage_floor(data / "fediflow.db", floor_data / "fediflow.db",
                                                        stripped=stripped)
        shutil.rmtree(floor_data, ignore_errors=True)
        print(f"storage floor{' (stripped)' if stripped else ''}: {floor_records} entity + change rows in "
              f"{floors[stripped]:.2f}s", flush=True)
    floor_s = floors[False]
    result = {
        "users": opts.users,
        "rows_users_enrollments": rows,
        "baseline_seconds": round(base_s, 3),
        "baseline_rows_per_s": round(base_rate),
        "first_sync_seconds": round(first_s, 3),
        "first_sync_rows_per_s": round(sync_rate),
        "first_sync_peak_rss_mb": round(first_rss / 2**20, 1),
        "ratio_vs_baseline": round(sync_rate / base_rate, 3),
        "storage_floor_seconds": round(floor_s, 3),
        "storage_floor_ratio_vs_baseline": round(rows / floor_s / base_rate, 3),
        "stripped_storage_floor_seconds": round(floors[True], 3),
        "stripped_storage_floor_ratio_vs_baseline": round(rows / floors[True] / base_rate, 3),
        "resync_seconds": round(second_s, 3),
        "resync_peak_rss_mb": round(second_rss / 2**20, 1),
        "resync_over_first": round(second_s / first_s, 3),
        "record_level_resync_seconds": round(record_s, 3),
        "record_level_resync_peak_rss_mb": round(record_rss / 2**20, 1),
        "record_level_resync_over_first": round(record_s / first_s, 3),
    }
    (OUT / "sync_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    print(first_out[-2500:])
    print("| measure | value |\n| --- | --- |")
    for key, value in result.items():
        print(f"| {key} | {value} |")
    if not opts.keep:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
