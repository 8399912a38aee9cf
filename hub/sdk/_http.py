"""The connector SDK's HTTP client: one ``httpx.AsyncClient`` with auth, retries, budgets and paging.

Every httpx error and every HTTP error status leaves this module as a
:class:`~hub.errors.ConnectorError` whose message names the request (URL redacted) and never a
secret; ``retryable`` tells the engine whether trying the run again later may help.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Self

import httpx

from hub.errors import ConnectorError
from hub.sdk._auth import AuthStrategy, HttpEndpointConfig, redact_text, redact_url
from hub.sdk._body import DEFAULT_MAX_RESPONSE_BYTES, ERROR_BODY_BYTES, read_body
from hub.sdk._log_filter import forget_secrets, watch_secrets
from hub.sdk._paging import LinkHeaderPaging, Page, PagingStrategy, ResponseInfo
from hub.sdk._policies import RequestBudget, RetryPolicy, Timeouts, parse_retry_after

__all__ = ["HttpClient", "RequestBudget", "RetryPolicy", "Timeouts", "parse_retry_after", "user_agent"]

log = logging.getLogger("fediflow.sdk")

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_RETRYABLE_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.PoolTimeout,
    httpx.RemoteProtocolError,
)
# errors raised before any byte of the request reached the server: safe to retry for any method
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_SAFE_REDIRECT_HEADERS = ("user-agent", "accept", "accept-encoding")


def user_agent() -> str:
    """``FediFlow/<version>``, the default User-Agent of every SDK request."""
    try:
        return f"FediFlow/{version('fediflow')}"
    except PackageNotFoundError:
        return "FediFlow/dev"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class HttpClient:
    """An async HTTP client for one upstream API. Use ``async with`` or call :meth:`aclose`.

    ``base_url`` prefixes relative paths; ``auth`` signs every request to that origin (and none to
    another: redirects and ``next`` links leaving the origin go without credentials, or are
    refused). ``secrets`` adds strings to redact beyond those of ``auth``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: AuthStrategy | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        budget: RequestBudget | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        max_redirects: int = 5,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        verify: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.budget = budget
        self.auth = auth
        self.max_redirects = max_redirects
        self.max_response_bytes = max_response_bytes
        self._extra_secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        default_headers = {
            "User-Agent": user_agent(),
            "Accept": "application/json, application/xml;q=0.9, */*;q=0.5",
        }
        self._client = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            headers={**default_headers, **(headers or {})},
            timeout=self.timeouts.httpx(),
            follow_redirects=False,  # followed here, so credentials never leave the origin
            verify=verify,
            transport=transport,
        )
        self._origin = _origin(self._client.base_url)
        watch_secrets(self)

    @classmethod
    def from_config(cls, config: HttpEndpointConfig, **overrides: Any) -> HttpClient:
        """A client built from an :class:`HttpSourceConfig` or :class:`HttpEndpointConfig` (keyword ``overrides`` win)."""
        options: dict[str, Any] = {
            "auth": config.auth_strategy(),
            "timeouts": Timeouts(config.connect_timeout, config.read_timeout, config.total_timeout),
            "retry": RetryPolicy(max_attempts=config.max_attempts),
            "budget": RequestBudget(config.max_requests) if config.max_requests else None,
            "verify": config.verify_tls,
            "max_response_bytes": config.max_response_bytes,
        }
        return cls(config.base_url, **{**options, **overrides})

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
        if self.auth is not None:
            await self.auth.aclose()
        forget_secrets(self)

    @property
    def base_url(self) -> httpx.URL:
        return self._client.base_url

    def secrets(self) -> tuple[str, ...]:
        """Every string to keep out of logs and messages: the auth strategy's and the extra ones."""
        return (self.auth.secrets() if self.auth else ()) + self._extra_secrets

    def redact(self, text: str) -> str:
        return redact_text(text, self.secrets())

    def redact_url(self, url: httpx.URL | str) -> str:
        return redact_url(url, self.secrets())

    # --- requests -------------------------------------------------------------------------------

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        response = await self.request("GET", path, params=params, **kwargs)
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise ConnectorError(
                f"expected JSON from GET {self.redact_url(response.request.url)}, got {kind}", retryable=False
            ) from None

    async def get_text(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        return (await self.request("GET", path, params=params, **kwargs)).text

    async def get_bytes(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> bytes:
        return (await self.request("GET", path, params=params, **kwargs)).content

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send one request with retries; return the successful (2xx) response, body read.

        Raises :class:`~hub.errors.ConnectorError` for transport errors, error statuses (after
        retries for the retryable ones), an exhausted budget and the ``total`` timeout.
        """
        method = method.upper()
        try:
            request = self._client.build_request(
                method, url, params=params, headers=headers, json=json, data=data, content=content
            )
        except httpx.InvalidURL as exc:
            raise ConnectorError(
                f"{method} {self.redact_url(url)}: invalid URL ({self.redact(str(exc))})", retryable=False
            ) from None
        shown = f"{method} {self.redact_url(request.url)}"
        try:
            async with asyncio.timeout(self.timeouts.total):
                return await self._with_retries(request, shown)
        except TimeoutError:
            raise ConnectorError(
                f"{shown} did not finish within {self.timeouts.total:g}s (total timeout, retries included)",
                retryable=True,
            ) from None

    async def _with_retries(self, request: httpx.Request, shown: str) -> httpx.Response:
        method = request.method
        policy = self.retry
        attempt = 0
        while True:
            attempt += 1
            if self.budget is not None:
                self.budget.spend(shown)
            started = time.perf_counter()
            try:
                response = await self._send(self._copy(request))
                status = response.status_code
                retry_status = status in policy.statuses and (status == 429 or method in IDEMPOTENT)
                if retry_status and attempt < policy.max_attempts:
                    await response.aclose()  # its body is not needed
                elif response.is_success:
                    await read_body(response, self.max_response_bytes, shown)
                else:
                    await read_body(response, ERROR_BODY_BYTES, shown, truncate=True)
            except httpx.TransportError as exc:
                retry = isinstance(exc, _NOT_SENT_ERRORS) or (
                    isinstance(exc, _RETRYABLE_ERRORS) and method in IDEMPOTENT
                )
                if retry and attempt < policy.max_attempts:
                    await self._wait(shown, attempt, policy.backoff(attempt), error=type(exc).__name__)
                    continue
                raise self._transport_error(exc, shown, attempt) from None
            log.debug(
                "http response",
                extra={
                    "method": method,
                    "url": self.redact_url(response.request.url),
                    "status": status,
                    "attempt": attempt,
                    "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            if retry_status and attempt < policy.max_attempts:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None and retry_after > policy.max_retry_after:
                    raise ConnectorError(
                        f"{shown}: HTTP {status}, the server asks to wait {retry_after:.0f}s "
                        f"(more than the {policy.max_retry_after:g}s this client waits)",
                        retryable=True,
                        status=status,
                    )
                delay = retry_after if retry_after is not None else policy.backoff(attempt)
                await self._wait(shown, attempt, delay, status=status)
                continue
            if response.is_success:
                return response
            raise self._status_error(response, shown, attempt)

    @staticmethod
    def _copy(request: httpx.Request) -> httpx.Request:
        # auth flows change headers and URL in place: every attempt starts from the unsigned request
        return httpx.Request(
            request.method,
            request.url,
            headers=request.headers.copy(),
            content=request.content,
            extensions=dict(request.extensions),
        )

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """Send, following redirects for GET/HEAD; credentials only go to the client's own origin.

        The response is streamed: its body is not read yet (see hub.sdk._body).
        """
        hops = 0
        while True:
            same_origin = _origin(request.url) == self._origin
            response = await self._client.send(
                request, auth=httpx.USE_CLIENT_DEFAULT if same_origin else None, stream=True
            )
            if not (response.is_redirect and request.method in ("GET", "HEAD")):
                return response
            await response.aclose()
            hops += 1
            if hops > self.max_redirects:
                raise ConnectorError(
                    f"more than {self.max_redirects} redirects from {request.method} {self.redact_url(request.url)}",
                    retryable=False,
                )
            target = request.url.join(response.headers["Location"])
            headers = (
                request.headers
                if _origin(target) == self._origin
                else httpx.Headers(
                    {k: v for k, v in request.headers.items() if k.lower() in _SAFE_REDIRECT_HEADERS}
                )
            )
            request = httpx.Request(
                request.method, target, headers=headers, extensions=dict(request.extensions)
            )

    async def _wait(self, shown: str, attempt: int, delay: float, **why: Any) -> None:
        log.warning(
            "http retry",
            extra={"request": shown, "attempt": attempt, "delay_s": round(delay, 3), **why},
        )
        await self._sleep(delay)

    def _transport_error(self, exc: httpx.TransportError, shown: str, attempts: int) -> ConnectorError:
        kind = type(exc).__name__
        if isinstance(exc, httpx.UnsupportedProtocol):
            return ConnectorError(f"{shown}: unusable URL ({kind})", retryable=False)
        detail = self.redact(str(exc))[:200]
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        return ConnectorError(f"{shown} {what}{tries}: {kind}: {detail}", retryable=True)

    def _status_error(self, response: httpx.Response, shown: str, attempts: int) -> ConnectorError:
        status = response.status_code
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if status in (401, 407):
            message = f"{shown}: HTTP {status}, the upstream rejected the credentials; check them in the source's config"
        elif status == 403:
            message = (
                f"{shown}: HTTP 403, the credentials are not allowed to do this; "
                "check their scopes or permissions upstream"
            )
        elif status == 404:
            message = f"{shown}: HTTP 404, not found"
        elif status == 429:
            message = f"{shown}: HTTP 429, rate limited{tries}"
        elif status >= 500:
            message = f"{shown}: HTTP {status}, upstream server error{tries}"
        else:
            snippet = " ".join(response.text[:200].split())
            message = f"{shown}: HTTP {status}" + (f": {self.redact(snippet)}" if snippet else "")
        return ConnectorError(message, retryable=status == 429 or status >= 500, status=status)

    # --- pagination -----------------------------------------------------------------------------

    async def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        strategy: PagingStrategy | None = None,
        *,
        resume: Mapping[str, Any] | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[Page]:
        """Yield the pages of a listing, one request per page, following ``strategy`` (Link header by default).

        ``resume`` is a :attr:`Page.state` saved earlier: pagination restarts at that page. Next
        links pointing at another origin, and a next request equal to one already made (a loop),
        raise :class:`~hub.errors.ConnectorError`.
        """
        strategy = strategy or LinkHeaderPaging()
        following = strategy.first(path, dict(params or {}), resume)
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        number = 0
        while following is not None:
            request = following
            target = (
                self._client.base_url.join(request.url)
                if "://" not in request.url
                else httpx.URL(request.url)
            )
            if _origin(target) != self._origin:
                raise ConnectorError(
                    f"refused to follow a next page on another host: {self.redact_url(target)}",
                    retryable=False,
                )
            key = (str(target), tuple(sorted((str(k), str(v)) for k, v in request.params.items())))
            if key in seen:
                raise ConnectorError(
                    f"pagination loop: GET {self.redact_url(target)} was already read", retryable=False
                )
            seen.add(key)
            started = time.perf_counter()
            response = await self.request("GET", request.url, params=request.params or None)
            items, following = strategy.parse(response, request)
            number += 1
            info = ResponseInfo(
                method="GET",
                url=self.redact_url(response.request.url),
                status=response.status_code,
                headers={k: v for k, v in response.headers.items() if k.lower() not in ("set-cookie",)},
                elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            yield Page(
                items=items, info=info, state=dict(following.state) if following else {}, number=number
            )
            if max_pages is not None and number >= max_pages:
                return
