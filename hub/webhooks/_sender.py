"""One HTTP attempt of a delivery: SSRF check, pinned address, signed headers, bounded response read."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from hub.sdk._http import parse_retry_after
from hub.settings import WebhookSettings
from hub.webhooks._guard import Target, UrlGuard, UrlRefused
from hub.webhooks._signing import signed_headers

__all__ = ["Outcome", "Sender"]

_USER_AGENT = "FediFlow-Webhooks/1.0"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: a status (None when no response), its latency and what to log."""

    status_code: int | None
    latency_ms: int
    error: str | None = None
    response: str | None = None
    #: seconds the receiver asked to wait (Retry-After), if it did
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """Sends deliveries with one pooled client per destination host (redirects never followed)."""

    def __init__(self, settings: WebhookSettings, *, transport: httpx.AsyncBaseTransport | None = None,
                 max_clients: int = 256) -> None:
        self.settings = settings
        self.guard = UrlGuard(settings.allow_private_networks)
        self._transport = transport
        self._clients: OrderedDict[tuple[str, str, int], httpx.AsyncClient] = OrderedDict()
        self._max_clients = max_clients

    async def _client(self, target: Target) -> httpx.AsyncClient:
        # one client per host name: a pooled connection is never reused for another name's TLS session
        key = (target.scheme, target.host, target.port)
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        timeout = httpx.Timeout(self.settings.timeout_seconds, connect=self.settings.connect_timeout_seconds)
        client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False,
                                   transport=self._transport, headers={"user-agent": _USER_AGENT})
        self._clients[key] = client
        while len(self._clients) > self._max_clients:
            _, old = self._clients.popitem(last=False)
            await old.aclose()
        return client

    async def send(self, url: str, msg_id: str, body: str, secrets: Sequence[str]) -> Outcome:
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            target = await self.guard.resolve(url)
        except UrlRefused as exc:
            return Outcome(None, elapsed(), f"refused: {exc}")
        except LookupError as exc:
            return Outcome(None, elapsed(), f"dns: {exc}")
        raw = body.encode()
        headers = signed_headers(secrets, msg_id, int(time.time()), raw)
        headers["content-type"] = "application/json"
        headers["host"] = target.host_header
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        client = await self._client(target)
        limit = self.settings.response_log_bytes
        try:
            request = client.build_request("POST", target.pinned_url, content=raw, headers=headers,
                                           extensions=extensions)
            response = await client.send(request, stream=True)
            try:
                kept = bytearray()
                if limit:
                    async for chunk in response.aiter_raw():
                        kept.extend(chunk[: limit - len(kept)])
                        if len(kept) >= limit:
                            break
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            return Outcome(None, elapsed(), f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return Outcome(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
        status = response.status_code
        error = None
        if 300 <= status < 400:
            error = "redirects are not followed"
        elif not 200 <= status < 300:
            error = f"HTTP {status}"
        text = bytes(kept).decode("utf-8", "replace") if limit else None
        return Outcome(status, elapsed(), error, text, parse_retry_after(response.headers.get("retry-after")))

    async def aclose(self) -> None:
        while self._clients:
            _, client = self._clients.popitem()
            await client.aclose()
