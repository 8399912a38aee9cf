"""One HTTP attempt of a delivery: SSRF check and pinned address (hub.netguard), signed headers,
bounded response read."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from hub.netguard import GuardedTransport, Unresolvable
from hub.sdk import parse_retry_after
from hub.settings import WebhookSettings
from hub.webhooks._guard import UrlGuard, UrlRefused, check_url_syntax
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
    """Sends deliveries through the SSRF guard's pinning transport (redirects never followed).

    One client; :class:`hub.netguard.GuardedTransport` resolves and checks each attempt's host
    once, connects to that address, and pools connections per destination host.
    """

    def __init__(self, settings: WebhookSettings, *, guard: UrlGuard | None = None) -> None:
        self.settings = settings
        self.guard = guard or UrlGuard(settings.allow_private_networks)
        timeout = httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds)
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False,
                                         transport=GuardedTransport(self.guard), headers={"user-agent": _USER_AGENT})

    async def send(self, url: str, msg_id: str, body: str, secrets: Sequence[str]) -> Outcome:
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            check_url_syntax(url)
        except UrlRefused as exc:
            return Outcome(None, elapsed(), f"refused: {exc}")
        raw = body.encode()
        headers = signed_headers(secrets, msg_id, int(time.time()), raw)
        headers["content-type"] = "application/json"
        limit = self.settings.response_log_bytes
        try:
            request = self._client.build_request("POST", url, content=raw, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                kept = bytearray()
                if limit:
                    async for chunk in response.aiter_raw():
                        kept.extend(chunk[: limit - len(kept)])
                        if len(kept) >= limit:
                            break
            finally:
                await response.aclose()
        except UrlRefused as exc:
            return Outcome(None, elapsed(), f"refused: {exc}")
        except Unresolvable as exc:
            return Outcome(None, elapsed(), f"dns: {exc}")
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
        await self._client.aclose()
