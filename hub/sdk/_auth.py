"""Auth strategies for :class:`~hub.sdk.HttpClient`: small ``httpx.Auth`` classes.

Every strategy keeps its secret as a :class:`~pydantic.SecretStr` until the moment a request is
signed, never puts it in ``repr`` and reports what must be redacted through :meth:`secrets`.
The client only ever runs them through ``httpx.AsyncClient`` (they are async-only).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import warnings
from collections.abc import AsyncGenerator, Generator
from typing import Any, Literal

import httpx
from pydantic import ConfigDict, Field, SecretStr, model_validator

from hub.errors import ConnectorError
from hub.sdk._body import DEFAULT_MAX_RESPONSE_BYTES
from hub.sdk._connector import ConnectorConfig

__all__ = [
    "ApiKey",
    "AuthStrategy",
    "BasicAuth",
    "BearerToken",
    "HttpEndpointConfig",
    "HttpSourceConfig",
    "OAuth2ClientCredentials",
]

log = logging.getLogger("fediflow.sdk")


class AuthStrategy(httpx.Auth):
    """Base of the SDK's auth strategies: async-only, with the secrets to redact."""

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in a log record, an error message or a cassette."""
        return ()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError(f"{type(self).__name__} is used through the SDK's async HttpClient only")

    async def aclose(self) -> None:
        """Release what the strategy holds (the OAuth2 token client)."""


class BearerToken(AuthStrategy):
    """``Authorization: Bearer <token>`` with a fixed token (a personal access token, a Canvas key)."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "BearerToken(token=SecretStr('**********'))"

    def secrets(self) -> tuple[str, ...]:
        return (self._token.get_secret_value(),)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request


class ApiKey(AuthStrategy):
    """An API key sent in a header (``ApiKey("header", "X-API-Key", key)``) or a query parameter.

    Prefer the header form: query strings end up in access logs upstream. The SDK redacts the
    parameter from its own logs, error messages and cassettes either way.
    """

    def __init__(self, location: Literal["header", "query"], name: str, key: SecretStr) -> None:
        if location not in ("header", "query"):
            raise ValueError("ApiKey location must be 'header' or 'query'")
        self.location = location
        self.name = name
        self._key = key

    def __repr__(self) -> str:
        return f"ApiKey({self.location!r}, {self.name!r}, SecretStr('**********'))"

    def secrets(self) -> tuple[str, ...]:
        return (self._key.get_secret_value(),)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.location == "header":
            request.headers[self.name] = self._key.get_secret_value()
        else:
            request.url = request.url.copy_set_param(self.name, self._key.get_secret_value())
        yield request


class BasicAuth(AuthStrategy):
    """HTTP Basic authentication (RFC 7617)."""

    def __init__(self, username: str, password: SecretStr) -> None:
        self.username = username
        self._password = password

    def __repr__(self) -> str:
        return f"BasicAuth({self.username!r}, SecretStr('**********'))"

    def _encoded(self) -> str:
        raw = f"{self.username}:{self._password.get_secret_value()}".encode()
        return base64.b64encode(raw).decode("ascii")

    def secrets(self) -> tuple[str, ...]:
        return (self._password.get_secret_value(), self._encoded())

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Basic {self._encoded()}"
        yield request


def _authlib_client_class() -> type[Any]:
    """Import authlib's httpx integration lazily.

    authlib warns (AuthlibDeprecationWarning) that it would rather use the ``httpx2`` package; the
    legacy ``httpx`` path is the one this project depends on, so that one warning is silenced by
    name here instead of for the whole process.
    """
    with warnings.catch_warnings():
        from authlib.deprecate import AuthlibDeprecationWarning

        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    return AsyncOAuth2Client


class OAuth2ClientCredentials(AuthStrategy):
    """OAuth 2.0 client credentials grant (RFC 6749 section 4.4) through authlib.

    The access token is fetched on first use, cached, fetched again ``leeway`` seconds before it
    expires, and once more when the API answers 401 (a token revoked early). ``auth_method`` is
    how the client authenticates at the token endpoint: ``client_secret_basic`` (the default) or
    ``client_secret_post``.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scope: str | None = None,
        *,
        auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic",
        extra_params: dict[str, str] | None = None,
        leeway: int = 60,
        timeout: float = 30.0,
        verify: bool = True,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope
        self.auth_method = auth_method
        self.extra_params = dict(extra_params or {})
        self.leeway = leeway
        self._timeout = timeout
        self._verify = verify
        self._client: Any = None
        self._token: dict[str, Any] | None = None
        self._lock: asyncio.Lock | None = None
        #: how many tokens were fetched (for tests and metrics)
        self.fetches = 0

    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentials({self.token_url!r}, {self.client_id!r}, "
            f"SecretStr('**********'), scope={self.scope!r})"
        )

    def secrets(self) -> tuple[str, ...]:
        found = [self._client_secret.get_secret_value()]
        if self._token:
            found += [str(self._token[k]) for k in ("access_token", "refresh_token") if self._token.get(k)]
        return tuple(found)

    def _oauth_client(self) -> Any:
        if self._client is None:
            self._client = _authlib_client_class()(
                client_id=self.client_id,
                client_secret=self._client_secret.get_secret_value(),
                scope=self.scope,
                token_endpoint=self.token_url,
                token_endpoint_auth_method=self.auth_method,
                grant_type="client_credentials",
                leeway=self.leeway,
                timeout=self._timeout,
                verify=self._verify,
            )
        return self._client

    def _expired(self) -> bool:
        if not self._token:
            return True
        expires_at = self._token.get("expires_at")
        return isinstance(expires_at, int | float) and expires_at - self.leeway < time.time()

    async def access_token(self, *, stale: str | None = None) -> str:
        """A valid access token, fetched if there is none, it is about to expire, or it is ``stale``."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            current = self._token.get("access_token") if self._token else None
            if current is None or self._expired() or (stale is not None and current == stale):
                self._token = await self._fetch()
            return str(self._token["access_token"])

    async def _fetch(self) -> dict[str, Any]:
        from authlib.integrations.base_client import OAuthError

        where = httpx.URL(self.token_url).copy_with(query=None)
        try:
            token = await self._oauth_client().fetch_token(
                self.token_url, grant_type="client_credentials", **self.extra_params
            )
        except OAuthError as exc:
            raise ConnectorError(
                f"the token endpoint {where} refused the client credentials ({exc.error}); "
                "check the client id and secret in the source's config",
                retryable=False,
                status=401,
            ) from None
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            raise ConnectorError(
                f"the token endpoint {where} answered HTTP {status}",
                retryable=status >= 500 or status == 429,
                status=status,
            ) from None
        except httpx.TransportError as exc:
            raise ConnectorError(
                f"could not reach the token endpoint {where}: {type(exc).__name__}", retryable=True
            ) from None
        if not token.get("access_token"):
            raise ConnectorError(f"the token endpoint {where} returned no access_token", retryable=False)
        self.fetches += 1
        log.debug(
            "oauth2 token fetched",
            extra={
                "token_url": str(where),
                "expires_in": token.get("expires_in"),
                "scope": token.get("scope"),
            },
        )
        return dict(token)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # Revoked or rotated early: one fresh token, one more try, then the 401 stands.
            await response.aread()
            fresh = await self.access_token(stale=token)
            request.headers["Authorization"] = f"Bearer {fresh}"
            yield request

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


