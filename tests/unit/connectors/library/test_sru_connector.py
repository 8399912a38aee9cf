"""The sru connector against a recorded SRU 1.2 / 2.0 server shaped like the Library of Congress's."""

from __future__ import annotations

from contextlib import aclosing
from pathlib import Path

import pytest

from connectors.library import LibraryItem, SruConfig, SruConnector, SruError
from hub.mapping import load_mapping
from hub.sdk import ConnectorConfig, ConnectorError, RawRecord, StreamState
from hub.sdk.testkit import ConnectorContract
from schemas import BUILTIN_TYPES

MAPPINGS = Path(__file__).parents[4] / "mappings"
SRU = "/sru/lcdb"


def sru(library_url: str, **config) -> SruConnector:
    return SruConnector(SruConfig(base_url=library_url + SRU, **config))


async def read_all(connector: SruConnector) -> list[RawRecord]:
    try:
        async with aclosing(connector.read("records", StreamState())) as records:  # type: ignore[type-var]
            return [record async for record in records]
    finally:
        await connector.aclose()


class TestSruContract(ConnectorContract):
    connector_class = SruConnector
    cassette_name = "sru_contract"

    @pytest.fixture
    def connector_config(self, library_url: str) -> ConnectorConfig:
        return SruConfig(base_url=library_url + SRU, query='dc.subject = "dinosaurs"', maximum_records=2)


async def test_paging_follows_next_record_position(cassette, library_url):
    connector = sru(library_url, query='dc.subject = "dinosaurs"', maximum_records=2)
    with cassette("sru_marcxml_paged") as recorded:
        records = await read_all(connector)
    uris = [r.uri for r in recorded.requests]
    assert len(uris) == 2 and "startRecord=1" in uris[0] and "startRecord=3" in uris[1]
    assert all("operation=searchRetrieve" in u and "version=1.2" in u and "maximumRecords=2" in u for u in uris)
    assert [r.data["recordPosition"] for r in records] == [1, 2, 3]
    assert [r.data["title"] for r in records] == [
        ["The dinosaur heresies : new theories unlocking the mystery of the dinosaurs and their extinction"],
        ["Dinosaur evolution in the Mesozoic"],
        ["Dinosaurs of the West"],
    ]
    assert records[0].data["id"] == "(DLC)2131405"
    assert records[2].data["creator"] == ["Natural History Museum of Los Angeles County"]


async def test_three_pages_of_everything(cassette, library_url):
    connector = sru(library_url, query="cql.anywhere = *", maximum_records=2)
    with cassette("sru_marcxml_all") as recorded:
        records = await read_all(connector)
    assert len(recorded.requests) == 3 and len(records) == 5
    nature = next(r.data for r in records if r.data["controlNumber"] == "2002227296")
    assert nature["identifiers"] == [{"type": "issn", "value": "1476-4687"}, {"type": "uri", "value": "https://www.nature.com/"}]
    assert nature["type"][0] == "Text" and nature["subject"] == ["Science -- Periodicals"]


async def test_dublin_core_records_over_sru_2(cassette, library_url):
    connector = sru(library_url, query="dc.title = algorithms", record_schema="dc", version="2.0", maximum_records=5)
    with cassette("sru2_dc") as recorded:
        records = await read_all(connector)
    assert "operation" not in recorded.requests[0].uri and "recordXMLEscaping=xml" in recorded.requests[0].uri
    assert len(records) == 1
    data = records[0].data
    assert data["format_of_record"] == "dc" and data["identifiers"] == [{"type": "isbn", "value": "9780262033848"}]
    assert data["id"] == "isbn:9780262033848"


@pytest.mark.parametrize(
    ("query", "schema", "uri", "text"),
    [
        ('dc.title = "unbalanced', "marcxml", "info:srw/diagnostic/1/10", "Query syntax error"),
        ("foo.bar = x", "marcxml", "info:srw/diagnostic/1/16", "Unsupported index"),
        ("dc.title = x", "mods", "info:srw/diagnostic/1/66", "Unknown schema for retrieval"),
    ],
)
async def test_diagnostics_are_connector_errors(cassette, library_url, query, schema, uri, text):
    connector = sru(library_url, query=query, record_schema=schema)
    name = "sru_diag_" + uri.rsplit("/", 1)[1]
    with cassette(name):
        result = await connector.check()
        with pytest.raises(SruError) as caught:
            await read_all(connector)
    assert caught.value.uri == uri and text in str(caught.value) and uri in str(caught.value)
    assert not result.ok and uri in result.message


async def test_check_counts_matches(cassette, library_url):
    connector = sru(library_url, query='dc.subject = "dinosaurs"', maximum_records=2)
    with cassette("sru_contract"):
        result = await connector.check()
    await connector.aclose()
    assert result.ok and "matches 3 records" in result.message and result.details["number_of_records"] == 3


async def test_entity_attacks_are_refused(cassette, library_url):
    connector = SruConnector(SruConfig(base_url=library_url + "/evil/xxe", query="x"))
    with cassette("sru_xxe"), pytest.raises(ConnectorError, match="refused XML with entity declarations"):
        await read_all(connector)


async def test_records_map_to_valid_library_items(cassette, library_url):
    mapping = load_mapping(MAPPINGS / "sru" / "records.yaml", {**BUILTIN_TYPES, "LibraryItem": LibraryItem})
    with cassette("sru_marcxml_all"):
        records = await read_all(sru(library_url, query="cql.anywhere = *", maximum_records=2))
    items = {item.sourcedId: item for item in (mapping.validate(r.data) for r in records)}
    cormen = items["(DLC)15747734"]
    assert cormen.title == "Introduction to algorithms"
    assert cormen.publisher == "Cambridge, Mass. : MIT Press" and cormen.date == "c2009" and cormen.language == "eng"
    assert cormen.subjects == ["Computer programming", "Computer algorithms"]
    assert cormen.description == "Includes bibliographical references (p. [1231]-1250) and index."
    assert [i.value for i in cormen.identifiers or [] if i.type == "isbn"] == ["9780262033848", "9780262533058"]
    assert items["(DLC)2131405"].subjects == ["Dinosaurs", "Paleontology -- Mesozoic"]
