"""HttpClient against a real loopback server: retries, Retry-After, budgets, errors, redirects, logs."""

from __future__ import annotations

import logging
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import SecretStr
from sdk_testserver import Reply

from hub.errors import ConnectorError
from hub.sdk import ApiKey, BearerToken, HttpClient, RequestBudget, RetryPolicy, Timeouts
from hub.sdk._http import parse_retry_after, user_agent

SECRET = "s3cr3t-t0ken-value"


def client_for(server, sleeps, **kwargs) -> HttpClient:
    return HttpClient(server.url, sleep=sleeps, **kwargs)


async def test_get_json_sends_user_agent_and_parses(server, sleeps):
    server.route("GET", "/api/users", Reply(200, [{"id": 1}]))
    async with client_for(server, sleeps) as client:
        assert await client.get_json("/api/users") == [{"id": 1}]
    assert server.seen[0].headers["user-agent"] == user_agent()
    assert user_agent().startswith("FediFlow/")


async def test_get_text_and_bytes(server, sleeps):
    server.route("GET", "/t", Reply(200, "hello"))
    async with client_for(server, sleeps) as client:
        assert await client.get_text("/t") == "hello"
        assert await client.get_bytes("/t") == b"hello"


async def test_get_json_on_non_json_is_a_connector_error(server, sleeps):
    server.route("GET", "/t", Reply(200, "<html>"))
    async with client_for(server, sleeps) as client:
        with pytest.raises(ConnectorError, match="expected JSON"):
            await client.get_json("/t")


async def test_429_with_retry_after_seconds_then_success(server, sleeps):
    server.route("GET", "/r", [Reply(429, {}, {"Retry-After": "7"}), Reply(200, {"ok": True})])
    async with client_for(server, sleeps) as client:
        assert await client.get_json("/r") == {"ok": True}
    assert sleeps.delays == [7.0]
    assert len(server.seen) == 2


async def test_retry_after_http_date(server, sleeps):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    server.route("GET", "/r", [Reply(503, {}, {"Retry-After": when}), Reply(200, {"ok": True})])
    async with client_for(server, sleeps) as client:
        await client.get_json("/r")
    assert 25 <= sleeps.delays[0] <= 30


async def test_retry_after_beyond_cap_fails_at_once_as_retryable(server, sleeps):
    server.route("GET", "/r", Reply(429, {}, {"Retry-After": "3600"}))
    async with client_for(server, sleeps, retry=RetryPolicy(max_retry_after=60)) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.get_json("/r")
    assert caught.value.retryable and caught.value.status == 429
    assert sleeps.delays == [] and len(server.seen) == 1


async def test_503_retries_exhausted_is_retryable(server, sleeps):
    server.route("GET", "/down", Reply(503, {"error": "maintenance"}))
    async with client_for(
        server, sleeps, retry=RetryPolicy(max_attempts=3, base=1, max_backoff=10)
    ) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.get_json("/down")
    error = caught.value
    assert error.retryable and error.status == 503
    assert "after 3 attempts" in error.message and "/down" in error.message
    assert len(server.seen) == 3
    # full jitter: each wait between 0 and base * 2**(attempt-1)
    assert len(sleeps.delays) == 2 and 0 <= sleeps.delays[0] <= 1 and 0 <= sleeps.delays[1] <= 2


async def test_post_is_not_retried_on_503_but_is_on_429(server, sleeps):
    server.route("POST", "/p", Reply(503))
    server.route("POST", "/q", [Reply(429, headers={"Retry-After": "0"}), Reply(201, {"id": 9})])
    async with client_for(server, sleeps) as client:
        with pytest.raises(ConnectorError):
            await client.request("POST", "/p", json={"a": 1})
        response = await client.request("POST", "/q", json={"a": 1})
    assert response.status_code == 201
    assert [s.path for s in server.seen] == ["/p", "/q", "/q"]
    assert server.seen[-1].body == b'{"a":1}'


async def test_budget_counts_retries_and_stops_the_run(server, sleeps):
    server.route("GET", "/r", [Reply(503), Reply(200, {})])
    budget = RequestBudget(3)
    async with client_for(server, sleeps, budget=budget) as client:
        await client.get_json("/r")  # 2 requests
        assert budget.used == 2 and budget.remaining == 1
        await client.get_json("/r")
        with pytest.raises(ConnectorError, match="request budget of 3") as caught:
            await client.get_json("/r")
    assert not caught.value.retryable
    assert len(server.seen) == 3


