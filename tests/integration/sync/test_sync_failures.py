"""What a failing read leaves behind, on SQLite and PostgreSQL: the batch in flight commits and the
run is marked failed with the connector's error (never a lock error); and a record whose row fails
is reported without its stored entity being marked deleted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from hub.errors import ConnectorError
from hub.hookimpl import hookimpl
from hub.sdk import CheckResult, Connector, ConnectorConfig, ConnectorKind, RawRecord, StreamSpec, StreamState
from hub.store._tables import entities, sync_runs

MAPPING = """version: 1
connector: flaky_orgs
stream: orgs
target: Org
id: {path: id}
fields:
  name: name
  type: {const: school}
"""


class FlakyConfig(ConnectorConfig):
    records: int = 5
    fail_after: int | None = None
    broken: list[str] = []


class FlakyOrgs(Connector):
    """``records`` orgs; the read raises after ``fail_after`` of them; ids in ``broken`` lack a name."""

    name: ClassVar[str] = "flaky_orgs"
    kind: ClassVar[ConnectorKind] = ConnectorKind.SIS
    config_model: ClassVar[type[ConnectorConfig]] = FlakyConfig

    def streams(self) -> Sequence[StreamSpec]:
        return (StreamSpec("orgs", "Org"),)

    async def check(self) -> CheckResult:
        return CheckResult(True, "ok")

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        assert isinstance(self.config, FlakyConfig)
        for number in range(self.config.records):
            if number == self.config.fail_after:
                await asyncio.sleep(0.05)  # the previous batch's write is under way by now
                raise ConnectorError("the upstream went away")
            org_id = f"o{number}"
            name = None if org_id in self.config.broken else f"School {number}"
            yield RawRecord({"id": org_id, "name": name}, f"orgs #{number}")


class FlakyPlugin:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_connectors(self) -> list[type[Connector]]:
        return [FlakyOrgs]

    @hookimpl
    def register_mapping_folders(self) -> list[Path]:
        return [self.folder]


@pytest.fixture
async def hub(hub_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Any]:
    from hub.context import Hub
    from hub.settings import load_settings

    folder = tmp_path / "mappings" / "flaky_orgs"
    folder.mkdir(parents=True)
    (folder / "orgs.yaml").write_text(MAPPING, encoding="utf-8")
    instance = Hub.from_settings(load_settings(), extra_plugins=[("flaky", FlakyPlugin(tmp_path / "mappings"))])
    if instance.db.is_sqlite:
        await instance.db.migrate()
    await instance.store.ensure_tenant("default")
    yield instance
    await instance.close()


async def test_a_read_that_fails_with_a_write_in_flight_lets_it_commit_and_fails_the_run(
        hub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of one record; each write holds its transaction open a while, so the read fails while
    the previous batch is being written. The write is waited for, never cancelled (a cancelled write
    was seen, now and then, to leave SQLite locked, so that the run could not be marked failed and
    the caller got a lock error instead of the connector's)."""
    import hub.store._writer as writer
    from hub.sync import SyncEngine

    real = writer.apply_batch

    def slow_apply(conn: Any, batch: Any) -> Any:
        first = real(conn, batch)
        time.sleep(0.3)  # inside the transaction
        return first

    monkeypatch.setattr(writer, "apply_batch", slow_apply)
    store = await hub.store.tenant("default")
    await store.add_source("src", "flaky_orgs", FlakyConfig(records=10, fail_after=3))
    engine = SyncEngine(hub)
    engine.batch_size = 1
    with pytest.raises(ConnectorError, match="went away"):
        await engine.sync(store, "src")
    async with hub.db.connect() as conn:
        run = (await conn.execute(select(sync_runs.c.status, sync_runs.c.message))).one()
        stored = (await conn.execute(select(entities.c.stable_id).order_by(entities.c.stable_id))).scalars().all()
    assert run.status == "failed" and "went away" in run.message
    assert stored == ["o0", "o1", "o2"], "the batch in flight committed"


async def test_a_record_that_fails_keeps_its_stored_entity(hub: Any) -> None:
    """Yesterday's org is fine; today its row is broken: an error, and the org stays active (a broken
    row is no reason to mark a record deleted). When the row is gone, the org is deleted as usual."""
    from hub.sync import SyncEngine

    store = await hub.store.tenant("default")
    await store.add_source("src", "flaky_orgs", FlakyConfig(records=4))
    engine = SyncEngine(hub)
    assert (await engine.sync(store, "src")).created == 4

    await store.update_source("src", FlakyConfig(records=4, broken=["o1"]))
    broken = await engine.sync(store, "src")
    assert (broken.errors, broken.deleted, broken.unchanged) == (1, 0, 3)
    assert (await store.get_entity("Org", "o1")).status == "active"

    await store.update_source("src", FlakyConfig(records=3))  # o3 is gone for good
    gone = await engine.sync(store, "src")
    assert (gone.errors, gone.deleted) == (0, 1)
    assert (await store.get_entity("Org", "o3")).status == "tobedeleted"
