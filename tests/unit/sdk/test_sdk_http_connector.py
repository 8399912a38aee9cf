"""HttpConnector: one client per run, built on first use with the connector's client options, closed by aclose."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from hub.sdk import CheckResult, HttpClient, HttpConnector, HttpSourceConfig, RawRecord, StreamSpec, StreamState


class Echo(HttpConnector):
    name = "echo"
    config_model = HttpSourceConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.built: list[int | None] = []

    def _build_client(self, max_attempts: int | None = None) -> HttpClient:
        self.built.append(max_attempts)
        return HttpClient.from_config(self.config, **self._client_options)  # type: ignore[arg-type]

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
