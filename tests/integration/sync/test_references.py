"""Reference checks after a run: dangling references are warnings in the run report, or, with the
source option ``references: reject``, records that are not kept (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sync_support import add_csv_source

from hub.store import SourceOptions
from hub.store._tables import changes, entities


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(rows)


def damaged_bundle(src: Path, dst: Path) -> dict[str, Any]:
    """A copy of ``src`` where one class is invalid (rejected by validation), one more class comes
    as ``tobedeleted`` (a first sync stores nothing of it), and one enrollment points at a user that
    does not exist."""
    shutil.copytree(src, dst)
    header, classes = _rows(dst / "classes.csv")
    rejected, deleted = classes[0]["sourcedId"], classes[1]["sourcedId"]
    classes[0]["classType"] = "not-a-class-type"
    classes[1]["status"] = "tobedeleted"
    _write(dst / "classes.csv", header, classes)
    header, enrollments = _rows(dst / "enrollments.csv")
    ghost_row = next(e for e in enrollments if e["classSourcedId"] not in (rejected, deleted))
    ghost_row["userSourcedId"] = "usr-ghost"
    _write(dst / "enrollments.csv", header, enrollments)
    return {
        "rejected": rejected,
        "deleted": deleted,
        "ghost": ghost_row["sourcedId"],
        "of_rejected": {e["sourcedId"] for e in enrollments if e["classSourcedId"] == rejected},
        "of_deleted": {e["sourcedId"] for e in enrollments if e["classSourcedId"] == deleted},
    }


async def test_a_clean_bundle_has_no_warnings(hub: Any, small_bundle: Any) -> None:
    from hub.sync import SyncEngine

    path, _ = small_bundle
    store = await add_csv_source(hub, "sis", path)
    summary = await SyncEngine(hub).sync(store, "sis")
    assert (summary.status, summary.errors, summary.warnings) == ("succeeded", 0, 0)
    assert (await store.get_run(summary.run_id)).warnings == 0


async def test_dangling_references_are_warnings_per_record(hub: Any, small_bundle: Any, tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    damage = damaged_bundle(small_bundle[0], tmp_path / "damaged")
    store = await add_csv_source(hub, "sis", tmp_path / "damaged")
    summary = await SyncEngine(hub).sync(store, "sis")

    expected = len(damage["of_rejected"]) + len(damage["of_deleted"]) + 1
    assert summary.status == "succeeded"
    assert summary.errors == 1  # the invalid class
    assert summary.warnings == expected
    assert summary.per_stream["enrollments"]["warnings"] == expected
    run = await store.get_run(summary.run_id)
    assert (run.errors, run.warnings) == (1, expected)

    total, warnings = await store.run_errors(summary.run_id, severity="warning", limit=1000)
    assert total == expected
    found = {(w.stream, w.ref, w.field, w.message) for w in warnings}
    for ref in damage["of_rejected"]:
        assert ("enrollments", ref, "class", f"class {damage['rejected']!r} is not in the store") in found
    for ref in damage["of_deleted"]:
        assert ("enrollments", ref, "class", f"class {damage['deleted']!r} is not in the store") in found
    assert ("enrollments", damage["ghost"], "user", "user 'usr-ghost' is not in the store") in found
    errors_total, errors = await store.run_errors(summary.run_id, severity="error")
    assert errors_total == 1 and errors[0].severity == "error" and (errors[0].field or "").startswith("classType")
    both, _ = await store.run_errors(summary.run_id)
    assert both == expected + 1
    # warn: the records are kept
    assert (await store.get_entity("Enrollment", damage["ghost"])).status == "active"


async def test_only_what_the_run_wrote_is_checked_again(hub: Any, small_bundle: Any, tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    damaged_bundle(small_bundle[0], tmp_path / "damaged")
    store = await add_csv_source(hub, "sis", tmp_path / "damaged")
    await SyncEngine(hub).sync(store, "sis")
    again = await SyncEngine(hub).sync(store, "sis")
    assert (again.created, again.updated, again.warnings) == (0, 0, 0)


async def test_records_pointing_at_what_the_run_marked_tobedeleted_are_warnings(hub: Any, small_bundle: Any,
                                                                               tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    bundle = shutil.copytree(small_bundle[0], tmp_path / "bundle")
    store = await add_csv_source(hub, "sis", bundle)
    await SyncEngine(hub).sync(store, "sis")
    header, classes = _rows(bundle / "classes.csv")
    gone = classes[2]["sourcedId"]
    classes[2]["status"] = "tobedeleted"
    _write(bundle / "classes.csv", header, classes)
    _, enrollments = _rows(bundle / "enrollments.csv")
    of_gone = {e["sourcedId"] for e in enrollments if e["classSourcedId"] == gone}
    assert of_gone

    again = await SyncEngine(hub).sync(store, "sis")
    assert (again.deleted, again.warnings) == (1, len(of_gone))
    _, warnings = await store.run_errors(again.run_id, severity="warning", limit=1000)
    assert {(w.ref, w.field, w.message) for w in warnings} == {
        (ref, "class", f"class {gone!r} is tobedeleted") for ref in of_gone}


async def test_reject_keeps_records_with_a_dangling_reference_out(hub: Any, small_bundle: Any,
                                                                  tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    damage = damaged_bundle(small_bundle[0], tmp_path / "damaged")
    store = await add_csv_source(hub, "sis", tmp_path / "damaged")
    await store.set_source_options("sis", SourceOptions(references="reject"))
    summary = await SyncEngine(hub).sync(store, "sis")

    refused = damage["of_rejected"] | damage["of_deleted"] | {damage["ghost"]}
    assert summary.status == "succeeded"
    assert summary.errors == 1 + len(refused)
    assert summary.warnings == 0
    total, errors = await store.run_errors(summary.run_id, severity="error", limit=1000)
    assert total == 1 + len(refused)
    by_field = {(e.field, e.message) for e in errors}
    assert ("user", "user 'usr-ghost' is not in the store") in by_field
    assert ("class", f"class {damage['deleted']!r} is not in the store") in by_field
    assert all(e.ref.startswith("enrollments.csv:") for e in errors if e.field in ("user", "class"))
    async with hub.db.connect() as conn:
        stored = set((await conn.execute(select(entities.c.stable_id).where(
            entities.c.type == "Enrollment", entities.c.stable_id.in_(refused)))).scalars())
        logged = set((await conn.execute(select(changes.c.stable_id).where(
            changes.c.entity_type == "Enrollment", changes.c.stable_id.in_(refused)))).scalars())
    assert stored == set() and logged == set(), "a refused record is never written, not even as a change"
