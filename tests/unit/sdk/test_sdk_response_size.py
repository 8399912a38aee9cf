"""HttpClient caps the size of a response body, reading it as a stream (hub.sdk._body)."""

from __future__ import annotations

import gzip

import pytest
from sdk_testserver import Reply

from hub.errors import ConnectorError
from hub.sdk import HttpClient, HttpSourceConfig
from hub.sdk._body import DEFAULT_MAX_RESPONSE_BYTES

LIMIT = 4096


async def test_a_body_within_the_limit_is_read(server, sleeps):
    server.route("GET", "/ok", Reply(200, b"x" * LIMIT))
    async with HttpClient(server.url, sleep=sleeps, max_response_bytes=LIMIT) as client:
        assert await client.get_bytes("/ok") == b"x" * LIMIT


async def test_a_declared_length_over_the_limit_is_refused_without_retry(server, sleeps):
    server.route("GET", "/big", Reply(200, b"x" * (LIMIT + 1)))
    async with HttpClient(server.url, sleep=sleeps, max_response_bytes=LIMIT) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.get_bytes("/big")
    message = str(caught.value)
    assert f"GET {server.url}/big: the response is {LIMIT + 1} bytes (Content-Length)" in message
    assert f"over the limit of {LIMIT} bytes (max_response_bytes)" in message
    assert caught.value.retryable is False
    assert len(server.seen) == 1 and sleeps.delays == []


async def test_the_limit_counts_decoded_bytes(server, sleeps):
    """A small gzip body that inflates past the limit (a compression bomb) stops at the limit."""
    bomb = gzip.compress(b"\0" * (LIMIT * 100))
    assert len(bomb) < LIMIT
    server.route("GET", "/bomb", Reply(200, bomb, headers={"Content-Encoding": "gzip"}))
    async with HttpClient(server.url, sleep=sleeps, max_response_bytes=LIMIT) as client:
        with pytest.raises(ConnectorError, match=f"more than {LIMIT} bytes, over the limit of {LIMIT} bytes"):
            await client.get_bytes("/bomb")


async def test_a_large_error_body_still_gives_the_status_error(server, sleeps):
    server.route("GET", "/bad", Reply(400, "invalid filter " + "y" * (LIMIT * 50)))
    async with HttpClient(server.url, sleep=sleeps, max_response_bytes=LIMIT) as client:
        with pytest.raises(ConnectorError, match="HTTP 400: invalid filter y") as caught:
            await client.get_bytes("/bad")
    assert caught.value.status == 400


async def test_the_limit_comes_from_the_source_config(server, sleeps):
    assert HttpSourceConfig(base_url="https://x.example").max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
    config = HttpSourceConfig(base_url=server.url, max_response_bytes=LIMIT)
    server.route("GET", "/big", Reply(200, b"x" * (LIMIT * 2)))
    async with HttpClient.from_config(config, sleep=sleeps) as client:
        assert client.max_response_bytes == LIMIT
        with pytest.raises(ConnectorError, match="max_response_bytes"):
            await client.get_bytes("/big")
    with pytest.raises(ValueError):
        HttpSourceConfig(base_url="https://x.example", max_response_bytes=10)


async def test_redirects_and_retries_still_work_with_streamed_bodies(server, sleeps):
    server.route("GET", "/old", Reply(302, headers={"Location": "/new"}))
    server.route("GET", "/new", [Reply(503, "busy"), Reply(200, {"ok": True})])
    async with HttpClient(server.url, sleep=sleeps, max_response_bytes=LIMIT) as client:
        assert await client.get_json("/old") == {"ok": True}
    assert [s.path for s in server.seen] == ["/old", "/new", "/old", "/new"]