# --- config -------------------------------------------------------------------------------------


class HttpEndpointConfig(ConnectorConfig):
    """Where an HTTP API is and how patient to be with it; no credentials.

    The base of a vendor's config whose credentials have vendor names (Canvas's
    ``access_token``, Moodle's ``wstoken``): the connector adds them and builds its auth in
    :meth:`HttpConnector.auth <hub.sdk.HttpConnector.auth>`. A connector whose API takes one of
    the usual schemes derives from :class:`HttpSourceConfig`, which adds them. A subclass may
    re-declare a field to change its default (a slower API's ``read_timeout``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    base_url: str = Field(pattern=r"^https?://")
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    total_timeout: float = Field(default=300.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=10)
    max_requests: int | None = Field(default=None, ge=1)
    #: largest response body read, in bytes (decoded); a bigger one stops the read with a ConnectorError
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, ge=1024)
    verify_tls: bool = True

    def auth_strategy(self) -> AuthStrategy | None:
        """The auth strategy this config describes: none here (see :class:`HttpSourceConfig`)."""
        return None


class HttpSourceConfig(HttpEndpointConfig):
    """Base config of an HTTP connector: where, how to authenticate, how patient to be.

    Secrets are top-level ``SecretStr`` fields (so the store encrypts them at rest and
    ``secret_fields`` finds them); ``auth`` says which of them are used. Subclass it and add the
    connector's own fields; :class:`~hub.sdk.HttpConnector` builds the client from it.
    """

    auth: Literal["none", "bearer", "api_key", "basic", "oauth2_client_credentials"] = "none"
    token: SecretStr | None = None
    api_key_in: Literal["header", "query"] = "header"
    api_key_name: str = "X-API-Key"
    username: str | None = None
    password: SecretStr | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scope: str | None = None

    @model_validator(mode="after")
    def _auth_fields_present(self) -> HttpSourceConfig:
        needed = {
            "bearer": ("token",),
            "api_key": ("token",),
            "basic": ("username", "password"),
            "oauth2_client_credentials": ("token_url", "client_id", "client_secret"),
        }.get(self.auth, ())
        missing = [name for name in needed if getattr(self, name) in (None, "")]
        if missing:
            raise ValueError(f"auth {self.auth!r} needs {', '.join(missing)}")
        return self

    def auth_strategy(self) -> AuthStrategy | None:
        """The auth strategy this config describes (``None`` for ``auth="none"``)."""
        if self.auth == "bearer" and self.token is not None:
            return BearerToken(self.token)
        if self.auth == "api_key" and self.token is not None:
            return ApiKey(self.api_key_in, self.api_key_name, self.token)
        if self.auth == "basic" and self.username and self.password is not None:
            return BasicAuth(self.username, self.password)
        if (
            self.auth == "oauth2_client_credentials"
            and self.token_url
            and self.client_id
            and self.client_secret
        ):
            return OAuth2ClientCredentials(
                self.token_url,
                self.client_id,
                self.client_secret,
                self.scope,
                timeout=self.read_timeout,
                verify=self.verify_tls,
            )
        return None


# --- redaction ----------------------------------------------------------------------------------

#: query parameter names whose values are always redacted (case-insensitive substring match)
SENSITIVE_PARAM_PARTS = ("token", "key", "secret", "password", "passwd", "signature", "sig", "code", "auth")
REDACTED = "REDACTED"


def _sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in SENSITIVE_PARAM_PARTS)


def redact_text(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """``text`` with every occurrence of each of ``secrets`` replaced."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact_url(url: httpx.URL | str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """``url`` without user info and with secret-looking query values replaced, for messages and logs."""
    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError):
        return REDACTED
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if parsed.query:
        pairs = [
            (k, REDACTED if _sensitive(k) or v in secrets else v) for k, v in parsed.params.multi_items()
        ]
        parsed = parsed.copy_with(params=pairs)
    return redact_text(str(parsed), secrets)