@pytest.mark.parametrize("status", [401, 403])
async def test_credentials_errors_never_show_the_secret(server, sleeps, status):
    server.route("GET", "/me", Reply(status, {"error": f"bad token {SECRET}"}))
    async with client_for(server, sleeps, auth=BearerToken(SecretStr(SECRET))) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.get_json("/me")
    error = caught.value
    assert error.status == status and not error.retryable
    assert "credentials" in error.message and SECRET not in error.message and SECRET not in repr(error)
    assert server.seen[0].headers["authorization"] == f"Bearer {SECRET}"


async def test_404_names_the_url_without_query_secrets(server, sleeps):
    auth = ApiKey("query", "api_key", SecretStr(SECRET))
    async with client_for(server, sleeps, auth=auth) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.get_json("/missing", params={"page": 2, "access_token": "other-secret"})
    message = caught.value.message
    assert caught.value.status == 404 and not caught.value.retryable
    assert "/missing" in message and "page=2" in message
    assert SECRET not in message and "other-secret" not in message
    assert server.seen[0].query["api_key"] == SECRET


async def test_other_4xx_shows_a_redacted_snippet(server, sleeps):
    server.route("GET", "/bad", Reply(400, {"error": "invalid filter", "echo": SECRET}))
    async with client_for(server, sleeps, auth=BearerToken(SecretStr(SECRET))) as client:
        with pytest.raises(ConnectorError, match="invalid filter") as caught:
            await client.get_json("/bad")
    assert SECRET not in caught.value.message and not caught.value.retryable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_is_retried_then_retryable(sleeps):
    async with HttpClient(
        f"http://127.0.0.1:{_closed_port()}", sleep=sleeps, retry=RetryPolicy(max_attempts=2)
    ) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.get_json("/x")
    assert caught.value.retryable and "ConnectError" in caught.value.message
    assert len(sleeps.delays) == 1


async def test_read_timeout_is_retried_then_retryable(server, sleeps):
    server.route("GET", "/slow", Reply(200, {}, delay=0.5))
    timeouts = Timeouts(connect=1, read=0.1, total=10)
    async with client_for(server, sleeps, timeouts=timeouts, retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(ConnectorError, match="timed out after 2 attempts") as caught:
            await client.get_json("/slow")
    assert caught.value.retryable


async def test_total_timeout_includes_retries(server):
    server.route("GET", "/r", Reply(503))
    async with HttpClient(
        server.url, timeouts=Timeouts(total=0.3), retry=RetryPolicy(max_attempts=10, base=1, max_backoff=1)
    ) as client:
        random.seed(1)
        with pytest.raises(ConnectorError, match="total timeout") as caught:
            await client.get_json("/r")
    assert caught.value.retryable


async def test_same_origin_redirect_keeps_auth_other_origin_drops_it(server, other_server, sleeps):
    server.route("GET", "/old", Reply(301, headers={"Location": "/new"}))
    server.route("GET", "/new", Reply(302, headers={"Location": f"{other_server.url}/file?x=1"}))
    other_server.route("GET", "/file", Reply(200, {"done": True}))
    auth = ApiKey("header", "X-API-Key", SecretStr(SECRET))
    async with client_for(server, sleeps, auth=auth, headers={"X-Tenant": "a"}) as client:
        assert await client.get_json("/old") == {"done": True}
    assert [s.headers.get("x-api-key") for s in server.seen] == [SECRET, SECRET]
    far = other_server.seen[0]
    assert (
        "x-api-key" not in far.headers
        and "authorization" not in far.headers
        and "x-tenant" not in far.headers
    )
    assert far.headers["user-agent"] == user_agent()


async def test_too_many_redirects(server, sleeps):
    server.route("GET", "/loop", Reply(302, headers={"Location": "/loop"}))
    async with client_for(server, sleeps, max_redirects=3) as client:
        with pytest.raises(ConnectorError, match="more than 3 redirects"):
            await client.get_json("/loop")


async def test_no_secret_in_any_log_record(server, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    server.route("GET", "/r", [Reply(503), Reply(404)])
    auth = ApiKey("query", "key", SecretStr(SECRET))
    async with client_for(server, sleeps, auth=auth, secrets=("extra-secret-1",)) as client:
        with pytest.raises(ConnectorError):
            await client.get_json("/r", params={"q": "extra-secret-1"})
    text = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert "fediflow.sdk" in {r.name for r in caplog.records}
    assert "http retry" in text and "httpx" in {r.name for r in caplog.records}
    assert SECRET not in text and "extra-secret-1" not in text


def test_parse_retry_after():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 10) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_full_jitter_backoff_is_bounded():
    policy = RetryPolicy(base=0.5, max_backoff=4)
    rng = random.Random(3)
    for attempt in range(1, 10):
        assert 0 <= policy.backoff(attempt, rng) <= min(4, 0.5 * 2 ** (attempt - 1))
