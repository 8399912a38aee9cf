"""The ``scim`` client connector: the shared contract on recorded HTTP, paging, check() diagnostics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing

import httpx
import pytest
from scim_fake import BASE_URL, TOKEN, FakeScimServer

from connectors.scim import ScimClientConfig, ScimClientConnector
from hub.sdk import StreamState
from hub.sdk.testkit import ConnectorContract

CONFIG = {"base_url": BASE_URL, "auth": "bearer", "token": TOKEN, "page_size": 1}


@pytest.fixture(autouse=True)
def fake_server(record_mode: str) -> Iterator[None]:
    """The fake SCIM server runs only while recording; replays never touch the network."""
    if record_mode == "none":
        yield
        return
    with FakeScimServer():
        yield


class TestScimClientContract(ConnectorContract):
    connector_class = ScimClientConnector
    config = CONFIG
    cassette_name = "scim_contract"


async def _read(connector: ScimClientConnector, stream: str) -> list[dict]:
    async with aclosing(connector.read(stream, StreamState())) as records:  # type: ignore[type-var]
        return [dict(r.data) async for r in records]


async def test_pages_through_users_and_groups(cassette):
    connector = ScimClientConnector(ScimClientConfig.model_validate(CONFIG))
    try:
        with cassette("scim_read"):
            users = await _read(connector, "users")
            groups = await _read(connector, "groups")
    finally:
        await connector.aclose()
    assert [u["userName"] for u in users] == ["bjensen@example.com", "jsmith"]  # two pages of count=1
    assert users[0]["_fediflow"] == {"org": "scim", "role": "ext:staff", "email": "bjensen@example.com",
                                     "phone": "555-555-5555"}
    assert [g["displayName"] for g in groups] == ["Tour Guides"]


async def test_check_reports_rejected_token(cassette):
    connector = ScimClientConnector(ScimClientConfig.model_validate({**CONFIG, "token": "wrong-token-1234"}))
    with cassette("scim_check_401"):
        result = await connector.check()
    await connector.aclose()
    assert not result.ok
    assert "rejected the bearer token (HTTP 401)" in result.message and "wrong-token" not in result.message


async def test_check_says_when_it_is_not_scim():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"hello": "world"})

    connector = ScimClientConnector(ScimClientConfig.model_validate(CONFIG),
                                    client_options={"transport": httpx.MockTransport(handler)})
    result = await connector.check()
    assert not result.ok and "is not a SCIM 2.0 ServiceProviderConfig" in result.message


async def test_check_unreachable_host():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    connector = ScimClientConnector(ScimClientConfig.model_validate(CONFIG),
                                    client_options={"transport": httpx.MockTransport(handler)})
    result = await connector.check()
    assert not result.ok and result.message.startswith(f"cannot connect to {BASE_URL}")


def test_mappings_turn_rfc_examples_into_canonical_records(hub_env):
    from scim_fake import BJENSEN, TOUR_GUIDES

    from connectors.scim._roles import user_context
    from hub.context import Hub
    from hub.settings import load_settings

    hub = Hub.from_settings(load_settings())
    for connector in ("scim", "scim_push"):
        users = hub.mappings.get(connector, "users")
        user = users.model.model_validate(users.apply({**BJENSEN, "_fediflow": user_context(BJENSEN, "district", "student")}))
        assert user.sourcedId == BJENSEN["id"] and user.username == "bjensen@example.com"
        assert (user.givenName, user.familyName, user.middleName) == ("Barbara", "Jensen", "Jane")
        assert user.email == "bjensen@example.com" and user.identifier == "701984"
        assert user.roles[0].role == "ext:staff" and user.roles[0].org.sourcedId == "district"
        groups = hub.mappings.get(connector, "groups")
        org = groups.model.model_validate(groups.apply({**TOUR_GUIDES, "_fediflow": {"org": "district"}}))
        assert org.name == "Tour Guides" and org.type == "ext:group"
