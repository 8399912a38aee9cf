"""The test kit: cassettes recorded against the loopback server carry no secret and replay offline;
the contract suite passes for a well-behaved HTTP connector and catches the usual mistakes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from pydantic import ConfigDict, SecretStr
from sdk_testserver import LocalServer, Reply, Seen

from hub.errors import ConnectorError
from hub.sdk import (
    ApiKey,
    CheckResult,
    Connector,
    ConnectorConfig,
    ConnectorKind,
    Cursor,
    HttpClient,
    HttpSourceConfig,
    OAuth2ClientCredentials,
    OffsetLimitPaging,
    RawRecord,
    StreamSpec,
    StreamState,
)
from hub.sdk.testkit import REDACTED, ConnectorContract, vcr_config_for
from hub.sdk.testkit._scrub import make_vcr

CLIENT_SECRET = "cassette-client-secret-42"
API_KEY = "cassette-api-key-77"
TOKEN = "cassette-bearer-token-99"
USERS = [{"id": i, "name": f"user {i}", "updated": f"2026-01-0{i}T00:00:00Z"} for i in range(1, 6)]


def serve_api(server: LocalServer) -> None:
    server.route(
        "POST",
        "/oauth/token",
        Reply(
            200,
            {
                "access_token": "issued-access-token-1",
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": "issued-refresh-2",
            },
        ),
    )
    server.route(
        "GET", "/api/me", Reply(200, {"id": "me", "echo": API_KEY}, {"Set-Cookie": "session=abc123"})
    )

    def listing(seen: Seen) -> Reply:
        offset, limit = int(seen.query.get("offset", 0)), int(seen.query.get("limit", 100))
        return Reply(200, {"data": USERS[offset : offset + limit]})

    server.route("GET", "/api/users", listing)
    server.route(
        "GET", "/api/enrollments", Reply(200, {"data": [{"id": "e1", "user": 1, "updated": "2026-01-01"}]})
    )


async def exercise(base_url: str) -> list:
    oauth = OAuth2ClientCredentials(f"{base_url}/oauth/token", "cid", SecretStr(CLIENT_SECRET))
    out = []
    async with HttpClient(base_url, auth=oauth) as client:
        out.append(await client.get_json("/api/me"))
        async for page in client.paginate(
            "/api/users", {"limit": 2}, OffsetLimitPaging(limit=2, items_path="data")
        ):
            out.extend(page.items)
    async with HttpClient(base_url, auth=ApiKey("query", "api_key", SecretStr(API_KEY))) as client:
        out.append(await client.get_json("/api/me"))
    return out


async def test_recorded_cassette_has_no_secret_and_replays_offline(tmp_path):
    server = LocalServer().start()
    serve_api(server)
    secrets = [CLIENT_SECRET, API_KEY]
    try:
        with make_vcr(vcr_config_for(secrets, "once"), tmp_path).use_cassette("api"):
            live = await exercise(server.url)
    finally:
        server.stop()
    text = (tmp_path / "api.yaml").read_text()
    for secret in (CLIENT_SECRET, API_KEY, "issued-access-token-1", "issued-refresh-2", "session=abc123"):
        assert secret not in text, f"{secret[:8]}... found in the cassette"
    assert REDACTED in text and "user 5" in text

    # server gone: replay only, same results (the scrubbed token is what the replayed API returns)
    with make_vcr(vcr_config_for(secrets, "none"), tmp_path).use_cassette("api"):
        replayed = await exercise(server.url)
    assert replayed[1:-1] == live[1:-1]
    assert replayed[0]["echo"] == REDACTED


async def test_replay_mode_none_never_reaches_the_network(tmp_path, server):
    serve_api(server)
    with make_vcr(vcr_config_for([], "none"), tmp_path).use_cassette("missing"):
        async with HttpClient(server.url) as client:
            with pytest.raises(Exception, match="Can't play back this request"):
                await client.get_json("/api/me")
    assert server.seen == []


def test_record_mode_fixture_defaults_to_none(record_mode, vcr_config, cassette_dir):
    assert record_mode == "none" and vcr_config["record_mode"] == "none"
    assert cassette_dir == Path(__file__).parent / "cassettes"


# --- the contract suite on an example connector ----------------------------------------------------


class ExampleConfig(HttpSourceConfig):
    pass


class ExampleConnector(Connector):
    name = "example_http"
    kind = ConnectorKind.LMS
    title = "Example LMS"
    config_model = ExampleConfig

    def __init__(self, config: ExampleConfig) -> None:
        super().__init__(config)
        self.client = HttpClient.from_config(config)

    def streams(self) -> Sequence[StreamSpec]:
        return [StreamSpec("users", "User"), StreamSpec("enrollments", "Enrollment", depends_on=("users",))]

    async def check(self) -> CheckResult:
        try:
            me = await self.client.get_json("/api/me")
        except ConnectorError as exc:
            return CheckResult(False, exc.message)
        return CheckResult(True, f"connected as {me['id']}")

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        cursor = Cursor(state, "since")
        since = cursor.start()
        logging.getLogger("fediflow.connectors.example").debug(
            "reading", extra={"stream": stream, "since": since}
        )
        params = {"since": since} if since else {}
        async for page in self.client.paginate(
            f"/api/{stream}", params, OffsetLimitPaging(limit=2, items_path="data")
        ):
            for n, item in enumerate(page.items):
                yield RawRecord(item, ref=f"GET /api/{stream} page {page.number} #{n}")
                cursor.advance(item["updated"])
        cursor.finish()

    async def aclose(self) -> None:
        await self.client.aclose()


class TestExampleContract(ConnectorContract):
    """Records into a temporary cassette against the loopback server, as a connector's first run would."""

    connector_class = ExampleConnector
    cassette_name = "example_contract"

    @pytest.fixture
    def record_mode(self) -> str:
        return "once"

    @pytest.fixture
    def cassette_dir(self, tmp_path: Path) -> Path:
        return tmp_path

    @pytest.fixture
    def connector_config(self, server: LocalServer) -> ExampleConfig:
        serve_api(server)
        return ExampleConfig(base_url=server.url, auth="bearer", token=TOKEN)


