"""Benchmark: the cost of reference checks and of the reference rule of the API and exports.

    python -m bench.references_bench --users 5000                  # SQLite in a temp folder
    python -m bench.references_bench --users 5000 --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/bench_refs

A generated bundle is damaged the way the issue reported it: ``--drop-users`` users are removed
from users.csv (their enrollments point at users not in the store) and ``--break-classes`` classes
get an invalid classType (rejected, so their enrollments point at classes not in the store). It is
synced into a fresh store (``--reject``: with the source option ``references: reject``); the figures are the sync's wall time, the part of it spent in the
after-run reference check, the run's errors and warnings, the OneRoster ``/enrollments`` count and
first page with the rule (``references=valid``) and without it (``all``), and the CSV export both
ways. On PostgreSQL the database named in the URL is dropped and created again.

Figures go to docs/data-quality.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet


def damage(bundle: Path, drop_users: int, break_classes: int) -> tuple[int, int]:
    def rows(name: str) -> tuple[list[str], list[dict[str, str]]]:
        with (bundle / name).open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            return list(reader.fieldnames or []), list(reader)

    def write(name: str, header: list[str], data: list[dict[str, str]]) -> None:
        with (bundle / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, header)
            writer.writeheader()
            writer.writerows(data)

    header, users = rows("users.csv")
    step = max(1, len(users) // max(1, drop_users))
    dropped = {u["sourcedId"] for u in users[::step][:drop_users]}
    write("users.csv", header, [u for u in users if u["sourcedId"] not in dropped])
    header, classes = rows("classes.csv")
    step = max(1, len(classes) // max(1, break_classes))
    broken = {c["sourcedId"] for c in classes[::step][:break_classes]}
    for c in classes:
        if c["sourcedId"] in broken:
            c["classType"] = "not-a-type"
    write("classes.csv", header, classes)
    _, enrollments = rows("enrollments.csv")
    return (sum(e["userSourcedId"] in dropped for e in enrollments),
            sum(e["classSourcedId"] in broken for e in enrollments))


async def fresh_postgres(url: str) -> None:
    import asyncpg

    dbname = url.rsplit("/", 1)[1]
    dsn = url.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        await conn.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    import hub.sync._engine as engine
    from hub.context import Hub
    from hub.demo import generate_bundle
    from hub.export import export_tenant_oneroster_csv
    from hub.oneroster import ListParams, RosterQuery
    from hub.settings import load_settings
    from hub.store import SourceOptions
    from hub.sync import SyncEngine

    work = Path(tempfile.mkdtemp(prefix="refbench-"))
    os.environ["FEDIFLOW_DATA_DIR"] = str(work / "data")
    os.environ["FEDIFLOW_SECURITY__SECRET_KEY"] = Fernet.generate_key().decode()
    if args.postgres:
        await fresh_postgres(args.postgres)
        os.environ["FEDIFLOW_DATABASE__URL"] = args.postgres
    bundle = work / "bundle"
    generate_bundle(bundle, users=args.users, seed=7)
    to_users, to_classes = damage(bundle, args.drop_users, args.break_classes)

    spent: list[float] = []
    original = engine.check_run_references

    async def timed(ctx: Any) -> int:
        started = time.perf_counter()
        try:
            return await original(ctx)
        finally:
            spent.append(time.perf_counter() - started)

    engine.check_run_references = timed  # type: ignore[assignment]
    hub = Hub.from_settings(load_settings())
    try:
        await hub.db.migrate()
        await hub.store.ensure_tenant("default")
        store = await hub.store.tenant("default")
        cls = hub.plugins.connector("oneroster_csv")
        await store.add_source("sis", "oneroster_csv", store.validate_config(cls.config_model, {"path": str(bundle)}),
                               SourceOptions(references="reject" if args.reject else "warn"))
        started = time.perf_counter()
        summary = await SyncEngine(hub).sync(store, "sis")
        total = time.perf_counter() - started
        db = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{db}, references: {'reject' if args.reject else 'warn'}, {args.users} users: damaged enrollments -> missing users {to_users}, "
              f"-> rejected classes {to_classes}")
        print(f"sync {total:.2f} s, reference check {spent[0]:.3f} s; created {summary.created}, "
              f"errors {summary.errors}, warnings {summary.warnings}")
        query = RosterQuery(store, "http://bench")
        for mode in ("valid", "all"):
            started = time.perf_counter()
            page = await query.list("enrollments", ListParams(limit=100, references=mode))  # type: ignore[arg-type]
            first = time.perf_counter() - started
            started = time.perf_counter()
            await query.list("enrollments", ListParams(limit=100, offset=100, references=mode))  # type: ignore[arg-type]
            second = time.perf_counter() - started
            started = time.perf_counter()
            counts = await export_tenant_oneroster_csv(store, work / f"export-{mode}", references=mode)  # type: ignore[arg-type]
            exported = time.perf_counter() - started
            print(f"references={mode}: /enrollments total {page.total}, first page (count + rows) {first:.3f} s, "
                  f"next page (count cached) {second:.3f} s; export {exported:.2f} s, "
                  f"{counts.get('enrollments', 0)} enrollments")
    finally:
        await hub.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--drop-users", type=int, default=400)
    parser.add_argument("--break-classes", type=int, default=100)
    parser.add_argument("--reject", action="store_true", help="the source's option references: reject")
    parser.add_argument("--postgres", default=None, help="an asyncpg URL; its database is dropped and created")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
