"""Rate limits per caller, with a separate budget per kind of caller (docs/api.md "Rate limits").

Budgets, and what each is keyed by:

- ``client``: the API client id of a bearer token (:class:`RateLimitMiddleware`);
- ``anonymous``: the remote address of a request without credentials (:class:`RateLimitMiddleware`);
- ``federation``: the remote server, host[:port] of the HTTP signature's ``keyId``, on routes with
  ``opt={"rate_limit": "federation"}`` (:class:`RateLimitMiddleware`; unsigned: ``anonymous``);
- ``scim``: the SCIM source (tenant id + source id), counted by the SCIM API once the caller is known;
- ``auth-failures``: the remote address, for failed SCIM logins and ActivityPub signatures that do
  not verify (401).

A route with ``opt={"rate_limit": "self"}`` (the SCIM API) counts its own requests; one with
``opt={"exclude_from_rate_limit": True}`` is not limited. Budgets are fixed windows of one minute,
started by the first request of a key, kept in the app's ``rate_limit`` store: memory (one node),
or Redis when ``api.redis_url`` is set, shared by every API node (the read and write of a count
are not one atomic step there, so concurrent nodes may let a few requests more through).

The federation budget trusts the ``keyId`` before the signature is checked (checking costs a key
fetch): a caller that signs as someone else gets 401s, each counted in its address's
``auth-failures`` budget, which once spent stops that address before it reaches any server's
budget. Every 429 carries ``Retry-After``; answers within a budget carry ``RateLimit-Limit``,
``RateLimit-Remaining``, ``RateLimit-Reset`` and ``RateLimit-Policy``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from hub.auth import Principal
from hub.settings import ApiSettings

__all__ = [
    "ANONYMOUS",
    "AUTH_FAILURES",
    "CLIENT",
    "FEDERATION",
    "SCIM",
    "STORE_NAME",
    "RateLimitMiddleware",
    "RateLimiter",
    "Verdict",
    "rate_limit_store",
    "rate_limiter",
    "remote_address",
    "request_limiter",
    "signature_host",
]

STORE_NAME = "rate_limit"
CLIENT, ANONYMOUS, SCIM, FEDERATION, AUTH_FAILURES = (
    "client",
    "anonymous",
    "scim",
    "federation",
    "auth-failures",
)
WINDOW_SECONDS = 60
_KEY_ID = re.compile(r'keyId\s*=\s*"([^"]*)"', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The state of one budget after a request: ``allowed`` false means answer 429."""

    budget: str
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends (at least 1)

    def headers(self) -> dict[str, str]:
        """``RateLimit-*`` headers, and ``Retry-After`` when the request is refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={WINDOW_SECONDS}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


class RateLimiter:
    """Counts requests per ``(budget, key)`` in fixed one-minute windows kept in ``store``."""

    def __init__(self, store: Store, budgets: dict[str, int]) -> None:
        self.store = store
        self.budgets = dict(budgets)
        self._lock = asyncio.Lock()

    async def _read(self, name: str, now: float) -> tuple[float, int]:
        raw = await self.store.get(name)
        if raw:
            try:
                reset, count = json.loads(raw)
                if float(reset) > now:
                    return float(reset), int(count)
            except (ValueError, TypeError):
                pass
        return now + WINDOW_SECONDS, 0

    def _verdict(self, budget: str, allowed: bool, count: int, reset: float, now: float) -> Verdict:
        limit = self.budgets[budget]
        return Verdict(budget, allowed, limit, max(0, limit - count), max(1, int(reset - now + 0.999)))

    async def hit(self, budget: str, key: str) -> Verdict:
        """Count one request of ``key`` against ``budget``, unless the budget is spent (then refused)."""
        name = f"{budget}::{key}"
        async with self._lock:
            now = time.time()
            reset, count = await self._read(name, now)
            if count >= self.budgets[budget]:
                return self._verdict(budget, False, count, reset, now)
            count += 1
            await self.store.set(name, json.dumps([reset, count]), expires_in=max(1, int(reset - now) + 1))
        return self._verdict(budget, True, count, reset, now)

    async def peek(self, budget: str, key: str) -> Verdict:
        """Whether ``key`` has budget left, without counting anything."""
        now = time.time()
        reset, count = await self._read(f"{budget}::{key}", now)
        return self._verdict(budget, count < self.budgets[budget], count, reset, now)


def remote_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "127.0.0.1"


def signature_host(scope: Scope) -> str | None:
    """The server of the signing key (not verified yet), if any: host[:port] of the ``keyId`` of
    a draft-cavage ``Signature`` header or the ``keyid`` of an RFC 9421 ``Signature-Input``."""
    for name, value in scope.get("headers", []):
        if name.lower() in (b"signature", b"signature-input"):
            match = _KEY_ID.search(value.decode("latin-1"))
            parts = urlsplit(match.group(1)) if match else None
            if parts is not None and parts.hostname:
                return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    return None


def _send_with_headers(send: Send, headers: dict[str, str]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])  # type: ignore[typeddict-item]
            mutable = MutableScopeHeaders(message)
            for key, value in headers.items():
                mutable[key] = value
        await send(message)

    return wrapped


def _refuse(verdict: Verdict, who: str) -> TooManyRequestsException:
    return TooManyRequestsException(
        detail=f"rate limit of {verdict.limit} requests per minute for {who} exceeded; retry in {verdict.reset} s",
        headers=verdict.headers(),
    )


class RateLimitMiddleware(ASGIMiddleware):
    """The ``client``, ``anonymous`` and ``federation`` budgets (runs after authentication)."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = "exclude_from_rate_limit"

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        handler = scope.get("route_handler")
        mode = (handler.opt.get("rate_limit") if handler is not None else None) or CLIENT
        if mode == "self":
            await next_app(scope, receive, send)
            return
        limiter: RateLimiter = scope["litestar_app"].state.rate_limiter
        address = remote_address(scope)
        user = scope.get("user")
        if mode == FEDERATION and (server := signature_host(scope)) is not None:
            failures = await limiter.peek(AUTH_FAILURES, address)
            if not failures.allowed:
                raise _refuse(failures, f"failed signatures from {address}")
            verdict = await limiter.hit(FEDERATION, server)
            who = f"server {server}"
            send = self._count_failures(limiter, address, send)
        elif isinstance(user, Principal):
            verdict, who = await limiter.hit(CLIENT, user.client_id), f"client {user.client_id}"
        else:
            verdict, who = await limiter.hit(ANONYMOUS, address), f"address {address}"
        if not verdict.allowed:
            raise _refuse(verdict, who)
        await next_app(scope, receive, _send_with_headers(send, verdict.headers()))

    @staticmethod
    def _count_failures(limiter: RateLimiter, address: str, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                await limiter.hit(AUTH_FAILURES, address)
            await send(message)

        return wrapped


def rate_limiter(settings: ApiSettings, store: Store) -> RateLimiter:
    """The app's limiter with the budgets of ``settings``."""
    return RateLimiter(
        store,
        {
            CLIENT: settings.rate_limit_per_minute,
            ANONYMOUS: settings.rate_limit_anonymous_per_minute,
            SCIM: settings.rate_limit_scim_per_minute,
            FEDERATION: settings.rate_limit_federation_per_minute,
            AUTH_FAILURES: settings.rate_limit_auth_failures_per_minute,
        },
    )


def rate_limit_store(settings: ApiSettings) -> Store:
    """Redis when ``api.redis_url`` is set (shared by every API node), memory otherwise."""
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace="fediflow")
    return MemoryStore()


def request_limiter(request: Request[Any, Any, Any]) -> RateLimiter:
    """The limiter of the app serving ``request``."""
    return request.app.state.rate_limiter  # type: ignore[no-any-return]
