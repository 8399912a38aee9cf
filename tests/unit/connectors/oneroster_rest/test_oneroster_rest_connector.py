"""The oneroster_rest connector: contract (1.1 and 1.2), paging with and without X-Total-Count,
incremental cursor, Retry-After, check() diagnoses, 1.1 quirks, mappings of every stream.

Cassettes were recorded against :mod:`oneroster_rest_fake` with
``pytest tests/unit/connectors/oneroster_rest --record-mode=all``; a normal run replays them only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from oneroster_rest_fake import ACCESS_TOKEN, BASE_URL, CLIENT_ID, CLIENT_SECRET, TOKEN_URL, FakeOneRoster

from connectors.oneroster_rest import OneRosterRestConfig, OneRosterRestConnector
from connectors.oneroster_rest._compat import normalise_user
from connectors.oneroster_rest.plugin import register_connectors
from hub.mapping import load_mapping
from hub.sdk import ConnectorKind, RawRecord, StreamState
from hub.sdk.testkit import ConnectorContract
from schemas import BUILTIN_TYPES

MAPPINGS = Path(__file__).parents[4] / "mappings" / "oneroster_rest"
CONFIG_12 = {"base_url": BASE_URL, "version": "1.2", "token_url": TOKEN_URL, "client_id": CLIENT_ID,
             "client_secret": CLIENT_SECRET, "page_size": 2}
CONFIG_11 = {**CONFIG_12, "version": "1.1"}


@pytest.fixture(autouse=True)
def fake_provider(record_mode: str) -> Iterator[FakeOneRoster | None]:
    if record_mode == "none":
        yield None
        return
    with FakeOneRoster() as provider:
        yield provider


@pytest.fixture
def vcr_secrets() -> list[str]:
    return [CLIENT_SECRET, ACCESS_TOKEN]


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make(base: dict[str, Any] = CONFIG_12, sleeps: Sleeps | None = None, **overrides: Any) -> OneRosterRestConnector:
    config = OneRosterRestConfig.model_validate({**base, **overrides})
    return OneRosterRestConnector(config, client_options={"sleep": sleeps} if sleeps else None)


async def read_all(connector: OneRosterRestConnector, stream: str, state: StreamState | None = None) -> list[RawRecord]:
    async with aclosing(connector.read(stream, state or StreamState())) as records:  # type: ignore[type-var]
        return [record async for record in records]


class TestOneRoster12Contract(ConnectorContract):
    connector_class = OneRosterRestConnector
    config = CONFIG_12
    cassette_name = "oneroster_rest_contract_v1p2"


class TestOneRoster11Contract(ConnectorContract):
    connector_class = OneRosterRestConnector
    config = CONFIG_11
    cassette_name = "oneroster_rest_contract_v1p1"


def test_plugin_registers_the_connector() -> None:
    assert register_connectors() == [OneRosterRestConnector]
    assert OneRosterRestConnector.kind is ConnectorKind.SIS
    names = {ep.name: ep.value for ep in entry_points(group="fediflow")}
    assert names.get("oneroster_rest") == "connectors.oneroster_rest.plugin"


def test_no_secret_reaches_a_cassette() -> None:
    for cassette in (Path(__file__).parent / "cassettes").glob("*.yaml"):
        text = cassette.read_text()
        assert CLIENT_SECRET not in text and ACCESS_TOKEN not in text, cassette.name


@pytest.mark.parametrize(("config", "name", "expected_calls"), [(CONFIG_12, "v1p2", 1), (CONFIG_11, "v1p1", 2)])
async def test_paging_ends_at_x_total_count_or_on_a_short_page(
    cassette: Any, config: dict[str, Any], name: str, expected_calls: int
) -> None:
    connector = make(config, page_size=3)
    try:
        with cassette(f"oneroster_rest_paging_{name}") as cass:
            records = await read_all(connector, "users")
    finally:
        await connector.aclose()
    assert [r.data["sourcedId"] for r in records] == ["usr-t1", "usr-s1", "usr-a1"]
    calls = sorted({r.uri for r in cass.requests if "/users" in r.uri})
    # 1.2 sends X-Total-Count (3): one page; 1.1 does not: a second, empty page ends the read
    assert len(calls) == expected_calls
    assert all("limit=3" in uri and "sort=dateLastModified" in uri for uri in calls)
    prefix = "/ims/oneroster/rostering/v1p2/users" if name == "v1p2" else "/ims/oneroster/v1p1/users"
    assert prefix in calls[0]


async def test_first_read_is_complete_and_sets_the_cursor(cassette: Any) -> None:
    connector = make()
    state = StreamState()
    try:
        with cassette("oneroster_rest_full_read"):
            records = await read_all(connector, "enrollments", state)
    finally:
        await connector.aclose()
    assert len(records) == 2 and state.complete is True
    assert state.cursor == {"dateLastModified": "2024-08-10T10:00:00.000Z"}


async def test_next_read_is_a_delta_from_the_cursor(cassette: Any) -> None:
    connector = make()
    state = StreamState(cursor={"dateLastModified": "2024-08-07T10:00:00.000Z"})
    try:
        with cassette("oneroster_rest_delta_read") as cass:
            records = await read_all(connector, "users", state)
    finally:
        await connector.aclose()
    assert [r.data["sourcedId"] for r in records] == ["usr-s1", "usr-a1"]
    assert state.complete is False
    assert state.cursor == {"dateLastModified": "2024-08-08T10:00:00.000Z"}
    data_calls = [r.uri for r in cass.requests if "/users" in r.uri]
    assert "filter=dateLastModified%3E%3D%272024-08-07T10%3A00%3A00.000Z%27" in data_calls[0]


async def test_full_refresh_ignores_the_cursor(cassette: Any) -> None:
    connector = make()
    state = StreamState(cursor={"dateLastModified": "2024-08-07T10:00:00.000Z"}, full_refresh=True)
    try:
        with cassette("oneroster_rest_full_refresh") as cass:
            records = await read_all(connector, "users", state)
    finally:
        await connector.aclose()
    assert len(records) == 3 and state.complete is True
    assert not any("filter=" in r.uri for r in cass.requests)


async def test_429_waits_for_retry_after(cassette: Any, fake_provider: FakeOneRoster | None) -> None:
    if fake_provider:
        fake_provider.throttle = 1
    sleeps = Sleeps()
    connector = make(sleeps=sleeps)
    try:
        with cassette("oneroster_rest_retry_after"):
            records = await read_all(connector, "orgs")
    finally:
        await connector.aclose()
    assert [r.data["sourcedId"] for r in records] == ["org-d1", "org-s1"]
    assert sleeps.calls == [7.0]


async def test_check_names_the_refused_client(cassette: Any) -> None:
    connector = make(client_secret="not-the-secret")
    try:
        with cassette("oneroster_rest_check_bad_client"):
            result = await connector.check()
    finally:
        await connector.aclose()
    assert not result.ok and "invalid_client" in result.message and TOKEN_URL in result.message
    assert "not-the-secret" not in result.message


async def test_check_explains_a_missing_scope(cassette: Any, fake_provider: FakeOneRoster | None) -> None:
    if fake_provider:
        fake_provider.scopes_allowed = False
    connector = make(scope="https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly")
    try:
        with cassette("oneroster_rest_check_scope"):
            result = await connector.check()
    finally:
        await connector.aclose()
    assert not result.ok and "HTTP 403" in result.message and "roster-core.readonly" in result.message


async def test_check_says_the_version_or_url_is_wrong(cassette: Any) -> None:
    connector = make(base_url=f"{BASE_URL}/api")
    try:
        with cassette("oneroster_rest_check_wrong_path"):
            result = await connector.check()
    finally:
        await connector.aclose()
    assert not result.ok and "no OneRoster 1.2 API at" in result.message and "HTTP 404" in result.message


def test_v11_users_get_a_roles_list_and_lose_their_password() -> None:
    org = {"href": "x", "sourcedId": "o1", "type": "org"}
    user = {"sourcedId": "u1", "role": "teacher", "orgs": [org, {**org, "sourcedId": "o2"}], "password": "pw"}
    data = normalise_user(user, "1.1")
    assert "password" not in data and data["role"] == "teacher"
    assert data["roles"] == [
        {"roleType": "primary", "role": "teacher", "org": org},
        {"roleType": "secondary", "role": "teacher", "org": {**org, "sourcedId": "o2"}},
    ]
    assert "roles" not in normalise_user({"sourcedId": "u2", "role": "student"}, "1.1")
    assert normalise_user({"sourcedId": "u3", "roles": []}, "1.2") == {"sourcedId": "u3", "roles": []}


@pytest.mark.parametrize(("config", "name"), [(CONFIG_12, "v1p2"), (CONFIG_11, "v1p1")])
async def test_every_stream_maps_to_valid_canonical_records(cassette: Any, config: dict[str, Any], name: str) -> None:
    connector = make(config)
    mapped: dict[str, dict[str, Any]] = {}
    try:
        with cassette(f"oneroster_rest_all_streams_{name}"):
            for spec in connector.streams():
                mapping = load_mapping(MAPPINGS / f"{spec.name}.yaml", BUILTIN_TYPES)
                assert mapping.target == spec.target and not mapping.lookups
                records = await read_all(connector, spec.name)
                mapped[spec.name] = {r.data["sourcedId"]: mapping.validate(r.data) for r in records}
                assert mapped[spec.name], spec.name
    finally:
        await connector.aclose()
    school = mapped["orgs"]["org-s1"]
    assert school.parent.model_dump() == {"sourcedId": "org-d1", "type": "org"}  # href dropped
    assert mapped["academicSessions"]["as-2025"].schoolYear == "2025"  # a number in the payload
    klass = mapped["classes"]["cls-math-a"]
    assert [t.sourcedId for t in klass.terms] == ["as-t1"] and klass.periods is None
    teacher = mapped["users"]["usr-t1"]
    assert teacher.enabledUser is True
    assert [(r.roleType, r.role, r.org.sourcedId) for r in teacher.roles] == [
        ("primary", "teacher", "org-s1"), ("secondary", "teacher", "org-d1")
    ]
    admin = mapped["users"]["usr-a1"]
    assert admin.enabledUser is False and admin.status == "tobedeleted"
    assert admin.roles[0].role == ("siteAdministrator" if name == "v1p1" else "principal")
    enrollment = mapped["enrollments"]["enr-1"]
    assert enrollment.primary is True and enrollment.class_.sourcedId == "cls-math-a"
    assert mapped["enrollments"]["enr-2"].primary is False
    demo = mapped["demographics"]["usr-s1"]
    assert demo.white is True and demo.asian is False and str(demo.birthDate) == "2015-04-01"
