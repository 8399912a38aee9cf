"""How patient the SDK's HTTP client is: timeouts, the retry policy, ``Retry-After``, the request budget."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass, field
from datetime import UTC

import httpx

from hub.errors import ConnectorError

__all__ = ["RequestBudget", "RetryPolicy", "Timeouts", "parse_retry_after"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds: ``connect`` to open a connection, ``read`` between bytes, ``total`` for one call incl. retries."""

    connect: float = 10.0
    read: float = 30.0
    total: float = 300.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.read, connect=self.connect, pool=self.connect)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Retries ``statuses`` (429 for any method, the others for idempotent ones) and connect/read
    timeouts, at most ``max_attempts`` tries in all. The wait is exponential backoff with full
    jitter (a random time between 0 and ``min(max_backoff, base * 2**(attempt-1))``), or the
    server's ``Retry-After`` (seconds or an HTTP date) when it sends one; a ``Retry-After`` longer
    than ``max_retry_after`` is not waited for: the call fails at once as retryable.
    """

    max_attempts: int = 4
    base: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.max_backoff, self.base * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date), ``None`` if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(slots=True)
class RequestBudget:
    """At most ``max_requests`` HTTP requests (retries included) per sync run; share one between clients."""

    max_requests: int
    used: int = field(default=0)

    @property
    def remaining(self) -> int:
        return max(0, self.max_requests - self.used)

    def spend(self, what: str = "request") -> None:
        if self.used >= self.max_requests:
            raise ConnectorError(
                f"request budget of {self.max_requests} requests for this run is spent (next: {what}); "
                "raise the source's request budget or sync less often",
                retryable=False,
            )
        self.used += 1
