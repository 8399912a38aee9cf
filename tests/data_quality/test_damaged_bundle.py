"""Issue 11's acceptance: a generated bundle with about a thousand damaged rows of every kind syncs
with every undamaged record stored, one error per damaged record at its true line and field, one
warning per tolerated value, its unreadable file stopping only its own stream, dangling references
reported, and a rerun that changes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from damage import (
    Damaged,
    break_header,
    copy_bundle,
    data_lines,
    enum_in_another_case,
    inject_huge_cell,
    inject_invalid_utf8,
    inject_nul,
    put_cell,
    trailing_empty_columns,
    us_date,
)
from sqlalchemy import select

from hub.demo import generate_bundle
from hub.store._tables import entities, run_errors

pytestmark = pytest.mark.slow

TYPES = {"orgs": "Org", "academicSessions": "AcademicSession", "courses": "Course", "classes": "Class",
         "users": "User", "enrollments": "Enrollment", "demographics": "Demographics"}


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, list[Damaged], list[Damaged]]:
    """(bundle, clean stats, damages that are errors, damages that are warnings)."""
    root = tmp_path_factory.mktemp("damaged")
    stats = generate_bundle(root / "clean", users=1500, seed=11)
    bundle = copy_bundle(root / "clean", root / "bundle")
    rng = random.Random(11)
    users = rng.sample(range(1, data_lines(bundle, "users.csv") + 1), 560)
    enrollments = rng.sample(range(1, data_lines(bundle, "enrollments.csv") + 1), 400)
    classes = rng.sample(range(1, data_lines(bundle, "classes.csv") + 1), 60)
    errors: list[Damaged] = []
    warnings: list[Damaged] = []
    for row in users[:180]:
        errors.append(inject_nul(bundle, "users.csv", row, "givenName"))
    for row in users[180:360]:
        errors.append(inject_invalid_utf8(bundle, "users.csv", row, "familyName"))
    for row in users[360:559]:
        errors.append(put_cell(bundle, "users.csv", row, "enabledUser", b"perhaps", "not a boolean"))
    errors.append(inject_huge_cell(bundle, "users.csv", users[559], "middleName"))
    for row in enrollments[:200]:
        errors.append(us_date(bundle, "enrollments.csv", row, "beginDate"))
    for row in enrollments[200:]:
        line = (bundle / "enrollments.csv").read_bytes().splitlines()[row].decode()
        role = next(r for r in ("student", "teacher", "administrator", "aide", "guardian", "parent", "proctor")
                    if f",{r}," in line)
        warnings.append(enum_in_another_case(bundle, "enrollments.csv", row, "role", role))
    for row in classes:
        warnings.append(enum_in_another_case(bundle, "classes.csv", row, "classType", "scheduled"))
    warnings.append(trailing_empty_columns(bundle, "roles.csv"))
    errors.append(break_header(bundle, "demographics.csv", "sourcedId"))
    return bundle, stats, errors, warnings


async def _report(hub: Any, run_id: int, severity: str) -> list[Any]:
    async with hub.db.connect() as conn:
        return list((await conn.execute(select(run_errors).where(
            run_errors.c.run_id == run_id, run_errors.c.severity == severity))).all())


async def _rows(hub: Any) -> list[tuple[Any, ...]]:
    async with hub.db.connect() as conn:
        return sorted(tuple(r) for r in await conn.execute(
            select(entities.c.type, entities.c.stable_id, entities.c.hash, entities.c.version, entities.c.status)))


async def test_a_thousand_damaged_rows_cost_only_themselves(hub: Any, damaged: Any) -> None:
    from hub.sync import SyncEngine

    bundle, stats, errors, warnings = damaged
    assert len(errors) + len(warnings) >= 1000
    store = await hub.store.tenant("default")
    cls = hub.plugins.connector("oneroster_csv")
    await store.add_source("sis", "oneroster_csv", store.validate_config(cls.config_model, {"path": str(bundle)}))
    summary = await SyncEngine(hub).sync(store, "sis")
    assert summary.status == "succeeded", summary

    # every damaged record: one error at its true line and field; the unreadable file: one error
    reported = {(r.ref, r.field) for r in await _report(hub, summary.run_id, "error")}
    expected = {(d.ref, d.field if d.line is not None else None) for d in errors}
    assert expected <= reported
    assert len(reported) == len(expected) == summary.errors
    warned = await _report(hub, summary.run_id, "warning")
    assert {d.ref for d in warnings if d.line != 1} <= {r.ref for r in warned}
    # a file-level tolerance is told once, on the stream's first record, naming the file
    assert any(r.message.startswith("roles.csv: the header ends with 2 empty cell(s)") for r in warned)

    # every undamaged record is stored; the stream of the broken file stopped alone
    failed = {stream: sum(1 for d in errors if d.file == f"{stream}.csv" and d.line is not None) for stream in TYPES}
    for stream, type_ in TYPES.items():
        want = 0 if stream == "demographics" else stats.counts[stream] - failed[stream]
        assert await store.count_entities(type_) == want, stream

    # enrollments of users that were refused point nowhere: reported, not silently stored
    dangling = [r for r in warned if r.stream == "enrollments" and r.field == "user"]
    assert dangling

    # a rerun of the same bundle changes nothing
    before = await _rows(hub)
    again = await SyncEngine(hub).sync(store, "sis")
    assert (again.status, again.created, again.updated, again.deleted) == ("succeeded", 0, 0, 0)
    assert again.errors == summary.errors
    assert await _rows(hub) == before
