"""MappingRegistry (folders, overrides, tenants, cache) and preview."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import hub.mapping
from hub.errors import MappingError, NotFound
from hub.mapping import MappingRegistry, PreviewRow, load_mapping, preview
from hub.sdk import RawRecord


def mapping_text(stream: str = "people", given: str = "givenName", connector: str = "demo") -> str:
    return (
        f"connector: {connector}\nstream: {stream}\ntarget: Person\nid: sourcedId\n"
        f"fields:\n  username: username\n  givenName: {given}\n"
    )


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    shipped, plugin, tenants = tmp_path / "shipped", tmp_path / "plugin", tmp_path / "tenants"
    (shipped / "demo").mkdir(parents=True)
    (plugin / "demo").mkdir(parents=True)
    (tenants / "acme" / "demo").mkdir(parents=True)
    (shipped / "demo" / "people.yaml").write_text(mapping_text(given="first"))
    (shipped / "demo" / "groups.yaml").write_text(mapping_text("groups"))
    (plugin / "demo" / "people.yaml").write_text(mapping_text(given="second"))
    (tenants / "acme" / "demo" / "people.yaml").write_text(mapping_text(given="third"))
    (tenants / "acme" / "demo" / "extra.yaml").write_text(mapping_text("extra"))
    return {"shipped": shipped, "plugin": plugin, "tenants": tenants}


def given_of(registry: MappingRegistry, tenant: str | None = None) -> str:
    record = {"sourcedId": "u", "username": "x", "first": "1", "second": "2", "third": "3"}
    return registry.get("demo", "people", tenant).apply(record)["givenName"]


def test_later_folders_and_tenants_override(layout, types) -> None:
    registry = MappingRegistry([layout["shipped"], layout["plugin"]], types, tenant_dir=layout["tenants"])
    assert given_of(registry) == "2"
    assert given_of(registry, "acme") == "3"
    assert given_of(registry, "other") == "2"
    assert MappingRegistry([layout["plugin"], layout["shipped"]], types).get("demo", "people").path.parent.parent == layout["shipped"]
    assert registry.available("demo") == ["groups", "people"]
    assert registry.available("demo", tenant="acme") == ["extra", "groups", "people"]
    assert registry.available("nope") == []


def test_get_is_cached_and_reloads_a_changed_file(layout, types) -> None:
    registry = MappingRegistry([layout["shipped"]], types)
    first = registry.get("demo", "people")
    assert registry.get("demo", "people") is first
    path = layout["shipped"] / "demo" / "people.yaml"
    path.write_text(mapping_text(given="second") + "# changed\n")
    os.utime(path, ns=(1, 1))
    again = registry.get("demo", "people")
    assert again is not first and again.fingerprint != first.fingerprint
    assert given_of(registry) == "2"


def test_not_found_and_bad_names(layout, types) -> None:
    registry = MappingRegistry([layout["shipped"]], types)
    with pytest.raises(NotFound):
        registry.get("demo", "nothing")
    with pytest.raises(NotFound):
        registry.get("..", "people")
    with pytest.raises(NotFound):
        registry.get("demo", "people", tenant="../x")


def test_file_must_match_its_place(layout, types) -> None:
    (layout["shipped"] / "demo" / "moved.yaml").write_text(mapping_text("people"))
    registry = MappingRegistry([layout["shipped"]], types)
    with pytest.raises(MappingError) as info:
        registry.get("demo", "moved")
    assert info.value.line == 2 and "stream: people does not match" in info.value.detail


def test_check_all_lists_every_error_of_every_file(layout, types) -> None:
    (layout["shipped"] / "demo" / "broken.yaml").write_text(mapping_text("broken") + "  nope: x\n  age: {type: int}\n")
    (layout["tenants"] / "acme" / "demo" / "bad.yaml").write_text("connector: demo\nstream: [\n")
    (layout["plugin"] / "demo" / "wrongplace.yaml").write_text(mapping_text("people"))
    registry = MappingRegistry([layout["shipped"], layout["plugin"]], types, tenant_dir=layout["tenants"])
    errors = registry.check_all()
    where = sorted((Path(e.file or "").name, e.line) for e in errors)
    assert where == [("bad.yaml", 3), ("broken.yaml", 8), ("broken.yaml", 9), ("wrongplace.yaml", 2)]


def test_describe(layout, types) -> None:
    registry = MappingRegistry([layout["shipped"], layout["plugin"]], types, tenant_dir=layout["tenants"])
    rows = {(row.tenant, row.path.parent.parent.name, row.stream): row for row in registry.describe()}
    shipped = rows[(None, "shipped", "people")]
    assert shipped.target == "Person" and shipped.error is None
    assert shipped.overridden_by == (str(layout["plugin"] / "demo" / "people.yaml"), "tenant:acme")
    assert rows[(None, "plugin", "people")].overridden_by == ("tenant:acme",)
    assert rows[("acme", "acme", "people")].overridden_by == ()
    assert rows[(None, "shipped", "groups")].overridden_by == ()


async def _records(items: list[RawRecord], closed: list[bool]) -> AsyncIterator[RawRecord]:
    try:
        for item in items:
            yield item
    finally:
        closed.append(True)


async def test_preview(write, types) -> None:
    path = write(
        "connector: demo\nstream: people\ntarget: Person\nid: sourcedId\n"
        "fields:\n  username: username\n  dateLastModified: {path: changed, type: datetime}\n"
        "  apiToken: token\n  age: {path: age, type: int}\n"
    )
    mapping = load_mapping(path, types)
    items = [
        RawRecord({"sourcedId": "u1", "username": "a", "changed": "2025-01-01T00:00:00"}, "people.csv:2"),
        RawRecord({"sourcedId": "u2", "username": "b", "age": "old"}, "people.csv:3"),
        RawRecord({}, "people.csv:4", error="wrong number of columns"),
        RawRecord({"sourcedId": "u4", "username": "b", "token": ["s3cr3t-value"]}, "people.csv:5"),
        RawRecord({"sourcedId": "u5", "username": "e"}, "people.csv:6"),
    ]
    closed: list[bool] = []
    rows = await preview(mapping, _records(items, closed), limit=4)
    assert closed == [True]
    assert rows[0] == PreviewRow("people.csv:2", data={"sourcedId": "u1", "status": "active", "enabledUser": True,
                                 "dateLastModified": "2025-01-01T00:00:00Z", "username": "a"})  # fmt: skip
    assert rows[0].ok
    assert (rows[1].field, rows[1].ok) == ("age", False) and "not a valid integer" in (rows[1].error or "")
    assert rows[2] == PreviewRow("people.csv:4", error="wrong number of columns")
    assert rows[3].field == "apiToken" and "s3cr3t" not in (rows[3].error or "")  # pydantic's error, no input
    assert len(rows) == 4
    assert await preview(mapping, _records(items, []), limit=0) == []


def test_public_names() -> None:
    assert sorted(hub.mapping.__all__) == sorted([
        "ENGINE_VERSION", "FUNCTIONS", "ID_NAMESPACE", "CompiledMapping", "LookupSpec", "MappingInfo",
        "MappingRegistry", "PreviewRow", "build_lookup_table", "check_mapping", "load_mapping", "preview",
        "stable_id", "validation_to_record_error",
    ])  # fmt: skip
    for name in hub.mapping.__all__:
        assert getattr(hub.mapping, name) is not None


def test_engine_imports_no_framework() -> None:
    import subprocess
    import sys

    code = "import sys, hub.mapping; print(sorted(m for m in ('litestar', 'sqlalchemy', 'apscheduler') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
