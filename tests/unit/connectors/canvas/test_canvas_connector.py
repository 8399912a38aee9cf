"""The canvas connector: contract, Link paging, throttling, check() diagnoses, mappings.

Cassettes were recorded against :mod:`canvas_fake` (documented Canvas payloads) with
``pytest tests/unit/connectors/canvas --record-mode=all``; a normal run replays them only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest
from canvas_fake import BASE_URL, TOKEN, FakeCanvas

from connectors.canvas import CanvasConfig, CanvasConnector
from connectors.canvas.plugin import register_connectors
from hub.mapping import build_lookup_table, load_mapping
from hub.sdk import ConnectorError, ConnectorKind, RawRecord, StreamState
from hub.sdk.testkit import ConnectorContract
from schemas import BUILTIN_TYPES

MAPPINGS = Path(__file__).parents[4] / "mappings" / "canvas"
CONFIG = {"base_url": BASE_URL, "access_token": TOKEN, "account_id": "1", "per_page": 2}


@pytest.fixture(autouse=True)
def fake_canvas(record_mode: str) -> Iterator[FakeCanvas | None]:
    """The fake Canvas while recording; nothing while replaying (the cassette answers)."""
    if record_mode == "none":
        yield None
        return
    with FakeCanvas() as canvas:
        yield canvas


@pytest.fixture
def vcr_secrets() -> list[str]:
    return [TOKEN]


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make(sleeps: Sleeps | None = None, **overrides: Any) -> CanvasConnector:
    config = CanvasConfig.model_validate({**CONFIG, **overrides})
    return CanvasConnector(config, client_options={"sleep": sleeps} if sleeps else None)


async def read_all(connector: CanvasConnector, stream: str) -> list[RawRecord]:
    async with aclosing(connector.read(stream, StreamState())) as records:  # type: ignore[type-var]
        return [record async for record in records]


class TestCanvasContract(ConnectorContract):
    connector_class = CanvasConnector
    config = CONFIG
    cassette_name = "canvas_contract"


def test_plugin_registers_the_connector() -> None:
    assert register_connectors() == [CanvasConnector]
    assert CanvasConnector.kind is ConnectorKind.LMS
    names = {ep.name: ep.value for ep in entry_points(group="fediflow")}
    assert names.get("canvas") == "connectors.canvas.plugin"


async def test_listings_follow_the_link_header(cassette: Any) -> None:
    connector = make()
    try:
        with cassette("canvas_users_paged") as cass:
            records = await read_all(connector, "users")
    finally:
        await connector.aclose()
    assert [r.data["id"] for r in records] == [2, 3, 4]
    pages = sorted({r.uri for r in cass.requests if "/users" in r.uri})
    assert len(pages) == 2 and "page=2" in pages[1] and "per_page=2" in pages[1]
    assert records[0].ref.startswith("GET ") and "#0" in records[0].ref
    assert all(r.data["_fediflow"] == {"account_id": "1", "role": "student"} for r in records)


async def test_rate_limit_exceeded_403_is_retried(cassette: Any, fake_canvas: FakeCanvas | None) -> None:
    if fake_canvas:
        fake_canvas.throttle = 2
    sleeps = Sleeps()
    connector = make(sleeps)
    try:
        with cassette("canvas_rate_limited"):
            records = await read_all(connector, "courses")
    finally:
        await connector.aclose()
    assert [r.data["id"] for r in records] == [370663, 7]
    assert len(sleeps.calls) == 2 and sleeps.calls[1] > sleeps.calls[0] * 0.4


async def test_rate_limit_that_persists_is_a_retryable_error(cassette: Any, fake_canvas: FakeCanvas | None) -> None:
    if fake_canvas:
        fake_canvas.throttle = 3
    sleeps = Sleeps()
    connector = make(sleeps, rate_limit_attempts=3)
    try:
        with cassette("canvas_rate_limit_persists"), pytest.raises(ConnectorError) as caught:
            await read_all(connector, "courses")
    finally:
        await connector.aclose()
    assert caught.value.retryable is True and caught.value.status == 403
    assert "Rate Limit Exceeded" in str(caught.value) and TOKEN not in str(caught.value)
    assert len(sleeps.calls) == 2


async def test_low_rate_limit_remaining_slows_down(cassette: Any, fake_canvas: FakeCanvas | None) -> None:
    if fake_canvas:
        fake_canvas.remaining = 12.5
    sleeps = Sleeps()
    connector = make(sleeps, rate_limit_low_water=50, rate_limit_pause=3)
    try:
        with cassette("canvas_low_quota"):
            records = await read_all(connector, "users")  # account + 2 pages of users
    finally:
        await connector.aclose()
    assert len(records) == 3
    assert sleeps.calls == [3.0, 3.0]  # before each request that followed a low-quota answer


async def test_a_plain_403_is_not_retried(cassette: Any) -> None:
    request = httpx.Request("GET", f"{BASE_URL}/api/v1/accounts/1")

    def forbidden(req: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"status": "unauthorized", "errors": [{"message": "user not authorized to perform that action"}]}, request=request)

    sleeps = Sleeps()
    connector = CanvasConnector(
        CanvasConfig.model_validate(CONFIG), client_options={"transport": httpx.MockTransport(forbidden), "sleep": sleeps}
    )
    try:
        result = await connector.check()
    finally:
        await connector.aclose()
    assert not result.ok and "HTTP 403" in result.message and "permission" in result.message
    assert sleeps.calls == []


async def test_check_says_the_token_is_wrong(cassette: Any) -> None:
    connector = make(access_token="not-the-right-token")
    try:
        with cassette("canvas_check_bad_token"):
            result = await connector.check()
    finally:
        await connector.aclose()
    assert not result.ok
    assert "rejected the access token (HTTP 401)" in result.message
    assert "not-the-right-token" not in result.message


async def test_check_says_the_account_is_unknown(cassette: Any) -> None:
    connector = make(account_id="999")
    try:
        with cassette("canvas_check_unknown_account"):
            result = await connector.check()
    finally:
        await connector.aclose()
    assert not result.ok and "no Canvas account '999'" in result.message and "HTTP 404" in result.message


async def test_check_says_the_host_does_not_resolve() -> None:
    def no_dns(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    connector = CanvasConnector(
        CanvasConfig.model_validate({**CONFIG, "base_url": "https://canvas.nowhere.invalid"}),
        client_options={"transport": httpx.MockTransport(no_dns)},
    )
    try:
        result = await connector.check()
    finally:
        await connector.aclose()
    assert not result.ok and "cannot resolve the host" in result.message and "DNS" in result.message


async def test_check_says_nothing_listens() -> None:
    connector = make(base_url="http://127.0.0.1:9", connect_timeout=2)
    try:
        result = await connector.check()
    finally:
        await connector.aclose()
    assert not result.ok and "cannot connect to http://127.0.0.1:9" in result.message


async def test_every_stream_maps_to_valid_canonical_records(cassette: Any) -> None:
    connector = make()
    read: dict[str, list[RawRecord]] = {}
    try:
        with cassette("canvas_all_streams"):
            for spec in connector.streams():
                read[spec.name] = await read_all(connector, spec.name)
    finally:
        await connector.aclose()
    mapped: dict[str, list[Any]] = {}
    for spec in connector.streams():
        mapping = load_mapping(MAPPINGS / f"{spec.name}.yaml", BUILTIN_TYPES)
        assert mapping.target == spec.target
        tables = {
            lookup: build_lookup_table(lookup, (r.data for r in read[lookup.stream])) for lookup in mapping.lookups
        }
        mapped[spec.name] = [mapping.validate(r.data, tables) for r in read[spec.name]]
        assert mapped[spec.name], spec.name

    orgs = {o.sourcedId: o for o in mapped["accounts"]}
    assert orgs["1"].type == "district" and orgs["2"].type == "school" and orgs["2"].parent.sourcedId == "1"
    users = {u.sourcedId: u for u in mapped["users"]}
    assert users["2"].givenName == "Sheldon" and users["2"].username == "sheldon@caltech.example.com"
    assert users["3"].givenName == "Amy Farrah" and users["3"].familyName == "Fowler"  # from sortable_name
    assert users["4"].username == "leonard" and users["4"].email is None
    assert users["2"].roles[0].role == "student" and users["2"].roles[0].org.sourcedId == "1"
    courses = {c.sourcedId: c for c in mapped["courses"]}
    assert courses["370663"].org.sourcedId == "2" and courses["7"].courseCode == "PHYS101"
    classes = {c.sourcedId: c for c in mapped["sections"]}
    assert classes["1"].course.sourcedId == "370663" and classes["1"].school.sourcedId == "2"
    assert [t.sourcedId for t in classes["1"].terms] == ["34"]
    roles = {e.sourcedId: e.role for e in mapped["enrollments"]}
    assert roles == {"11": "teacher", "12": "student", "13": "teacher", "14": "student"}
    first = next(e for e in mapped["enrollments"] if e.sourcedId == "12")
    assert first.class_.sourcedId == "1" and first.school.sourcedId == "2" and first.user.sourcedId == "3"


async def test_one_sync_fetches_the_account_and_the_courses_listing_once(
        hub: Any, cassette: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole sync through the engine (check, five streams, the mappings' lookups into courses):
    the account and the courses listing were fetched twice and six times (issue 12, item 9)."""
    from hub.sync import SyncEngine

    sent: list[str] = []
    send = httpx.AsyncClient.send

    async def counting_send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(request.url.path)
        return await send(self, request, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", counting_send)
    tenant = await hub.store.tenant("default")
    await tenant.add_source("lms", "canvas", tenant.validate_config(CanvasConfig, {**CONFIG, "per_page": 100}))
    with cassette("canvas_one_sync"):
        summary = await SyncEngine(hub).sync(tenant, "lms")
    assert summary.status == "succeeded", summary
    assert sent.count("/api/v1/accounts/1") == 1
    assert sent.count("/api/v1/accounts/1/courses") == 1
    assert sorted(p for p in sent if p.startswith("/api/v1/courses/")) == [
        "/api/v1/courses/370663/enrollments", "/api/v1/courses/370663/sections",
        "/api/v1/courses/7/enrollments", "/api/v1/courses/7/sections"]
