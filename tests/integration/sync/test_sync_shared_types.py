"""Two streams of one source whose mappings produce the same canonical type share its deletion
candidates: a re-sync deletes only what neither stream saw, and nothing flips back and forth."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from hub.hookimpl import hookimpl
from hub.sdk import CheckResult, Connector, ConnectorConfig, ConnectorKind, RawRecord, StreamSpec, StreamState

MAPPING = """version: 1
connector: two_org_streams
stream: {stream}
target: Org
id: {{path: id}}
fields:
  name: name
  type: {{const: {kind}}}
"""


class TwoStreamsConfig(ConnectorConfig):
    path: str


class TwoStreams(Connector):
    """Schools and departments from one JSON file, both as Org records."""

    name: ClassVar[str] = "two_org_streams"
    kind: ClassVar[ConnectorKind] = ConnectorKind.SIS
    config_model: ClassVar[type[ConnectorConfig]] = TwoStreamsConfig

    def streams(self) -> Sequence[StreamSpec]:
        return (StreamSpec("schools", "Org"), StreamSpec("departments", "Org"))

    async def check(self) -> CheckResult:
        return CheckResult(True, "ok")

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        assert isinstance(self.config, TwoStreamsConfig)
        data = json.loads(Path(self.config.path).read_text(encoding="utf-8"))
        state.complete = stream not in data.get("delta", [])
        for number, item in enumerate(data[stream]):
            yield RawRecord(item, f"{stream} #{number}")


class TwoStreamsPlugin:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_connectors(self) -> list[type[Connector]]:
        return [TwoStreams]

    @hookimpl
    def register_mapping_folders(self) -> list[Path]:
        return [self.folder]


@pytest.fixture
async def hub(hub_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Any]:
    from hub.context import Hub
    from hub.settings import load_settings

    folder = tmp_path / "mappings" / "two_org_streams"
    folder.mkdir(parents=True)
    (folder / "schools.yaml").write_text(MAPPING.format(stream="schools", kind="school"), encoding="utf-8")
    (folder / "departments.yaml").write_text(MAPPING.format(stream="departments", kind="department"),
                                             encoding="utf-8")
    instance = Hub.from_settings(load_settings(), extra_plugins=[("two", TwoStreamsPlugin(tmp_path / "mappings"))])
    if instance.db.is_sqlite:
        await instance.db.migrate()
    await instance.store.ensure_tenant("default")
    yield instance
    await instance.close()


def write_data(path: Path, schools: list[str], departments: list[str], delta: Sequence[str] = ()) -> None:
    path.write_text(json.dumps({
        "schools": [{"id": s, "name": f"School {s}"} for s in schools],
        "departments": [{"id": d, "name": f"Department {d}"} for d in departments],
        "delta": list(delta),
    }), encoding="utf-8")


async def test_each_stream_keeps_the_others_entities(hub: Any, tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    data = tmp_path / "orgs.json"
    write_data(data, ["s1", "s2", "s3"], ["d1", "d2"])
    store = await hub.store.tenant("default")
    await store.add_source("src", "two_org_streams", store.validate_config(TwoStreamsConfig, {"path": str(data)}))

    first = await SyncEngine(hub).sync(store, "src")
    assert first.created == 5 and first.deleted == 0

    again = await SyncEngine(hub).sync(store, "src")
    assert (again.created, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 5), \
        "the schools stream must not mark the departments deleted (nor the departments stream bring them back)"

    write_data(data, ["s1", "s3"], ["d2"])
    gone = await SyncEngine(hub).sync(store, "src")
    assert (gone.updated, gone.deleted, gone.unchanged) == (0, 2, 3)
    assert {o: (await store.get_entity("Org", o)).status for o in ("s1", "s2", "s3", "d1", "d2")} == \
        {"s1": "active", "s2": "tobedeleted", "s3": "active", "d1": "tobedeleted", "d2": "active"}
    seqs = [c.seq for c in await store.changes_after(0, limit=1000)]
    assert len(seqs) == 7, "5 created + 2 deleted, no flip-flop events"


async def test_a_partial_read_of_one_stream_marks_no_deletion_of_the_type(hub: Any, tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    data = tmp_path / "orgs.json"
    write_data(data, ["s1", "s2"], ["d1"])
    store = await hub.store.tenant("default")
    await store.add_source("src", "two_org_streams", store.validate_config(TwoStreamsConfig, {"path": str(data)}))
    await SyncEngine(hub).sync(store, "src")

    write_data(data, ["s1"], [], delta=["departments"])  # s2 is gone, but departments was a delta read
    summary = await SyncEngine(hub).sync(store, "src")
    assert summary.deleted == 0
    assert (await store.get_entity("Org", "s2")).status == "active"
