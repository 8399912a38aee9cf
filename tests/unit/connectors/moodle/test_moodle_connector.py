"""The moodle connector: contract, error bodies (HTTP 200), check() diagnoses, paging, mappings.

Cassettes were recorded against :mod:`moodle_fake` with
``pytest tests/unit/connectors/moodle --record-mode=all``; a normal run replays them only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import aclosing
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from moodle_fake import ALL_FUNCTIONS, BASE_URL, TOKEN, FakeMoodle

from connectors.moodle import MoodleConfig, MoodleConnector
from connectors.moodle.plugin import register_connectors
from hub.mapping import build_lookup_table, load_mapping
from hub.sdk import ConnectorError, ConnectorKind, RawRecord, StreamState
from hub.sdk.testkit import ConnectorContract
from schemas import BUILTIN_TYPES

MAPPINGS = Path(__file__).parents[4] / "mappings" / "moodle"
CONFIG = {"base_url": BASE_URL, "wstoken": TOKEN, "page_size": 2}


@pytest.fixture(autouse=True)
def fake_moodle(record_mode: str) -> Iterator[FakeMoodle | None]:
    if record_mode == "none":
        yield None
        return
    with FakeMoodle() as moodle:
        yield moodle


@pytest.fixture
def vcr_secrets() -> list[str]:
    return [TOKEN]


class _RedactToken(logging.Filter):
    """vcrpy logs each request URL at DEBUG; Moodle's token is a query parameter (``wstoken``).

    The SDK redacts it from its own and httpx's log records; vcrpy (test tooling only) is
    redacted here, the same way, so the contract suite's no-secret-in-logs check stays meaningful.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = str(record.msg).replace(TOKEN, "REDACTED")
        if isinstance(record.args, tuple):
            record.args = tuple(str(a).replace(TOKEN, "REDACTED") for a in record.args)
        return True


@pytest.fixture(autouse=True)
def redact_vcr_logs() -> Iterator[None]:
    names = ("vcr.cassette", "vcr.matchers", "vcr.patch", "vcr.request", "vcr.stubs", "vcr.stubs.httpx_stubs")
    loggers = [logging.getLogger(name) for name in names]
    flt = _RedactToken()
    for logger in loggers:
        logger.addFilter(flt)
    yield
    for logger in loggers:
        logger.removeFilter(flt)


def make(**overrides: Any) -> MoodleConnector:
    return MoodleConnector(MoodleConfig.model_validate({**CONFIG, **overrides}))


async def read_all(connector: MoodleConnector, stream: str) -> list[RawRecord]:
    async with aclosing(connector.read(stream, StreamState())) as records:  # type: ignore[type-var]
        return [record async for record in records]


class TestMoodleContract(ConnectorContract):
    connector_class = MoodleConnector
    config = CONFIG
    cassette_name = "moodle_contract"


def test_plugin_registers_the_connector() -> None:
    assert register_connectors() == [MoodleConnector]
    assert MoodleConnector.kind is ConnectorKind.LMS
    assert {ep.name: ep.value for ep in entry_points(group="fediflow")}.get("moodle") == "connectors.moodle.plugin"


def test_the_token_never_reaches_a_cassette() -> None:
    for cassette in (Path(__file__).parent / "cassettes").glob("*.yaml"):
        assert TOKEN not in cassette.read_text(), cassette.name


async def test_calls_use_the_rest_protocol_with_json(cassette: Any) -> None:
    connector = make()
    try:
        with cassette("moodle_site") as cass:
            records = await read_all(connector, "site")
    finally:
        await connector.aclose()
    assert [r.data for r in records] == [
        {"sitename": "Springfield Moodle", "siteurl": BASE_URL, "siteid": 1, "release": "4.1 (Build: 20221128)",
         "version": "2022112800", "lang": "en"}
    ]  # the token user's own fields (username, fullname ...) are left out
    uri = cass.requests[0].uri
    assert "/webservice/rest/server.php?" in uri
    assert "wsfunction=core_webservice_get_site_info" in uri and "moodlewsrestformat=json" in uri


async def test_invalidtoken_is_a_credentials_error(cassette: Any) -> None:
    connector = make(wstoken="wrong-token-0000")
    try:
        with cassette("moodle_invalid_token"), pytest.raises(ConnectorError) as caught:
            await read_all(connector, "courses")
        with cassette("moodle_invalid_token_check"):
            result = await connector.check()
    finally:
        await connector.aclose()
    assert caught.value.retryable is False and caught.value.status == 401
    assert "rejected the web service token (invalidtoken" in str(caught.value)
    assert not result.ok and "invalidtoken" in result.message and "wrong-token-0000" not in result.message


