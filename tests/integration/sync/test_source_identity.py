"""Source-scoped identity: two sources of one tenant never overwrite each other, and records of
several sources that describe one person are linked by the configured match rules, never merged.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sync_support import add_csv_source

from hub.store import SourceOptions
from hub.store._links import EntityLinks
from hub.store._tables import entities

UNIT = Path(__file__).parents[2] / "unit" / "connectors"


async def _versions(hub: Any) -> dict[tuple[str, str], int]:
    async with hub.db.connect() as conn:
        rows = await conn.execute(select(entities.c.type, entities.c.stable_id, entities.c.version))
        return {(t, s): v for t, s, v in rows}


async def test_a_second_source_gets_an_id_prefix_and_the_first_keeps_bare_ids(hub: Any, small_bundle: Any) -> None:
    path, _ = small_bundle
    store = await add_csv_source(hub, "sis", path)
    await add_csv_source(hub, "lms", path)
    assert (await store.get_source("sis")).options.id_prefix == ""
    assert (await store.get_source("lms")).options.id_prefix == "lms:"


async def test_two_sources_with_the_same_ids_never_overwrite_each_other(hub: Any, small_bundle: Any) -> None:
    """Both sources number their records alike: with prefixes both are kept whole; references of
    the second source point at its own records; four syncs change nothing."""
    from hub.sync import SyncEngine

    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    await add_csv_source(hub, "lms", path)
    engine = SyncEngine(hub)
    for _ in range(4):
        for name in ("sis", "lms"):
            summary = await engine.sync(store, name)
            assert summary.status == "succeeded" and summary.errors == 0
    versions = await _versions(hub)
    assert set(versions.values()) == {1}
    users = stats.counts["users"]
    assert await store.count_entities("User") == 2 * users
    enrollment = next(e for e in await store.list_entities("Enrollment", limit=10_000) if e.stable_id.startswith("lms:"))
    assert enrollment.data["user"]["sourcedId"].startswith("lms:")
    assert enrollment.data["class"]["sourcedId"].startswith("lms:")
    bare = next(e for e in await store.list_entities("Enrollment", limit=10_000) if not e.stable_id.startswith("lms:"))
    assert not bare.data["user"]["sourcedId"].startswith("lms:")


async def test_without_a_prefix_a_second_source_cannot_take_over_records(hub: Any, small_bundle: Any) -> None:
    from hub.sync import SyncEngine

    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    cls = hub.plugins.connector("oneroster_csv")
    await store.add_source("other", "oneroster_csv", store.validate_config(cls.config_model, {"path": str(path)}),
                           SourceOptions(id_prefix=""))
    engine = SyncEngine(hub)
    await engine.sync(store, "sis")
    before = await _versions(hub)
    summary = await engine.sync(store, "other")
    assert summary.created == 0 and summary.updated == 0
    assert summary.errors == summary.unchanged + summary.errors and summary.errors > 0
    errors = (await store.run_errors(summary.run_id, limit=5))[1]
    assert errors and all("belongs to another source" in e.message and e.field == "sourcedId" for e in errors)
    assert await _versions(hub) == before
    sis = await store.get_source("sis")
    async with hub.db.connect() as conn:
        owners = (await conn.execute(select(func.count()).where(entities.c.source_id != sis.id))).scalar_one()
    assert owners == 0


async def test_records_of_two_sources_with_one_identifier_are_linked_by_precedence(hub: Any, small_bundle: Any) -> None:
    from hub.sync import SyncEngine

    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    await add_csv_source(hub, "lms", path)
    engine = SyncEngine(hub)
    await engine.sync(store, "sis")
    await engine.sync(store, "lms")
    links = EntityLinks(store)
    user = next(e for e in await store.list_entities("User", limit=10_000) if not e.stable_id.startswith("lms:"))
    group = await links.group_of("User", user.stable_id)
    assert [(r.sourcedId, r.source, r.primary) for r in group] == [
        (user.stable_id, "sis", True), ("lms:" + user.stable_id, "lms", False)]
    assert await links.primaries("User", ["lms:" + user.stable_id, user.stable_id]) == {
        "lms:" + user.stable_id: user.stable_id}
    # every user of the bundle has an identifier: all are linked, none of the sis records points anywhere
    async with hub.db.connect() as conn:
        linked = (await conn.execute(select(func.count()).where(entities.c.type == "User",
                                                                entities.c.linked_to.is_not(None)))).scalar_one()
    assert linked == stats.counts["users"]

    # precedence decides which record is shown: the lms wins once it has the lower number
    await store.set_source_options("lms", SourceOptions(id_prefix="lms:", precedence=1))
    await engine.sync(store, "sis")
    group = await links.group_of("User", user.stable_id)
    assert [(r.source, r.primary) for r in group] == [("lms", True), ("sis", False)]
    # nothing was overwritten: each record keeps its own version
    assert set((await _versions(hub)).values()) == {1}


def _fakes() -> Any:
    for name in ("canvas", "moodle"):
        folder = str(UNIT / name)
        if folder not in sys.path:
            sys.path.insert(0, folder)
    from canvas_fake import BASE_URL as CANVAS_URL
    from canvas_fake import TOKEN as CANVAS_TOKEN
    from canvas_fake import FakeCanvas
    from moodle_fake import BASE_URL as MOODLE_URL
    from moodle_fake import TOKEN as MOODLE_TOKEN
    from moodle_fake import FakeMoodle

    return FakeCanvas, FakeMoodle, {"base_url": CANVAS_URL, "access_token": CANVAS_TOKEN, "account_id": "1"}, {
        "base_url": MOODLE_URL, "wstoken": MOODLE_TOKEN}


async def test_a_canvas_and_a_moodle_source_show_no_version_churn_over_four_syncs(hub: Any) -> None:
    """Canvas and Moodle both number courses from 1: today's Course "2" flipped between them on
    every sync (version 1 -> 5 after four syncs). The fakes serve the vendors' documented payloads."""
    from hub.sync import SyncEngine

    fake_canvas, fake_moodle, canvas_config, moodle_config = _fakes()
    store = await hub.store.tenant("default")
    for name, config in (("canvas", canvas_config), ("moodle", moodle_config)):
        cls = hub.plugins.connector(name)
        await store.add_source(name, name, store.validate_config(cls.config_model, config))
    engine = SyncEngine(hub)
    with fake_canvas(), fake_moodle():
        for _ in range(4):
            for name in ("canvas", "moodle"):
                summary = await engine.sync(store, name)
                assert summary.status == "succeeded", summary
    versions = await _versions(hub)
    assert versions and max(versions.values()) == 1
    courses = {stable_id for (type_, stable_id) in versions if type_ == "Course"}
    assert any(c.startswith("moodle:") for c in courses) and any(not c.startswith("moodle:") for c in courses)


async def test_exports_show_one_record_per_linked_group(hub: Any, small_bundle: Any, tmp_path: Path) -> None:
    import csv

    from hub.export import export_tenant_oneroster_csv
    from hub.sync import SyncEngine

    path, stats = small_bundle
    store = await add_csv_source(hub, "sis", path)
    await add_csv_source(hub, "lms", path)
    engine = SyncEngine(hub)
    await engine.sync(store, "sis")
    await engine.sync(store, "lms")
    out = tmp_path / "export"
    await export_tenant_oneroster_csv(store, out)
    with (out / "users.csv").open(encoding="utf-8") as f:
        users = [row["sourcedId"] for row in csv.DictReader(f)]
    assert len(users) == stats.counts["users"] and not any(u.startswith("lms:") for u in users)
    with (out / "enrollments.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lms_rows = [row for row in rows if row["sourcedId"].startswith("lms:")]
    assert lms_rows and all(row["userSourcedId"] in set(users) for row in lms_rows)
