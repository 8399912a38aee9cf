"""Auth strategies against the loopback server, OAuth2 client credentials through authlib."""

from __future__ import annotations

import base64
import logging
import time

import pytest
from pydantic import SecretStr
from sdk_testserver import Reply, Seen

from hub.errors import ConnectorError
from hub.sdk import ApiKey, BasicAuth, BearerToken, HttpClient, OAuth2ClientCredentials

CLIENT_SECRET = "cl13nt-s3cr3t-xyz"


async def test_bearer_basic_and_api_key_headers(server, sleeps):
    server.route("GET", "/x", Reply(200, {}))
    for auth in (
        BearerToken(SecretStr("tok-123")),
        BasicAuth("ann", SecretStr("pw-456")),
        ApiKey("header", "X-API-Key", SecretStr("key-789")),
    ):
        async with HttpClient(server.url, auth=auth, sleep=sleeps) as client:
            await client.get_json("/x")
    first, second, third = server.seen
    assert first.headers["authorization"] == "Bearer tok-123"
    assert second.headers["authorization"] == "Basic " + base64.b64encode(b"ann:pw-456").decode()
    assert third.headers["x-api-key"] == "key-789" and "authorization" not in third.headers


async def test_api_key_in_query(server, sleeps):
    server.route("GET", "/x", Reply(200, {}))
    async with HttpClient(
        server.url, auth=ApiKey("query", "apikey", SecretStr("key-789")), sleep=sleeps
    ) as client:
        await client.get_json("/x", params={"a": "1"})
    assert server.seen[0].query == {"a": "1", "apikey": "key-789"}


def test_reprs_hide_secrets():
    strategies = [
        BearerToken(SecretStr("tok-123")),
        BasicAuth("ann", SecretStr("pw-456")),
        ApiKey("header", "X-API-Key", SecretStr("key-789")),
        OAuth2ClientCredentials("https://idp/token", "cid", SecretStr(CLIENT_SECRET)),
    ]
    shown = " ".join(repr(s) for s in strategies)
    assert not any(secret in shown for secret in ("tok-123", "pw-456", "key-789", CLIENT_SECRET))
    with pytest.raises(ValueError):
        ApiKey("cookie", "k", SecretStr("x"))  # type: ignore[arg-type]


class TokenEndpoint:
    """A token endpoint issuing ``token-1``, ``token-2`` ... checking client_secret_basic auth."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.issued = 0
        self.expires_in = expires_in

    def __call__(self, seen: Seen) -> Reply:
        expected = "Basic " + base64.b64encode(f"cid:{CLIENT_SECRET}".encode()).decode()
        if seen.headers.get("authorization") != expected or b"grant_type=client_credentials" not in seen.body:
            return Reply(401, {"error": "invalid_client", "error_description": "bad client credentials"})
        self.issued += 1
        return Reply(
            200,
            {
                "access_token": f"token-{self.issued}",
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "scope": "roster.read",
            },
        )


def oauth(server, secret: str = CLIENT_SECRET) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(f"{server.url}/oauth/token", "cid", SecretStr(secret), "roster.read")


async def test_oauth2_fetches_once_caches_and_refreshes_before_expiry(server, sleeps):
    tokens = TokenEndpoint()
    server.route("POST", "/oauth/token", tokens)
    server.route("GET", "/api", lambda seen: Reply(200, {"auth": seen.headers.get("authorization")}))
    auth = oauth(server)
    async with HttpClient(server.url, auth=auth, sleep=sleeps) as client:
        assert await client.get_json("/api") == {"auth": "Bearer token-1"}
        assert await client.get_json("/api") == {"auth": "Bearer token-1"}
        assert auth.fetches == 1
        auth._token["expires_at"] = int(time.time()) + 30  # inside the 60 s leeway: refresh first
        assert await client.get_json("/api") == {"auth": "Bearer token-2"}
    assert auth.fetches == 2 and tokens.issued == 2
    assert server.seen[0].body.count(b"scope=roster.read") == 1


async def test_oauth2_short_lived_token_is_refetched(server, sleeps):
    server.route("POST", "/oauth/token", TokenEndpoint(expires_in=30))  # shorter than the leeway
    server.route("GET", "/api", Reply(200, {}))
    auth = oauth(server)
    async with HttpClient(server.url, auth=auth, sleep=sleeps) as client:
        await client.get_json("/api")
        await client.get_json("/api")
    assert auth.fetches == 2


async def test_oauth2_401_refreshes_once_then_succeeds(server, sleeps):
    server.route("POST", "/oauth/token", TokenEndpoint())
    server.route(
        "GET",
        "/api",
        lambda seen: (
            Reply(200, {})
            if seen.headers["authorization"] == "Bearer token-2"
            else Reply(401, {"error": "revoked"})
        ),
    )
    auth = oauth(server)
    async with HttpClient(server.url, auth=auth, sleep=sleeps) as client:
        assert await client.get_json("/api") == {}
    assert auth.fetches == 2
    assert [s.path for s in server.seen] == ["/oauth/token", "/api", "/oauth/token", "/api"]


async def test_oauth2_persistent_401_is_a_credentials_error_after_one_refresh(server, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    server.route("POST", "/oauth/token", TokenEndpoint())
    server.route("GET", "/api", Reply(401, {"error": "nope"}))
    auth = oauth(server)
    async with HttpClient(server.url, auth=auth, sleep=sleeps) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.get_json("/api")
    assert caught.value.status == 401 and "credentials" in caught.value.message
    assert auth.fetches == 2
    logged = "".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert CLIENT_SECRET not in logged and "token-1" not in logged and "token-2" not in logged


async def test_oauth2_wrong_client_secret(server, sleeps):
    server.route("POST", "/oauth/token", TokenEndpoint())
    async with HttpClient(server.url, auth=oauth(server, "wrong-secret-value"), sleep=sleeps) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.get_json("/api")
    error = caught.value
    assert "refused the client credentials (invalid_client)" in error.message and not error.retryable
    assert "wrong-secret-value" not in error.message and "wrong-secret-value" not in repr(error)
    assert len(server.seen) == 1  # nothing sent to the API without a token


async def test_oauth2_token_endpoint_down_is_retryable(server, sleeps):
    server.route("POST", "/oauth/token", Reply(503, "maintenance"))
    async with HttpClient(server.url, auth=oauth(server), sleep=sleeps) as client:
        with pytest.raises(ConnectorError) as caught:
            await client.get_json("/api")
    assert caught.value.retryable and caught.value.status == 503


async def test_oauth2_client_secret_post(server, sleeps):
    def endpoint(seen: Seen) -> Reply:
        ok = f"client_secret={CLIENT_SECRET}".encode() in seen.body and "authorization" not in seen.headers
        return (
            Reply(200, {"access_token": "t", "token_type": "Bearer", "expires_in": 600}) if ok else Reply(401)
        )

    server.route("POST", "/oauth/token", endpoint)
    server.route("GET", "/api", Reply(200, {}))
    auth = OAuth2ClientCredentials(
        f"{server.url}/oauth/token", "cid", SecretStr(CLIENT_SECRET), auth_method="client_secret_post"
    )
    async with HttpClient(server.url, auth=auth, sleep=sleeps) as client:
        await client.get_json("/api")
    assert auth.fetches == 1
