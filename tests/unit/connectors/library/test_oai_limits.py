"""Oversized input from an OAI-PMH repository (the loopback server, no cassette): a response over
``max_response_bytes`` stops the harvest with a clear error, without reading the rest; a record over
``sync.max_record_bytes`` is a record error, is not stored, and the harvest goes on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from typing import Any

import pytest
from library_fakeserver import FakeLibraryServer, Item, Repository, Streamed, dc, generated_list_records

from connectors.library import OaiPmhConfig, OaiPmhConnector
from hub.errors import ConnectorError, NotFound
from hub.sdk import StreamState

LIMIT = 256 * 1024


@pytest.fixture
def library() -> Iterator[FakeLibraryServer]:
    with FakeLibraryServer() as server:
        yield server


async def harvest(server: FakeLibraryServer, path: str, **config: Any) -> int:
    connector = OaiPmhConnector(OaiPmhConfig(base_url=server.url + path, max_attempts=1, **config))
    try:
        async with aclosing(connector.read("records", StreamState())) as records:  # type: ignore[type-var]
            return len([record async for record in records])
    finally:
        await connector.aclose()


async def test_an_endless_response_stops_at_the_limit(library: FakeLibraryServer) -> None:
    """The repository streams a list that never ends (chunked, no Content-Length): only a client that
    stops reading at the limit gets to raise."""
    library.streamed["/endless/oai"] = Streamed(lambda: generated_list_records(0, 10, endless=True))
    with pytest.raises(ConnectorError) as caught:
        await harvest(library, "/endless/oai", max_response_bytes=LIMIT)
    message = str(caught.value)
    assert "/endless/oai?verb=ListRecords" in message
    assert f"the response is more than {LIMIT} bytes, over the limit of {LIMIT} bytes (max_response_bytes)" in message
    assert caught.value.retryable is False


async def test_a_declared_length_over_the_limit_is_refused_before_reading(library: FakeLibraryServer) -> None:
    body = b"".join(generated_list_records(300, 40))
    assert len(body) > LIMIT
    library.streamed["/large/oai"] = Streamed(lambda: [body], length=len(body))
    with pytest.raises(ConnectorError, match=f"the response is {len(body)} bytes \\(Content-Length\\), over the limit"):
        await harvest(library, "/large/oai", max_response_bytes=LIMIT)
    assert await harvest(library, "/large/oai", max_response_bytes=len(body)) == 300


async def test_a_record_over_the_limit_is_a_record_error_and_the_harvest_goes_on(hub: Any,
                                                                                 library: FakeLibraryServer) -> None:
    from hub.sync import SyncEngine

    items = [Item(f"oai:x:{n}", "2024-01-01", [], {"oai_dc": dc(title=f"Record {n}")}) for n in range(1, 4)]
    # the shape of the report: one record of 600k small elements
    items[1].metadata["oai_dc"] = dc(title="Huge", subject=[f"s{n}" for n in range(600_000)])
    library.repositories["/huge/oai"] = Repository("Huge", "YYYY-MM-DD", "persistent", "2024-01-01", items,
                                                   page_size=3)
    store = await hub.store.tenant("default")
    # the page (19 MB) passes a raised response cap: the record cap is what is tested here
    config = store.validate_config(OaiPmhConfig, {"base_url": library.url + "/huge/oai", "max_response_bytes": 64 << 20})
    await store.add_source("library", "oai_pmh", config)
    summary = await SyncEngine(hub).sync(store, "library")

    assert summary.status == "succeeded"
    assert (summary.created, summary.errors) == (2, 1)
    _, errors = await store.run_errors(summary.run_id)
    limit = hub.settings.sync.max_record_bytes
    assert errors[0].ref.startswith("oai:x:2 ")
    assert errors[0].message.startswith("record is ") and errors[0].message.endswith(
        f"bytes as read, over the limit of {limit} (sync.max_record_bytes)")
    assert int(errors[0].message.split()[2]) > limit
    with pytest.raises(NotFound):
        await store.get_entity("LibraryItem", "oai:x:2")
    assert len(await store.changes_after(0, limit=10)) == 2
