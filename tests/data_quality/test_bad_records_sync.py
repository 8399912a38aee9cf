"""The unit of failure is the record, never the run: damaged bundles synced on SQLite and PostgreSQL.

Every good record of every stream lands; a bad record is an error naming its file, true line and
field; a file that cannot be read stops its own stream (and marks nothing of it deleted); text a
database cannot hold is refused the same way on both; no report or run message holds SQL
parameters or record values.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from damage import (
    break_header,
    copy_bundle,
    header_only,
    inject_huge_cell,
    inject_invalid_utf8,
    inject_nul,
    put_cell,
)
from sqlalchemy import select

from hub.store._tables import changes, entities, run_errors, sync_runs

TYPES = {"orgs": "Org", "academicSessions": "AcademicSession", "courses": "Course", "classes": "Class",
         "users": "User", "enrollments": "Enrollment", "demographics": "Demographics"}


async def add_source(hub: Any, path: Path, name: str = "sis", **config: Any) -> Any:
    store = await hub.store.tenant("default")
    cls = hub.plugins.connector("oneroster_csv")
    await store.add_source(name, "oneroster_csv", store.validate_config(cls.config_model, {"path": str(path), **config}))
    return store


async def sync(hub: Any, store: Any, name: str = "sis") -> Any:
    from hub.sync import SyncEngine

    return await SyncEngine(hub).sync(store, name)


async def report(hub: Any, run_id: int) -> list[Any]:
    async with hub.db.connect() as conn:
        return list((await conn.execute(select(run_errors).where(run_errors.c.run_id == run_id)
                                        .order_by(run_errors.c.id))).all())


async def all_text_written(hub: Any) -> str:
    """Everything a run wrote that a person may read: report rows, run messages, entity and event data."""
    async with hub.db.connect() as conn:
        parts = [str(row) for row in (await conn.execute(select(run_errors))).all()]
        parts += [str(row.message) for row in (await conn.execute(select(sync_runs.c.message))).all()]
        parts += [str(row.data) for row in (await conn.execute(select(entities.c.data))).all()]
        parts += [str(row.data) for row in (await conn.execute(select(changes.c.data))).all()]
    return "\n".join(parts)


async def test_a_nul_in_one_cell_fails_that_record_only_on_every_database(hub: Any, clean_bundle: Any,
                                                                         tmp_path: Path) -> None:
    src, stats = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    hit = inject_nul(bundle, "users.csv", 5, "givenName")
    store = await add_source(hub, bundle)

    for attempt in range(2):  # and a rerun does the same, not the same failure
        summary = await sync(hub, store)
        assert summary.status == "succeeded", attempt
        assert summary.errors == 1
        for stream, type_ in TYPES.items():
            assert await store.count_entities(type_) == stats.counts[stream] - (stream == "users"), stream
        (row,) = [r for r in await report(hub, summary.run_id) if r.severity == "error"]
        assert (row.ref, row.field, row.severity) == (hit.ref, "givenName", "error")
        assert row.message.startswith("contains a NUL character (U+0000)")
    run = await store.get_run(summary.run_id)
    assert run.message is None
    written = await all_text_written(hub)
    assert "\x00" not in written and "\\u0000" not in written


async def test_invalid_utf8_fails_its_row_only_with_the_true_line(hub: Any, clean_bundle: Any,
                                                                tmp_path: Path) -> None:
    src, stats = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    hit = inject_invalid_utf8(bundle, "users.csv", 43, "familyName")
    store = await add_source(hub, bundle)
    summary = await sync(hub, store)
    assert summary.status == "succeeded" and summary.errors == 1
    assert summary.per_stream["users"]["created"] == stats.counts["users"] - 1
    assert summary.created == sum(stats.counts[s] for s in TYPES) - 1
    (row,) = [r for r in await report(hub, summary.run_id) if r.severity == "error"]
    assert (row.ref, row.field) == (hit.ref, "familyName") == ("users.csv:44", "familyName")
    assert "not valid UTF-8" in row.message


async def test_a_10_mb_cell_fails_its_row_and_later_streams_are_read(hub: Any, clean_bundle: Any,
                                                                   tmp_path: Path) -> None:
    src, stats = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    hit = inject_huge_cell(bundle, "users.csv", 7, "middleName")
    store = await add_source(hub, bundle)
    summary = await sync(hub, store)
    assert summary.status == "succeeded" and summary.errors == 1
    assert summary.per_stream["users"]["created"] == stats.counts["users"] - 1
    assert summary.per_stream["enrollments"]["created"] == stats.counts["enrollments"]
    assert summary.per_stream["demographics"]["created"] == stats.counts["demographics"]
    (row,) = [r for r in await report(hub, summary.run_id) if r.severity == "error"]
    assert (row.ref, row.field) == (hit.ref, "middleName")
    assert "xxxx" not in await all_text_written(hub)


async def test_a_header_problem_stops_its_stream_only_and_deletes_nothing(hub: Any, clean_bundle: Any,
                                                                        tmp_path: Path) -> None:
    src, stats = clean_bundle
    work = copy_bundle(src, tmp_path / "work")
    store = await add_source(hub, work)
    first = await sync(hub, store)
    assert first.errors == 0

    shutil.rmtree(work)
    copy_bundle(src, work)
    break_header(work, "enrollments.csv", "classSourcedId")
    put_cell(work, "users.csv", 2, "givenName", b"Changed")
    summary = await sync(hub, store)
    assert summary.status == "succeeded"
    assert summary.errors == 1 and summary.deleted == 0
    assert summary.per_stream["users"]["updated"] == 1  # the streams after and before go on
    assert summary.per_stream["demographics"]["unchanged"] == stats.counts["demographics"]
    (row,) = [r for r in await report(hub, summary.run_id) if r.severity == "error"]
    assert (row.stream, row.ref, row.field) == ("enrollments", "enrollments.csv", None)
    assert "missing required column(s): classSourcedId" in row.message
    assert "no record of it was marked deleted" in row.message
    run = await store.get_run(summary.run_id)
    assert run.message == "stream(s) stopped, the rest of the run went on: enrollments (see the run's errors)"
    async with hub.db.connect() as conn:
        statuses = {s for (s,) in await conn.execute(select(entities.c.status)
                                                      .where(entities.c.type == "Enrollment"))}
    assert statuses == {"active"} and await store.count_entities("Enrollment") == stats.counts["enrollments"]


async def test_a_header_only_optional_file_lacking_a_required_column_is_no_error(hub: Any, clean_bundle: Any,
                                                                                tmp_path: Path) -> None:
    src, stats = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    header_only(bundle, "demographics.csv", drop="sourcedId")
    store = await add_source(hub, bundle)
    summary = await sync(hub, store)
    assert summary.status == "succeeded" and summary.errors == 0
    assert summary.created == sum(stats.counts[s] for s in TYPES if s != "demographics")


async def test_database_errors_never_carry_parameters(hub: Any) -> None:
    """A statement the database refuses: the error's text holds neither the SQL's values nor the SQL."""
    from sqlalchemy import insert

    from hub.errors import StoreError
    from hub.store._tables import tenants

    secret = "ann.lee@school.example.org"
    with pytest.raises(Exception) as info:
        async with hub.db.begin() as conn:
            await conn.execute(insert(tenants).values(id=1, slug="default", name=secret))
    assert secret not in str(info.value)
    with pytest.raises(StoreError) as refused:
        async with hub.db.begin() as conn:
            await conn.exec_driver_sql("SELECT * FROM no_such_table_here")
    assert "SELECT" not in str(refused.value) and len(str(refused.value)) < 300


async def test_what_real_sis_exports_get_wrong_is_read_with_one_warning_each(hub: Any, clean_bundle: Any,
                                                                           tmp_path: Path) -> None:
    from damage import enum_in_another_case, rename_column, trailing_empty_columns, us_date

    src, stats = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    scheduled = enum_in_another_case(bundle, "classes.csv", 3, "classType", "scheduled")
    active = put_cell(bundle, "courses.csv", 4, "status", b"Active")
    us = us_date(bundle, "enrollments.csv", 5, "beginDate")
    trailing = trailing_empty_columns(bundle, "roles.csv", extra=2)
    rename_column(bundle, "users.csv", "userIds", "userId", {"{SIS:100001}": "100001"})
    store = await add_source(hub, bundle, date_format="%m/%d/%Y")
    summary = await sync(hub, store)

    assert summary.status == "succeeded" and summary.errors == 0
    assert summary.created == sum(stats.counts[s] for s in TYPES)
    rows = await report(hub, summary.run_id)
    warned = {(r.ref, r.field): r for r in rows if r.severity == "warning"}
    expected = {(scheduled.ref, "classType"), (active.ref, "status"), (us.ref, "beginDate"),
                ("users.csv:2", None), ("users.csv:2", "userId")}
    mine = {key: row for key, row in warned.items() if key in expected}
    assert set(mine) == expected
    assert not any(r.field in ("classType", "status", "beginDate", "userId") for k, r in warned.items()
                   if k not in expected)  # one warning per tolerated value, no more
    assert "'Scheduled' read as 'scheduled'" in mine[scheduled.ref, "classType"].message
    assert "'1/05/2023' read as '2023-01-05'" in mine[us.ref, "beginDate"].message
    assert trailing.file in mine["users.csv:2", None].message
    assert summary.warnings >= len(mine)

    users = {u.stable_id: u.data for u in await store.list_entities("User", limit=1000)}
    assert users["usr-0000001"]["userIds"] == [{"type": "userId", "identifier": "100001"}]
    assert all(len(u["roles"]) >= 1 for u in users.values())  # roles.csv read despite its header
    enrollment = next(e.data for e in await store.list_entities("Enrollment", limit=1000)
                      if e.data.get("beginDate") == "2023-01-05")
    assert enrollment


async def test_without_a_date_format_a_us_date_stays_a_record_error(hub: Any, clean_bundle: Any,
                                                                    tmp_path: Path) -> None:
    src, _ = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    hit = put_cell(bundle, "enrollments.csv", 5, "beginDate", b"1/05/2023")
    store = await add_source(hub, bundle)
    summary = await sync(hub, store)
    (row,) = [r for r in await report(hub, summary.run_id) if r.severity == "error"]
    assert (row.ref, row.field) == (hit.ref, "beginDate") and summary.errors == 1


@pytest.mark.parametrize(("file", "stream", "type_"), [("enrollments.csv", "enrollments", "Enrollment"),
                                                       ("users.csv", "users", "User")])
async def test_a_file_that_breaks_mid_read_keeps_what_was_read_and_deletes_nothing(
        hub: Any, clean_bundle: Any, tmp_path: Path, file: str, stream: str, type_: str) -> None:
    from damage import zip_with_bad_crc

    src, stats = clean_bundle
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(src.iterdir()):
            zf.write(path, path.name)
    store = await add_source(hub, archive)
    assert (await sync(hub, store)).errors == 0

    smaller = copy_bundle(src, tmp_path / "smaller")
    lines = (smaller / file).read_bytes().splitlines(keepends=True)
    (smaller / file).write_bytes(b"".join(lines[:-1]))  # one record gone upstream
    zip_with_bad_crc(smaller, archive.with_name("tmp.zip"), file)
    shutil.move(archive.with_name("tmp.zip"), archive)
    summary = await sync(hub, store)
    assert summary.status == "succeeded" and summary.deleted == 0
    (row,) = [r for r in await report(hub, summary.run_id) if r.severity == "error"]
    assert (row.stream, row.ref) == (stream, file) and "CRC" in row.message
    assert summary.per_stream["demographics"]["unchanged"] == stats.counts["demographics"]
    assert await store.count_entities(type_) == stats.counts[stream]


async def test_text_no_database_can_hold_from_any_connector(hub: Any, clean_bundle: Any, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """What a connector other than the CSV one may yield: a lone surrogate in a value (pydantic cannot
    encode it) and a NUL in a record's ref. The first is a record error naming the field; the second
    is written escaped in the report. The same on both databases."""
    import connectors.oneroster_csv.connector as csv_connector
    from hub.sdk import RawRecord

    real = csv_connector.iter_records

    def odd(*args: Any, **kwargs: Any) -> Any:
        for record in real(*args, **kwargs):
            if record.ref == "users.csv:3":
                record = record._replace(data={**record.data, "familyName": "M\udcffller"})
            elif record.ref == "users.csv:4":
                record = RawRecord({}, "users.csv:4\x00", "unreadable", field="given\x00Name")
            yield record

    monkeypatch.setattr(csv_connector, "iter_records", odd)
    src, stats = clean_bundle
    store = await add_source(hub, src)
    summary = await sync(hub, store)
    assert summary.status == "succeeded" and summary.errors == 2
    assert summary.per_stream["users"]["created"] == stats.counts["users"] - 2
    rows = {(r.ref, r.field): r.message for r in await report(hub, summary.run_id) if r.severity == "error"}
    assert set(rows) == {("users.csv:3", "familyName"), ("users.csv:4\\x00", "given\\x00Name")}
    assert rows["users.csv:3", "familyName"].startswith("contains text that is not valid Unicode")


async def test_a_delta_file_that_cannot_be_read_is_reported_too(hub: Any, clean_bundle: Any, tmp_path: Path) -> None:
    src, _ = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    manifest = (bundle / "manifest.csv").read_text()
    (bundle / "manifest.csv").write_text(manifest.replace("file.enrollments,bulk", "file.enrollments,delta"))
    break_header(bundle, "enrollments.csv", "userSourcedId")
    store = await add_source(hub, bundle)
    summary = await sync(hub, store)
    (row,) = [r for r in await report(hub, summary.run_id) if r.severity == "error"]
    assert (row.stream, row.ref) == ("enrollments", "enrollments.csv") and "userSourcedId" in row.message


async def test_a_broken_roles_file_stops_the_users_stream_only(hub: Any, clean_bundle: Any, tmp_path: Path) -> None:
    src, stats = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    break_header(bundle, "roles.csv", "roleType")
    store = await add_source(hub, bundle)
    summary = await sync(hub, store)
    assert summary.status == "succeeded" and summary.per_stream["users"]["created"] == 0
    assert summary.per_stream["enrollments"]["created"] == stats.counts["enrollments"]
    (row,) = [r for r in await report(hub, summary.run_id) if r.severity == "error"]
    assert (row.stream, row.ref) == ("users", "roles.csv") and "roleType" in row.message
