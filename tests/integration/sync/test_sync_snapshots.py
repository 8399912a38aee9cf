"""Streams whose files have not changed since their last clean, complete read are not read again
(hub.sync._snapshots), and everything that could change the outcome makes the engine read them."""

from __future__ import annotations

import logging
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sync_support import add_csv_source, bundle_with_bad_users

from hub.store._sync_ops import load_stream_state
from hub.store._tables import entities, sources

TYPES = {"orgs": "Org", "academicSessions": "AcademicSession", "courses": "Course", "classes": "Class",
         "users": "User", "enrollments": "Enrollment", "demographics": "Demographics"}
SKIPPED = "stream unchanged since its last complete read, not read again"


def skipped_streams(caplog: pytest.LogCaptureFixture) -> set[str]:
    return {r.__dict__["stream"] for r in caplog.records if r.getMessage() == SKIPPED}


@pytest.fixture
def sync_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    # the skip is logged at debug level (an idle sync logs one info line)
    caplog.set_level(logging.DEBUG, logger="fediflow.sync")
    return caplog


async def sync(hub: Any, store: Any, caplog: pytest.LogCaptureFixture, **kwargs: Any) -> tuple[Any, set[str]]:
    from hub.sync import SyncEngine

    caplog.clear()
    summary = await SyncEngine(hub).sync(store, "sis", **kwargs)
    assert summary.status == "succeeded"
    return summary, skipped_streams(caplog)


async def test_unchanged_bundle_is_not_read_again_and_counts_as_unchanged(hub: Any, small_bundle: Any,
                                                                          sync_log: Any) -> None:
    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    first, skipped = await sync(hub, store, sync_log)
    assert skipped == set()
    seq = await store.last_seq()

    again, skipped = await sync(hub, store, sync_log)
    assert skipped == set(TYPES)
    assert (again.created, again.updated, again.deleted, again.errors) == (0, 0, 0, 0)
    for stream in TYPES:
        assert again.per_stream[stream]["unchanged"] == stats.counts[stream], stream
    assert await store.last_seq() == seq, "no change event"

    # the snapshot is carried forward: a third run skips as well
    third, skipped = await sync(hub, store, sync_log)
    assert skipped == set(TYPES) and third.unchanged == first.created


async def test_a_changed_file_is_read_and_the_others_are_not(hub: Any, small_bundle: Any, sync_log: Any,
                                                            tmp_path: Path) -> None:
    path, stats = small_bundle
    work = tmp_path / "bundle"
    shutil.copytree(path, work)
    store = await add_csv_source(hub, "sis", work)
    await sync(hub, store, sync_log)
    lines = (work / "courses.csv").read_text(encoding="utf-8").splitlines()
    lines.pop()  # one course removed upstream
    (work / "courses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    again, skipped = await sync(hub, store, sync_log)
    assert skipped == set(TYPES) - {"courses"}
    assert again.per_stream["courses"]["deleted"] == 1
    assert again.per_stream["courses"]["unchanged"] == stats.counts["courses"] - 1

    # a roles.csv change is a change of the users stream (roles are folded into users)
    roles = work / "roles.csv"
    if roles.exists():
        rows = roles.read_text(encoding="utf-8").splitlines()
        roles.write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")
        _, skipped = await sync(hub, store, sync_log)
        assert "users" not in skipped and "courses" in skipped


async def test_any_write_to_the_entities_since_makes_the_stream_read_again(hub: Any, small_bundle: Any,
                                                                          sync_log: Any) -> None:
    path, _ = small_bundle
    store = await add_csv_source(hub, "sis", path)
    await sync(hub, store, sync_log)
    some_user = (await store.get_entity("User", next(iter(await _ids(hub, "User")))))
    async with hub.db.begin() as conn:  # as if an operator or another writer had touched one user
        await conn.execute(update(entities).where(entities.c.stable_id == some_user.stable_id,
                                                  entities.c.type == "User").values(version=entities.c.version + 1))

    again, skipped = await sync(hub, store, sync_log)
    assert "users" not in skipped and "enrollments" in skipped
    assert again.per_stream["users"]["errors"] == 0
    # read again, the users stream saved a fresh snapshot
    _, skipped = await sync(hub, store, sync_log)
    assert "users" in skipped


async def test_record_errors_full_refresh_and_other_mappings_disable_the_shortcut(hub: Any, small_bundle: Any,
                                                                                 sync_log: Any,
                                                                                 tmp_path: Path) -> None:
    path, _ = small_bundle
    store = await add_csv_source(hub, "sis", bundle_with_bad_users(path, tmp_path / "bundle"))
    await sync(hub, store, sync_log)

    again, skipped = await sync(hub, store, sync_log)
    assert "users" not in skipped, "a stream with record errors is read again and reports them again"
    assert again.per_stream["users"]["errors"] == 1
    assert "orgs" in skipped

    full, skipped = await sync(hub, store, sync_log, full_refresh=True)
    assert skipped == set()
    assert full.updated == 0 and full.created == 0


async def test_zip_bundles_and_dry_runs(hub: Any, small_bundle: Any, sync_log: Any, tmp_path: Path) -> None:
    path, stats = small_bundle
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(path.iterdir()):
            zf.write(file, f"export/{file.name}")
    store = await add_csv_source(hub, "sis", archive)
    await sync(hub, store, sync_log)
    dry, skipped = await sync(hub, store, sync_log, dry_run=True)
    assert skipped == set(TYPES)
    assert dry.unchanged == sum(stats.counts[s] for s in TYPES) and dry.created == 0

    async with hub.db.connect() as conn:
        source_id = (await conn.execute(select(sources.c.id).where(sources.c.name == "sis"))).scalar_one()
        state = await load_stream_state(conn, source_id, "enrollments")
    assert state is not None and state.done and state.snapshot is not None
    assert state.snapshot["records"] == stats.counts["enrollments"]


async def _ids(hub: Any, type_: str) -> list[str]:
    async with hub.db.connect() as conn:
        return list((await conn.execute(select(entities.c.stable_id).where(entities.c.type == type_))).scalars())
