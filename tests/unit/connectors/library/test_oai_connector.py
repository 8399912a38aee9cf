"""The oai_pmh connector against recorded OAI-PMH 2.0 repositories (DSpace-, Koha- and spec-shaped).

Cassettes are recorded from ``library_fakeserver.py``; see ``cassettes/README.md``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from connectors.library import LibraryItem, OaiError, OaiPmhConfig, OaiPmhConnector
from connectors.library._oai import format_datestamp, oai_request
from hub.mapping import load_mapping
from hub.sdk import ConnectorConfig, ConnectorError, RawRecord, StreamState
from hub.sdk.testkit import ConnectorContract
from schemas import BUILTIN_TYPES

MAPPINGS = Path(__file__).parents[4] / "mappings"
DSPACE = "/dspace/oai/request"
KOHA = "/koha/cgi-bin/koha/oai.pl"
SPEC = "/spec/oai"


def connector_for(library_url: str, path: str, **config: Any) -> OaiPmhConnector:
    return OaiPmhConnector(OaiPmhConfig(base_url=library_url + path, **config))


async def read_all(connector: OaiPmhConnector, state: StreamState | None = None) -> list[RawRecord]:
    state = state if state is not None else StreamState()
    async with aclosing(connector.read("records", state)) as records:  # type: ignore[type-var]
        return [record async for record in records]


@pytest.fixture
async def close_later() -> AsyncIterator[list[OaiPmhConnector]]:
    opened: list[OaiPmhConnector] = []
    yield opened
    for connector in opened:
        await connector.aclose()


class TestOaiPmhContract(ConnectorContract):
    connector_class = OaiPmhConnector
    cassette_name = "oai_contract"

    @pytest.fixture
    def connector_config(self, library_url: str) -> ConnectorConfig:
        return OaiPmhConfig(base_url=library_url + DSPACE)


async def test_list_records_follows_three_pages_of_resumption_tokens(cassette, library_url, close_later):
    connector = connector_for(library_url, DSPACE)
    close_later.append(connector)
    state = StreamState()
    with cassette("oai_dspace_full") as recorded:
        records = await read_all(connector, state)
    requests = [r.uri for r in recorded.requests]
    assert len(requests) == 4  # Identify + 3 ListRecords pages
    assert "metadataPrefix=oai_dc" in requests[1] and "resumptionToken" not in requests[1]
    assert all("resumptionToken=" in uri and "metadataPrefix" not in uri for uri in requests[2:])
    assert len(records) == 7 and all(r.error is None for r in records)
    assert "list position 4 of 7" in records[3].ref
    assert state.complete is True
    first = records[0].data
    assert first["header"]["identifier"] == "oai:dspace.example.edu:123456789/10"
    assert first["title"] == ["Soil moisture dynamics in restored wetlands"]
    assert first["identifiers"] == [{"type": "uri", "value": "http://hdl.handle.net/123456789/10"}]
    assert state.cursor == {"datestamp": "2022-02-01T08:00:00Z"}


async def test_deleted_records_become_tobedeleted(cassette, library_url, close_later):
    connector = connector_for(library_url, DSPACE)
    close_later.append(connector)
    with cassette("oai_dspace_full"):
        records = await read_all(connector)
    deleted = [r.data for r in records if r.data["status"] == "tobedeleted"]
    assert [d["header"]["identifier"] for d in deleted] == ["oai:dspace.example.edu:123456789/9"]
    assert deleted[0]["header"]["deleted"] is True and "title" not in deleted[0]


async def test_incremental_read_sends_from_the_cursor_in_seconds_granularity(cassette, library_url, close_later):
    connector = connector_for(library_url, DSPACE)
    close_later.append(connector)
    state = StreamState(cursor={"datestamp": "2021-09-30T12:00:00Z"})
    with cassette("oai_dspace_incremental") as recorded:
        records = await read_all(connector, state)
    assert "from=2021-09-30T12%3A00%3A00Z" in recorded.requests[1].uri
    assert [r.data["header"]["identifier"] for r in records] == [
        "oai:dspace.example.edu:123456789/14",
        "oai:dspace.example.edu:123456789/15",
    ]
    assert state.complete is False
    assert state.cursor == {"datestamp": "2022-02-01T08:00:00Z"}


async def test_incremental_read_uses_day_granularity_when_the_repository_does(cassette, library_url, close_later):
    connector = connector_for(library_url, SPEC)
    close_later.append(connector)
    state = StreamState(cursor={"datestamp": "1999-12-21T10:00:00Z"})
    with cassette("oai_spec_incremental") as recorded:
        records = await read_all(connector, state)
    assert "from=1999-12-21&" in recorded.requests[1].uri + "&"
    assert {r.data["header"]["identifier"]: r.data["status"] for r in records} == {
        "oai:arXiv.org:hep-th/9901001": "active",
        "oai:arXiv.org:hep-th/9901007": "tobedeleted",
    }
    assert state.cursor == {"datestamp": "1999-12-25T00:00:00Z"}


async def test_from_and_until_from_the_config_make_a_partial_read(cassette, library_url, close_later):
    connector = connector_for(library_url, SPEC, from_date="1999-01-01", until_date="1999-06-30")
    close_later.append(connector)
    state = StreamState()
    with cassette("oai_spec_from_until") as recorded:
        records = await read_all(connector, state)
    assert "from=1999-01-01" in recorded.requests[1].uri and "until=1999-06-30" in recorded.requests[1].uri
    assert [r.data["title"] for r in records] == [["Quantum Mechanics of Condensed Matter"]]
    assert state.complete is False


async def test_full_refresh_ignores_the_cursor(cassette, library_url, close_later):
    connector = connector_for(library_url, DSPACE)
    close_later.append(connector)
    state = StreamState(cursor={"datestamp": "2021-09-30T12:00:00Z"}, full_refresh=True)
    with cassette("oai_dspace_full"):
        records = await read_all(connector, state)
    assert len(records) == 7 and state.complete is True


async def test_no_records_match_is_an_empty_result(cassette, library_url, close_later):
    connector = connector_for(library_url, DSPACE)
    close_later.append(connector)
    state = StreamState(cursor={"datestamp": "2030-01-01T00:00:00Z"})
    with cassette("oai_no_records_match") as recorded:
        records = await read_all(connector, state)
    body = recorded.responses[1]["body"]["string"]
    assert records == [] and "noRecordsMatch" in (body.decode() if isinstance(body, bytes) else body)
    assert state.cursor == {"datestamp": "2030-01-01T00:00:00Z"}


async def test_cannot_disseminate_format(cassette, library_url, close_later):
    connector = connector_for(library_url, DSPACE, metadata_prefix="marc21")
    close_later.append(connector)
    with cassette("oai_cannot_disseminate"):
        result = await connector.check()
        with pytest.raises(OaiError) as caught:
            await read_all(connector)
    assert not result.ok and "does not offer metadata format 'marc21'" in result.message
    assert "it offers: oai_dc" in result.message
    assert caught.value.oai_code == "cannotDisseminateFormat"
    assert "error cannotDisseminateFormat" in str(caught.value) and "metadata_prefix" in str(caught.value)


async def test_no_set_hierarchy(cassette, library_url, close_later):
    connector = connector_for(library_url, KOHA, set_spec="books")
    close_later.append(connector)
    with cassette("oai_no_set_hierarchy"), pytest.raises(OaiError) as caught:
        await read_all(connector)
    assert caught.value.oai_code == "noSetHierarchy" and "remove set_spec" in str(caught.value)


async def test_set_spec_limits_the_harvest(cassette, library_url, close_later):
    connector = connector_for(library_url, DSPACE, set_spec="col_123456789_3")
    close_later.append(connector)
    with cassette("oai_dspace_set") as recorded:
        records = await read_all(connector)
    assert "set=col_123456789_3" in recorded.requests[1].uri
    assert [r.data["header"]["identifier"][-2:] for r in records] == ["10", "12", "14"]


async def test_expired_resumption_token(cassette, library_url, close_later):
    connector = connector_for(library_url, "/spec-expiring/oai")
    close_later.append(connector)
    seen: list[RawRecord] = []
    with cassette("oai_bad_resumption_token"), pytest.raises(OaiError) as caught:
        async with aclosing(connector.read("records", StreamState())) as records:  # type: ignore[type-var]
            async for record in records:
                seen.append(record)
    assert len(seen) == 1  # the first page arrived before the token was refused
    assert caught.value.oai_code == "badResumptionToken" and caught.value.retryable is True


@pytest.mark.parametrize(
    ("verb", "arguments", "code"),
    [
        ("ListThings", {}, "badVerb"),
        ("ListRecords", {"metadataPrefix": "oai_dc", "from": "1999-12-25T10:00:00Z"}, "badArgument"),
        ("GetRecord", {"metadataPrefix": "oai_dc", "identifier": "oai:arXiv.org:nope/0000000"}, "idDoesNotExist"),
        ("ListRecords", {"metadataPrefix": "oai_dc", "set": "nope"}, "noRecordsMatch"),
    ],
)
async def test_each_error_code_is_named(cassette, library_url, close_later, verb, arguments, code):
    connector = connector_for(library_url, SPEC)
    close_later.append(connector)
    with cassette(f"oai_error_{code}"), pytest.raises(OaiError) as caught:
        await oai_request(connector.client, connector.config.base_url, verb, **arguments)
    assert caught.value.oai_code == code
    assert f"error {code}" in str(caught.value) and not caught.value.retryable


async def test_marcxml_records_from_koha(cassette, library_url, close_later):
    connector = connector_for(library_url, KOHA, metadata_prefix="marc21")
    close_later.append(connector)
    with cassette("oai_koha_marc21"):
        result = await connector.check()
        records = await read_all(connector)
    assert result.ok, result.message
    live = {r.data["header"]["identifier"]: r.data for r in records if r.data["status"] == "active"}
    cormen = live["oai:koha.example.edu:101"]
    assert cormen["format_of_record"] == "marcxml"
    assert cormen["title"] == ["Introduction to algorithms"]
    assert cormen["creator"][:2] == ["Cormen, Thomas H.", "Leiserson, Charles E."]
    assert {"type": "isbn", "value": "9780262033848"} in cormen["identifiers"]
    assert {"type": "lccn", "value": "2009008593"} in cormen["identifiers"]
    assert cormen["publisher"] == ["Cambridge, Mass. : MIT Press"] and cormen["date"] == ["c2009"]
    assert "oai:koha.example.edu:99" in {r.data["header"]["identifier"] for r in records if r.data["status"] == "tobedeleted"}


async def test_check_reports_the_repository(cassette, library_url, close_later):
    connector = connector_for(library_url, DSPACE)
    close_later.append(connector)
    with cassette("oai_contract"):
        result = await connector.check()
    assert result.ok
    assert "DSpace at Example University" in result.message and "YYYY-MM-DDThh:mm:ssZ" in result.message
    assert result.details["metadata_formats"] == ["oai_dc"] and result.details["deleted_record"] == "persistent"


async def test_check_says_when_the_url_is_not_an_oai_endpoint(cassette, library_url, close_later):
    connector = connector_for(library_url, "/not-oai")
    close_later.append(connector)
    with cassette("oai_not_oai"):
        result = await connector.check()
    assert not result.ok and "not an OAI-PMH document" in result.message and "base_url" in result.message


async def test_check_says_when_the_endpoint_is_missing(cassette, library_url, close_later):
    connector = connector_for(library_url, "/nothing-here", max_attempts=1)
    close_later.append(connector)
    with cassette("oai_http_404"):
        result = await connector.check()
    assert not result.ok and "HTTP 404" in result.message


@pytest.mark.parametrize("path", ["/evil/billion-laughs", "/evil/xxe"])
async def test_entity_attacks_are_refused(cassette, library_url, close_later, path):
    connector = connector_for(library_url, path)
    close_later.append(connector)
    name = "oai_billion_laughs" if "laughs" in path else "oai_xxe"
    with cassette(name):
        result = await connector.check()
        with pytest.raises(ConnectorError) as caught:
            await read_all(connector)
    assert not result.ok and "refused XML with entity declarations" in result.message
    assert "refused XML with entity declarations" in str(caught.value)
    assert "root:" not in result.message + str(caught.value)


def test_format_datestamp_follows_granularity():
    assert format_datestamp("2021-09-30T12:00:00Z", "YYYY-MM-DD") == "2021-09-30"
    assert format_datestamp("2021-09-30", "YYYY-MM-DDThh:mm:ssZ") == "2021-09-30T00:00:00Z"
    assert format_datestamp("2021-09-30T14:00:00+02:00", "YYYY-MM-DDThh:mm:ssZ") == "2021-09-30T12:00:00Z"


def test_config_is_checked():
    with pytest.raises(ValueError):
        OaiPmhConfig(base_url="http://x/oai", from_date="2020-01-02", until_date="2020-01-01")
    with pytest.raises(ValueError):
        OaiPmhConfig(base_url="ftp://x/oai")


async def test_records_map_to_valid_library_items(cassette, library_url, close_later):
    mapping = load_mapping(MAPPINGS / "oai_pmh" / "records.yaml", {**BUILTIN_TYPES, "LibraryItem": LibraryItem})
    records: list[RawRecord] = []
    for path, prefix, name in [(DSPACE, "oai_dc", "oai_dspace_full"), (KOHA, "marc21", "oai_koha_marc21")]:
        connector = connector_for(library_url, path, metadata_prefix=prefix)
        close_later.append(connector)
        with cassette(name):
            if prefix == "marc21":
                await connector.check()
            records += await read_all(connector)
    items = [mapping.validate(r.data) for r in records]
    assert all(isinstance(item, LibraryItem) for item in items)
    by_id = {item.sourcedId: item for item in items}
    thesis = by_id["oai:dspace.example.edu:123456789/10"]
    assert thesis.title == "Soil moisture dynamics in restored wetlands"
    assert thesis.creators == ["Okafor, Chinwe"] and thesis.type == "Thesis" and thesis.language == "en"
    assert thesis.description == "Thesis (Ph.D.)--Example University.\n\nAbstract of soil moisture dynamics in restored wetlands."
    assert thesis.dateLastModified is not None and thesis.dateLastModified.isoformat() == "2019-05-14T08:21:33+00:00"
    assert thesis.metadata == {"setSpec": ["com_123456789_1", "col_123456789_3"], "metadataPrefix": "oai_dc",
                               "datestamp": "2019-05-14T08:21:33Z"}  # fmt: skip
    assert by_id["oai:dspace.example.edu:123456789/9"].status == "tobedeleted"
    book = by_id["oai:koha.example.edu:103"]
    assert book.title == "Dinosaur evolution in the Mesozoic"
    assert book.creators == ["Scott, Elizabeth"] and book.contributors == ["Hughes, Anna"]
    assert book.subjects == ["Dinosaurs -- Evolution"] and book.coverage == "North America"
    assert {i.type.value: i.value for i in book.identifiers or []} == {
        "isbn": "9781107189126",
        "uri": "https://doi.org/10.1017/9781316981733",
    }
    assert not LibraryItem.personal and LibraryItem.oneroster_type == "libraryItem"
