"""The sync engine end to end on a real database (SQLite and PostgreSQL) with the OneRoster CSV connector."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sync_support import add_csv_source, bundle_with_bad_users, table_count

from hub.demo import mutate_bundle
from hub.errors import MappingError, SourceDataError
from hub.hookimpl import hookimpl
from hub.store._tables import changes, entities, run_errors

TYPES = {"orgs": "Org", "academicSessions": "AcademicSession", "courses": "Course", "classes": "Class",
         "users": "User", "enrollments": "Enrollment", "demographics": "Demographics"}


def expected_rows(stats: Any) -> int:
    return sum(stats.counts[stream] for stream in TYPES)


async def test_first_sync_creates_every_record_with_one_change_event_each(hub: Any, small_bundle: Any) -> None:
    from hub.sync import SyncEngine

    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    summary = await SyncEngine(hub).sync(store, "sis")

    assert summary.status == "succeeded"
    assert summary.errors == 0
    assert summary.created == expected_rows(stats)
    for stream, type_name in TYPES.items():
        assert await store.count_entities(type_name) == stats.counts[stream], stream
        assert summary.per_stream[stream]["created"] == stats.counts[stream]
    seqs = [c.seq for c in await store.changes_after(0, limit=100000)]
    assert seqs == list(range(1, summary.created + 1)), "per-tenant sequence is gap-free and ordered"
    assert await store.last_seq() == summary.created


async def test_resync_of_unchanged_bundle_changes_nothing(hub: Any, small_bundle: Any) -> None:
    from hub.sync import SyncEngine

    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    await SyncEngine(hub).sync(store, "sis")
    before = await store.last_seq()
    again = await SyncEngine(hub).sync(store, "sis")
    assert (again.created, again.updated, again.deleted, again.errors) == (0, 0, 0, 0)
    assert again.unchanged == expected_rows(stats)
    assert await store.last_seq() == before


async def test_changed_and_removed_users_give_updates_and_tobedeleted(hub: Any, small_bundle: Any, tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    path, _ = small_bundle
    work = tmp_path / "bundle"
    shutil.copytree(path, work)
    store = await add_csv_source(hub, "sis", work)
    await SyncEngine(hub).sync(store, "sis")
    mutated = mutate_bundle(path, tmp_path / "mutated", change_pct=20, delete_pct=10, seed=5)
    assert mutated.changed and mutated.deleted
    shutil.rmtree(work)
    shutil.copytree(mutated.path, work)

    summary = await SyncEngine(hub).sync(store, "sis")
    assert summary.per_stream["users"]["updated"] == len(mutated.changed)
    assert summary.per_stream["users"]["deleted"] == len(mutated.deleted)
    assert summary.per_stream["enrollments"]["deleted"] > 0
    for uid in mutated.deleted:
        entity = await store.get_entity("User", uid)
        assert entity.status == "tobedeleted"
        assert entity.data["status"] == "tobedeleted"
        assert entity.version == 2
    for uid in mutated.changed:
        assert (await store.get_entity("User", uid)).version == 2
    ops = [(c.stable_id, c.op) for c in await store.changes_after(0, limit=100000, types=["User"])]
    assert sum(1 for _, op in ops if op == "deleted") == len(mutated.deleted)
    # a deleted record coming back is an update to active, not a duplicate
    shutil.rmtree(work)
    shutil.copytree(path, work)
    back = await SyncEngine(hub).sync(store, "sis")
    assert back.per_stream["users"]["updated"] == len(mutated.changed) + len(mutated.deleted)
    assert back.created == 0


async def test_bad_records_go_to_the_error_report_and_good_ones_land(hub: Any, small_bundle: Any,
                                                                    tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", bundle_with_bad_users(path, tmp_path / "bundle", extra_cell=True))
    summary = await SyncEngine(hub).sync(store, "sis")
    assert summary.status == "succeeded"
    assert summary.per_stream["users"]["errors"] == 2
    assert summary.per_stream["users"]["created"] == stats.counts["users"] - 2
    total, errors = await store.run_errors(summary.run_id, severity="error")
    assert total == 2
    refs = {e.ref for e in errors}
    assert refs == {"users.csv:2", "users.csv:3"}
    bad = next(e for e in errors if e.ref == "users.csv:2")
    assert bad.field == "enabledUser" and bad.stream == "users" and bad.message
    assert await table_count(hub, run_errors, run_id=summary.run_id, severity="error") == 2
    # the enrollments of the two rejected users are kept, each with a warning (see test_references.py)
    assert summary.warnings == summary.per_stream["enrollments"]["warnings"] > 0


async def test_password_values_never_reach_the_error_report(hub: Any, tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    bundle = tmp_path / "b11"
    (bundle).mkdir()
    (bundle / "manifest.csv").write_text(
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\n"
        + "".join(f"file.{n},absent\n" for n in ("orgs", "academicSessions", "courses", "classes", "enrollments",
                                                  "demographics")), encoding="utf-8")
    (bundle / "users.csv").write_text(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
        "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n"
        "u1,active,,notabool,o1,student,kid1,,Ann,Lee,,,,,,,,Hunter2-Secret\n", encoding="utf-8")
    store = await add_csv_source(hub, "legacy", bundle)
    summary = await SyncEngine(hub).sync(store, "legacy")
    assert summary.errors == 1
    async with hub.db.connect() as conn:
        rows = (await conn.execute(select(run_errors.c.message, run_errors.c.field, run_errors.c.ref))).all()
        stored = (await conn.execute(select(entities.c.data))).all()
    assert rows and all("Hunter2-Secret" not in " ".join(str(v) for v in row) for row in rows)
    assert all("Hunter2-Secret" not in str(row) for row in stored)


async def test_dry_run_reports_changes_and_writes_nothing(hub: Any, small_bundle: Any) -> None:
    from hub.sync import SyncEngine

    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    summary = await SyncEngine(hub).sync(store, "sis", dry_run=True)
    assert summary.dry_run and summary.created == expected_rows(stats)
    assert await table_count(hub, entities) == 0
    assert await table_count(hub, changes) == 0
    assert await store.last_seq() == 0
    run = await store.get_run(summary.run_id)
    assert run.dry_run and run.created == summary.created and run.status == "succeeded"
    real = await SyncEngine(hub).sync(store, "sis")
    assert real.created == summary.created


async def test_source_level_errors_fail_the_run_before_anything_is_written(hub: Any, small_bundle: Any,
                                                                          tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    path, _ = small_bundle
    work = tmp_path / "bundle"
    shutil.copytree(path, work)
    (work / "enrollments.csv").unlink()
    store = await add_csv_source(hub, "sis", work)
    with pytest.raises(SourceDataError, match="enrollments"):
        await SyncEngine(hub).sync(store, "sis")
    assert await table_count(hub, entities) == 0
    runs = await store.list_runs()
    assert runs[0].status == "failed" and "enrollments" in (runs[0].message or "")


async def test_mapping_error_fails_the_run_before_anything_is_written(hub_env: dict[str, str], small_bundle: Any,
                                                                     tmp_path: Path) -> None:
    from hub.context import Hub
    from hub.settings import load_settings
    from hub.sync import SyncEngine

    overrides = tmp_path / "overrides"
    (overrides / "default" / "oneroster_csv").mkdir(parents=True)
    (overrides / "default" / "oneroster_csv" / "orgs.yaml").write_text(
        "connector: oneroster_csv\nstream: orgs\ntarget: Org\nid: {path: sourcedId}\nfields:\n  nmae: {path: name}\n",
        encoding="utf-8")
    hub = Hub.from_settings(load_settings(mapping_dir=overrides))
    try:
        await hub.db.migrate()
        await hub.store.ensure_tenant("default")
        store = await add_csv_source(hub, "sis", small_bundle[0])
        with pytest.raises(MappingError, match="orgs.yaml"):
            await SyncEngine(hub).sync(store, "sis")
        assert await table_count(hub, entities) == 0
    finally:
        await hub.close()


async def test_observers_see_committed_change_events_and_the_run(hub_env: dict[str, str], small_bundle: Any) -> None:
    from hub.context import Hub
    from hub.settings import load_settings
    from hub.sync import SyncEngine

    seen: list[Any] = []
    finished: list[Any] = []

    class Observer:
        @hookimpl
        def on_change_events(self, events: Any) -> None:
            seen.extend(events)

        @hookimpl
        def on_sync_finished(self, summary: Any) -> None:
            finished.append(summary)

    class Broken:
        @hookimpl
        def on_change_events(self, events: Any) -> None:
            raise RuntimeError("observer bug")

    hub = Hub.from_settings(load_settings(), extra_plugins=[("observer", Observer()), ("broken", Broken())])
    try:
        await hub.db.migrate()
        await hub.store.ensure_tenant("default")
        store = await add_csv_source(hub, "sis", small_bundle[0])
        summary = await SyncEngine(hub).sync(store, "sis")
    finally:
        await hub.close()
    assert [e.seq for e in seen] == list(range(1, summary.created + 1))
    assert {e.op for e in seen} == {"created"} and all(e.tenant == "default" for e in seen)
    assert finished and finished[0].run_id == summary.run_id and finished[0].created == summary.created


async def test_the_finished_run_is_logged_with_its_counts(hub: Any, small_bundle: Any,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Services log at INFO: the summary line must not clash with LogRecord attributes (``created``)."""
    import logging

    from hub.sync import SyncEngine

    caplog.set_level(logging.INFO, logger="fediflow.sync")
    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    summary = await SyncEngine(hub).sync(store, "sis")
    line = next(r for r in caplog.records if r.getMessage() == "sync finished")
    assert line.__dict__["counts"] == {"created": summary.created, "updated": 0, "deleted": 0, "unchanged": 0,
                                       "errors": 0, "warnings": 0}
    assert line.__dict__["run"] == summary.run_id and summary.created == expected_rows(stats)


