"""Harvests synced into a real store (SQLite and PostgreSQL) from the loopback OAI-PMH server.

Within one harvest the last copy of an identifier wins (a record changed or deleted while the
harvester pages through the list is listed again, later), and a deleted header for a record the
hub never had creates nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from library_fakeserver import FakeLibraryServer, Item, Repository, dc
from sqlalchemy import func, select, update

from connectors.library import OaiPmhConfig
from hub.errors import ConnectorError, NotFound
from hub.store._tables import entities, sync_runs

PATH = "/harvest/oai"
DAY1, DAY2, DAY3 = "2024-01-01", "2024-01-02", "2024-01-03"


def repository(late: int = 0, **options: Any) -> Repository:
    """Records A..E of one day (so an incremental harvest from that day lists them all again) and
    ``late`` records F, G ... of a later day, in pages of two, with keyset resumption tokens."""
    items = [Item(f"oai:x:{name}", DAY1, [], {"oai_dc": dc(title=f"Record {name}")}) for name in "ABCDE"]
    items += [Item(f"oai:x:{name}", DAY3, [], {"oai_dc": dc(title=f"Record {name}")}) for name in "FGHI"[:late]]
    return Repository("Harvest test", "YYYY-MM-DD", "persistent", DAY1, items, page_size=2, keyset_tokens=True,
                      **options)


def delete_after_first_page(name: str) -> Any:
    """A hook deleting record ``name`` once the first page (of the harvest it is set for) was served:
    its datestamp becomes DAY2, so the rest of the harvest lists it again, deleted."""

    def hook(repo: Repository, pages: int) -> None:
        item = next(i for i in repo.items if i.identifier == f"oai:x:{name}")
        if not item.deleted:
            item.deleted, item.datestamp, item.metadata = True, DAY2, {}

    return hook


@pytest.fixture
def library() -> Iterator[FakeLibraryServer]:
    with FakeLibraryServer() as server:
        yield server


async def add_oai_source(hub: Any, server: FakeLibraryServer, path: str = PATH, tenant: str = "default") -> Any:
    await hub.store.ensure_tenant(tenant)
    store = await hub.store.tenant(tenant)
    config = store.validate_config(OaiPmhConfig, {"base_url": server.url + path, "max_attempts": 1})
    await store.add_source("library", "oai_pmh", config)
    return store


def engine(hub: Any, batch_size: int) -> Any:
    from hub.sync import SyncEngine

    sync = SyncEngine(hub)
    sync.batch_size = batch_size
    return sync


async def status_of(store: Any, name: str) -> str | None:
    try:
        return (await store.get_entity("LibraryItem", f"oai:x:{name}")).status
    except NotFound:
        return None


async def events_of(store: Any) -> list[tuple[str, str, int]]:
    return [(c.stable_id.rsplit(":", 1)[1], c.op, c.version) for c in await store.changes_after(0, limit=1000)]


@pytest.mark.parametrize("batch_size", [2000, 1], ids=["one-batch", "batch-per-record"])
async def test_a_known_record_deleted_during_the_harvest_ends_deleted(hub: Any, library: FakeLibraryServer,
                                                                      batch_size: int) -> None:
    repo = library.repositories[PATH] = repository()
    store = await add_oai_source(hub, library)
    first = await engine(hub, batch_size).sync(store, "library")
    assert (first.created, first.errors) == (5, 0)

    repo.after_page = delete_after_first_page("A")
    second = await engine(hub, batch_size).sync(store, "library")  # from=DAY1: A..E, then A again, deleted
    assert second.errors == 0, await store.run_errors(second.run_id)
    assert (second.created, second.updated, second.deleted, second.unchanged) == (0, 0, 1, 5)
    entity = await store.get_entity("LibraryItem", "oai:x:A")
    assert (entity.status, entity.version) == ("tobedeleted", 2)
    assert (await events_of(store))[5:] == [("A", "deleted", 2)]


@pytest.mark.parametrize("batch_size", [2000, 1], ids=["one-batch", "batch-per-record"])
async def test_a_full_refresh_harvest_takes_the_last_copy_too(hub: Any, library: FakeLibraryServer,
                                                             batch_size: int) -> None:
    repo = library.repositories[PATH] = repository()
    store = await add_oai_source(hub, library)
    await engine(hub, batch_size).sync(store, "library")
    repo.after_page = delete_after_first_page("B")
    again = await engine(hub, batch_size).sync(store, "library", full_refresh=True)
    assert (again.deleted, again.errors) == (1, 0)
    assert await status_of(store, "B") == "tobedeleted"
    assert [await status_of(store, n) for n in "ACDE"] == ["active"] * 4


async def test_a_record_created_and_deleted_in_one_batch_leaves_nothing(hub: Any, library: FakeLibraryServer) -> None:
    repo = library.repositories[PATH] = repository()
    repo.after_page = delete_after_first_page("A")
    store = await add_oai_source(hub, library)
    summary = await engine(hub, 2000).sync(store, "library")
    assert summary.errors == 0
    assert (summary.created, summary.deleted) == (4, 0)
    assert await status_of(store, "A") is None
    assert sorted(await events_of(store)) == [(n, "created", 1) for n in "BCDE"]


async def test_a_record_created_then_deleted_in_later_batches_ends_deleted(hub: Any,
                                                                           library: FakeLibraryServer) -> None:
    repo = library.repositories[PATH] = repository()
    repo.after_page = delete_after_first_page("A")
    store = await add_oai_source(hub, library)
    summary = await engine(hub, 1).sync(store, "library")
    assert summary.errors == 0
    assert (summary.created, summary.deleted) == (5, 1)
    assert await status_of(store, "A") == "tobedeleted"
    assert ("A", "deleted", 2) in await events_of(store)


async def test_a_deleted_header_for_a_record_never_had_creates_nothing(hub: Any, library: FakeLibraryServer) -> None:
    repo = library.repositories[PATH] = repository()
    repo.after_page = delete_after_first_page("D")  # D was not read yet: it is only ever listed deleted
    store = await add_oai_source(hub, library)
    summary = await engine(hub, 2000).sync(store, "library")
    assert summary.errors == 0
    assert (summary.created, summary.deleted, summary.unchanged) == (4, 0, 1)
    assert await status_of(store, "D") is None
    assert "D" not in {stable_id for stable_id, _, _ in await events_of(store)}


async def test_a_stream_without_last_wins_still_reports_duplicates(hub: Any, library: FakeLibraryServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.library import OaiPmhConnector
    from hub.sdk import StreamSpec

    monkeypatch.setattr(OaiPmhConnector, "streams", lambda self: (StreamSpec("records", "LibraryItem"),))
    repo = library.repositories[PATH] = repository()
    repo.after_page = delete_after_first_page("A")
    store = await add_oai_source(hub, library)
    summary = await engine(hub, 2000).sync(store, "library")
    assert summary.errors == 1
    _, errors = await store.run_errors(summary.run_id)
    assert "duplicate sourcedId 'oai:x:A'" in errors[0].message


async def snapshot(store: Any) -> tuple[list[tuple[Any, ...]], list[tuple[str, str, int]], int]:
    """Entities (stable id, hash, version, status), change events and the number of runs of a tenant."""
    async with store.db.connect() as conn:
        rows = await conn.execute(select(entities.c.stable_id, entities.c.hash, entities.c.version, entities.c.status)
                                  .where(entities.c.tenant_id == store.tenant_id).order_by(entities.c.stable_id))
        ents = [(r.stable_id, bytes(r.hash), r.version, r.status) for r in rows]
        runs = (await conn.execute(select(func.count()).select_from(sync_runs)
                                   .where(sync_runs.c.tenant_id == store.tenant_id))).scalar_one()
    return ents, sorted(await events_of(store)), runs


@pytest.mark.parametrize("full_refresh", [False, True], ids=["raw-hash-shortcut", "full-refresh"])
async def test_a_resumed_harvest_equals_an_uninterrupted_one(hub: Any, library: FakeLibraryServer,
                                                            full_refresh: bool) -> None:
    """The first attempt commits A (active) and, two batches later, A (deleted), then stops; the
    second attempt replays those records: A's superseded first copy must not be written again."""
    library.repositories["/reference/oai"] = reference = repository(late=4)
    reference.after_page = delete_after_first_page("A")
    expected_store = await add_oai_source(hub, library, "/reference/oai", tenant="reference")
    expected_run = await engine(hub, 2).sync(expected_store, "library", full_refresh=full_refresh)
    assert (expected_run.created, expected_run.deleted, expected_run.errors) == (9, 1, 0)

    # pages [A B] [C D] [E A-deleted] [F G] [H I]: the fifth is refused, after the third batch committed
    library.repositories[PATH] = repo = repository(late=4, busy_after_pages=4)
    repo.after_page = delete_after_first_page("A")
    store = await add_oai_source(hub, library)
    # The run fails with the 503 while the fourth batch's write is in flight: that write commits
    # first, then the run is marked failed with the connector's error.
    with pytest.raises(ConnectorError):
        await engine(hub, 2).sync(store, "library", full_refresh=full_refresh)
    assert await status_of(store, "A") == "tobedeleted"  # the batch with A's second copy committed
    # as if the process had been killed: the run stays running and is resumed by the next sync
    async with hub.db.begin() as conn:
        await conn.execute(update(sync_runs).where(sync_runs.c.tenant_id == store.tenant_id).values(status="running"))
    library.repositories[PATH] = repo = repository(late=4)  # the repository lists the same again
    repo.after_page = delete_after_first_page("A")
    resumed = await engine(hub, 2).sync(store, "library")

    assert resumed.status == "succeeded"
    ents, events, runs = await snapshot(store)
    assert runs == 1, "the interrupted run was resumed"
    expected_ents, expected_events, _ = await snapshot(expected_store)
    assert ents == expected_ents
    assert events == expected_events, "no change event written twice by the replay"
    counts = (resumed.created, resumed.updated, resumed.deleted, resumed.unchanged, resumed.errors)
    assert counts == (expected_run.created, expected_run.updated, expected_run.deleted, expected_run.unchanged,
                      expected_run.errors)


@pytest.mark.parametrize("batch_size", [2000, 1], ids=["one-batch", "batch-per-record"])
async def test_a_dry_run_counts_what_the_run_then_does(hub: Any, library: FakeLibraryServer, batch_size: int) -> None:
    library.repositories[PATH] = repo = repository()
    repo.after_page = delete_after_first_page("A")
    store = await add_oai_source(hub, library)
    dry = await engine(hub, batch_size).sync(store, "library", dry_run=True)
    assert await store.count_entities("LibraryItem") == 0

    library.repositories[PATH] = repo = repository()
    repo.after_page = delete_after_first_page("A")
    real = await engine(hub, batch_size).sync(store, "library")
    counts = ("created", "updated", "deleted", "unchanged", "errors")
    assert [getattr(dry, key) for key in counts] == [getattr(real, key) for key in counts]
