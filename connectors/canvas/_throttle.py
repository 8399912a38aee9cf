"""Canvas throttling: pace on ``X-Rate-Limit-Remaining`` and retry ``403 Forbidden (Rate Limit Exceeded)``.

Canvas does not answer 429 when a token's quota is spent: it answers **403** with the body
``403 Forbidden (Rate Limit Exceeded)`` and expects the client to retry later; every response
carries ``X-Rate-Limit-Remaining`` (the quota left) when throttling applies
(https://canvas.instructure.com/doc/api/file.throttling.html).

This is done in the auth flow because that is the one place of an ``httpx`` request that sees
every response, retries included, before the SDK's client turns a 403 into a
"not allowed" error: a rate-limited 403 is retried here with exponential backoff and, when the
quota stays spent, raised as a *retryable* :class:`~hub.sdk.ConnectorError`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable

import httpx
from pydantic import SecretStr

from hub.sdk import BearerToken, ConnectorError

__all__ = ["RATE_LIMIT_TEXT", "CanvasThrottle", "is_rate_limited"]

log = logging.getLogger("fediflow.connectors.canvas")

RATE_LIMIT_TEXT = "rate limit exceeded"


def is_rate_limited(response: httpx.Response) -> bool:
    """Canvas's throttle answer: HTTP 403 whose body says ``Rate Limit Exceeded``."""
    return response.status_code == 403 and RATE_LIMIT_TEXT in response.text.lower()


class CanvasThrottle(BearerToken):
    """``Authorization: Bearer`` plus Canvas's throttling rules (see the module docstring).

    ``low_water``: when the last ``X-Rate-Limit-Remaining`` was below it, wait ``pause`` seconds
    before the next request. ``attempts``: tries of one request while Canvas answers 403 Rate
    Limit Exceeded, waiting ``base * 2**(n-1)`` seconds (with jitter, at most ``max_wait``) between.
    """

    def __init__(
        self,
        token: SecretStr,
        *,
        low_water: float = 50.0,
        pause: float = 2.0,
        attempts: int = 5,
        base: float = 2.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(token)
        self.low_water = low_water
        self.pause = pause
        self.attempts = attempts
        self.base = base
        self.max_wait = max_wait
        self._sleep = sleep
        #: the last X-Rate-Limit-Remaining seen (None until a response carried it)
        self.remaining: float | None = None

    def __repr__(self) -> str:
        return "CanvasThrottle(token=SecretStr('**********'))"

    def _note(self, response: httpx.Response) -> None:
        value = response.headers.get("X-Rate-Limit-Remaining")
        if value is None:
            return
        try:
            self.remaining = float(value)
        except ValueError:
            self.remaining = None

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        for attempt in range(1, self.attempts + 1):
            if self.remaining is not None and self.remaining < self.low_water:
                log.info(
                    "canvas quota low; pausing",
                    extra={"remaining": self.remaining, "pause_s": self.pause},
                )
                await self._sleep(self.pause)
                self.remaining = None  # the quota refills while we wait; the next answer says how much
            request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
            response = yield request
            self._note(response)
            if response.status_code != 403:
                return
            await response.aread()
            if not is_rate_limited(response):
                return  # a real 403 (permissions): the SDK reports it
            if attempt == self.attempts:
                break
            delay = random.uniform(0.5, 1.0) * min(self.max_wait, self.base * 2 ** (attempt - 1))
            log.warning(
                "canvas rate limit exceeded; retrying",
                extra={"attempt": attempt, "delay_s": round(delay, 3)},
            )
            await self._sleep(delay)
            self.remaining = None  # the backoff was the wait; no extra low-quota pause
        raise ConnectorError(
            f"{request.method} {request.url.copy_with(query=None)}: Canvas answered 403 Forbidden "
            f"(Rate Limit Exceeded) {self.attempts} times; the token's quota is spent, try again later",
            retryable=True,
            status=403,
        )