async def test_a_first_sync_looks_up_stable_ids_another_writer_inserted_meanwhile(hub: Any, small_bundle: Any,
                                                                                  monkeypatch: Any) -> None:
    """A type the tenant has no entity of is written without per-batch lookups; when another writer
    inserts one of a batch's stable ids before the batch's write, the unique index stops that write
    and the batch is classified against the store and written again (nothing lost, nothing twice)."""
    from datetime import UTC, datetime

    from hub.store._writer import BatchWriter
    from hub.sync import SyncEngine

    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    other = await store.get_source("sis")  # the same source's row, as another run's write would leave it
    original = BatchWriter._in_process
    raced: list[str] = []

    async def racing_write(self: BatchWriter, write: Any) -> int | None:
        if write.inserts and write.inserts[0][1] == "Org" and not raced:
            tenant_id, type_, stable_id = write.inserts[0][:3]
            now = datetime.now(UTC)
            async with hub.db.begin() as conn:
                await conn.execute(entities.insert().values(
                    tenant_id=tenant_id, type=type_, stable_id=stable_id, source_id=other.id,
                    data={"sourcedId": stable_id}, hash=b"\0" * 16, version=1, status="active",
                    created_at=now, updated_at=now))
            raced.append(stable_id)
        return await original(self, write)

    monkeypatch.setattr(BatchWriter, "_in_process", racing_write)
    summary = await SyncEngine(hub).sync(store, "sis")

    assert summary.status == "succeeded" and summary.errors == 0
    assert summary.per_stream["orgs"]["created"] == stats.counts["orgs"] - 1
    assert summary.per_stream["orgs"]["updated"] == 1
    assert summary.created == expected_rows(stats) - 1
    assert await store.count_entities("Org") == stats.counts["orgs"]
    async with hub.db.connect() as conn:
        row = (await conn.execute(select(entities).where(entities.c.stable_id == raced[0]))).one()
        ops = (await conn.execute(select(changes.c.op, changes.c.version).where(changes.c.stable_id == raced[0]))).all()
    assert (row.version, row.data["sourcedId"], "name" in row.data) == (2, raced[0], True)
    assert [tuple(op) for op in ops] == [("updated", 2)]
    seqs = [c.seq for c in await store.changes_after(0, limit=100000)]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == expected_rows(stats)