# --- the contract catches mistakes -----------------------------------------------------------------


class LooseConfig(ConnectorConfig):
    model_config = ConfigDict(frozen=False, extra="ignore")
    password: str = "hunter2-plain"


class LeakyConnector(ExampleConnector):
    name = "leaky"
    config_model = ExampleConfig

    async def check(self) -> CheckResult:
        logging.getLogger("fediflow.connectors.leaky").warning("using token %s", TOKEN)
        return CheckResult(True, "ok")


class LooseConnector(ExampleConnector):
    name = "Loose Name"
    title = ""
    config_model = LooseConfig  # type: ignore[assignment]


def test_contract_rejects_loose_config_and_identity():
    contract = type("Probe", (ConnectorContract,), {"connector_class": LooseConnector})()
    with pytest.raises(AssertionError, match="lower_snake"):
        contract.test_identity()
    config = LooseConfig()
    with pytest.raises(AssertionError):
        contract.test_config_model_is_frozen_and_strict(config)
    with pytest.raises(AssertionError, match="must be typed SecretStr"):
        contract.test_secrets_are_secretstr_and_hidden(config, [])


async def test_contract_catches_a_secret_in_the_logs(server, caplog):
    serve_api(server)
    contract = type("Probe", (ConnectorContract,), {"connector_class": LeakyConnector})()
    connector = LeakyConnector(ExampleConfig(base_url=server.url, auth="bearer", token=TOKEN))
    try:
        from contextlib import nullcontext

        with pytest.raises(AssertionError, match="secret appears in log record"):
            await contract.test_check(connector, nullcontext, [TOKEN], caplog)
    finally:
        await connector.aclose()
