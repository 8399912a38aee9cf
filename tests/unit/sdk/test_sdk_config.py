"""HttpSourceConfig: secrets as SecretStr, auth fields checked, client built from it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.sdk import (
    ApiKey,
    BasicAuth,
    HttpClient,
    HttpSourceConfig,
    OAuth2ClientCredentials,
    secret_fields,
)


def test_secret_fields_and_repr():
    config = HttpSourceConfig(base_url="https://lms.example", auth="basic", username="u", password="pw-1234")
    assert secret_fields(HttpSourceConfig) == {"token", "password", "client_secret"}
    assert "pw-1234" not in repr(config) and "pw-1234" not in config.model_dump_json()
    assert isinstance(config.auth_strategy(), BasicAuth)


def test_missing_auth_fields_and_unknown_keys_are_rejected_without_echoing_secrets():
    with pytest.raises(ValidationError) as caught:
        HttpSourceConfig(
            base_url="https://x.example", auth="oauth2_client_credentials", client_secret="cs-98765"
        )
    assert "token_url, client_id" in str(caught.value) and "cs-98765" not in str(caught.value)
    with pytest.raises(ValidationError):
        HttpSourceConfig(base_url="https://x.example", surprise=1)
    with pytest.raises(ValidationError):
        HttpSourceConfig(base_url="ftp://x.example")


async def test_client_from_config():
    config = HttpSourceConfig(
        base_url="https://x.example/api/",
        auth="api_key",
        token="k-1234",
        api_key_in="query",
        api_key_name="key",
        max_requests=50,
        max_attempts=2,
        read_timeout=5,
    )
    async with HttpClient.from_config(config) as client:
        assert isinstance(client.auth, ApiKey) and client.auth.location == "query"
        assert client.budget is not None and client.budget.max_requests == 50
        assert client.retry.max_attempts == 2 and client.timeouts.read == 5
        assert str(client.base_url) == "https://x.example/api/"
    oauth = HttpSourceConfig(
        base_url="https://x.example",
        auth="oauth2_client_credentials",
        token_url="https://idp.example/token",
        client_id="c",
        client_secret="s-1234",
    )
    assert isinstance(oauth.auth_strategy(), OAuth2ClientCredentials)
    assert HttpSourceConfig(base_url="https://x.example").auth_strategy() is None