async def test_check_names_the_functions_the_service_lacks(cassette: Any, fake_moodle: FakeMoodle | None) -> None:
    if fake_moodle:
        fake_moodle.functions = tuple(f for f in ALL_FUNCTIONS if f != "core_enrol_get_enrolled_users")
    connector = make()
    try:
        with cassette("moodle_missing_function"):
            result = await connector.check()
            with pytest.raises(ConnectorError) as caught:
                await read_all(connector, "enrollments")
    finally:
        await connector.aclose()
    assert not result.ok and "lacks core_enrol_get_enrolled_users" in result.message
    assert result.details["missing_functions"] == ["core_enrol_get_enrolled_users"]
    assert caught.value.status == 403 and "accessexception" in str(caught.value)
    assert "add core_enrol_get_enrolled_users to the token's external service" in str(caught.value)


async def test_check_says_the_url_has_no_moodle(cassette: Any) -> None:
    connector = make(base_url=f"{BASE_URL}/moodle")
    try:
        with cassette("moodle_wrong_path"):
            result = await connector.check()
    finally:
        await connector.aclose()
    assert not result.ok and "no Moodle web services at" in result.message and "HTTP 404" in result.message


async def test_enrolled_users_are_paged_and_carry_their_course(cassette: Any) -> None:
    connector = make()
    try:
        with cassette("moodle_enrolled_paged") as cass:
            records = await read_all(connector, "enrollments")
    finally:
        await connector.aclose()
    assert [(r.data["_fediflow"]["courseid"], r.data["id"]) for r in records] == [(2, 4), (2, 5), (2, 6), (3, 4), (3, 5)]
    calls = sorted({r.uri for r in cass.requests if "core_enrol_get_enrolled_users" in r.uri})
    assert len(calls) == 4  # course 2: 2 + 1 users, course 3: 2 + 0 (a short page ends it)
    assert any("options%5B0%5D%5Bvalue%5D=2" in uri for uri in calls)  # limitfrom=2


async def test_site_course_is_skipped(cassette: Any) -> None:
    connector = make()
    try:
        with cassette("moodle_courses"):
            records = await read_all(connector, "courses")
    finally:
        await connector.aclose()
    assert [r.data["id"] for r in records] == [2, 3]


async def test_every_stream_maps_to_valid_canonical_records(cassette: Any) -> None:
    connector = make()
    read: dict[str, list[RawRecord]] = {}
    try:
        with cassette("moodle_all_streams"):
            for spec in connector.streams():
                read[spec.name] = await read_all(connector, spec.name)
    finally:
        await connector.aclose()
    mapped: dict[str, list[Any]] = {}
    for spec in connector.streams():
        mapping = load_mapping(MAPPINGS / f"{spec.name}.yaml", BUILTIN_TYPES)
        assert mapping.target == spec.target
        tables = {t: build_lookup_table(t, (r.data for r in read[t.stream])) for t in mapping.lookups}
        mapped[spec.name] = [mapping.validate(r.data, tables) for r in read[spec.name]]
        assert mapped[spec.name], spec.name
    assert mapped["site"][0].sourcedId == "site" and mapped["site"][0].name == "Springfield Moodle"
    users = {u.sourcedId: u for u in mapped["users"]}
    assert users["4"].givenName == "Jane" and users["4"].enabledUser is True and users["6"].enabledUser is False
    assert users["4"].roles[0].org.sourcedId == "site" and users["4"].roles[0].role == "student"
    assert {c.sourcedId for c in mapped["courses"]} == {c.sourcedId for c in mapped["classes"]} == {"2", "3"}
    klass = next(c for c in mapped["classes"] if c.sourcedId == "2")
    assert klass.course.sourcedId == "2" and klass.terms[0].sourcedId == "default"
    roles = sorted((e.class_.sourcedId, e.user.sourcedId, e.role) for e in mapped["enrollments"])
    assert roles == [("2", "4", "teacher"), ("2", "5", "student"), ("2", "6", "student"),
                     ("3", "4", "teacher"), ("3", "5", "student")]
    assert len({e.sourcedId for e in mapped["enrollments"]}) == 5
