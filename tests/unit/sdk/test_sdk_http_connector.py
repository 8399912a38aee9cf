"""HttpConnector: one client per run, built on first use with the connector's client options, closed by aclose."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from hub.sdk import (
    CheckResult,
    ConnectorError,
    HttpClient,
    HttpConnector,
    HttpSourceConfig,
    RawRecord,
    StreamSpec,
    StreamState,
)


class Echo(HttpConnector[HttpSourceConfig]):
    name = "echo"
    config_model = HttpSourceConfig
    headers = {"Accept": "application/json"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.built: list[int | None] = []

    def new_client(self, *, max_attempts: int | None = None) -> HttpClient:
        self.built.append(max_attempts)
        return super().new_client(max_attempts=max_attempts)

    def streams(self) -> Sequence[StreamSpec]:
        return (StreamSpec("things", "Org"),)

    async def check(self) -> CheckResult:
        return CheckResult(True, "ok")

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        yield RawRecord(await self.client.get_json("things"), "GET things")


async def test_one_client_per_run_with_the_options_and_closed_by_aclose() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"id": "t1"})

    connector = Echo(HttpSourceConfig(base_url="https://api.example.edu/v1/"),
                     client_options={"transport": httpx.MockTransport(handler)})
    first = [r async for r in connector.read("things", StreamState())]
    second = [r async for r in connector.read("things", StreamState())]
    assert first == second == [RawRecord({"id": "t1"}, "GET things")]
    assert connector.built == [None], "built once, on first use"
    assert seen == ["https://api.example.edu/v1/things"] * 2
    client = connector.client
    await connector.aclose()
    assert client._client.is_closed
    assert connector.client is not client, "a new run builds a new client"
    await connector.aclose()
    await connector.aclose()  # closing twice is harmless


async def test_new_client_takes_auth_headers_and_attempts_from_the_recipe() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503)

    config = HttpSourceConfig(base_url="https://api.example.edu/", auth="bearer", token="t0k", max_attempts=3)
    connector = Echo(config, client_options={"transport": httpx.MockTransport(handler), "sleep": _no_sleep})
    async with connector.new_client(max_attempts=1) as client:
        assert client.retry.max_attempts == 1, "check() tries once"
        with pytest.raises(ConnectorError):
            await client.get_json("things")
    assert len(seen) == 1
    assert seen[0].headers["Authorization"] == "Bearer t0k"
    assert seen[0].headers["Accept"] == "application/json"
    assert connector.client.retry.max_attempts == 3
    await connector.aclose()


async def _no_sleep(_: float) -> None:
    return None


def test_config_type_is_the_generic_argument() -> None:
    connector = Echo(HttpSourceConfig(base_url="https://api.example.edu/"))
    assert isinstance(connector.config, HttpSourceConfig)
    assert connector.auth() is None
