"""The delivery worker: claims subscriptions with due deliveries and sends their queues in order.

A worker holds a *lease* on a subscription (``lease_owner``, ``lease_until``) while it sends that
subscription's deliveries one after another in change-sequence order, so a receiver gets events
in order and never two at once. Claiming uses ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers share the subscriptions; a worker that dies simply lets its lease
lapse and another one sends the unfinished delivery again (same ``webhook-id``: receivers
de-duplicate). Each attempt is recorded with its outcome; a failure schedules the retry (the
Standard Webhooks schedule plus jitter, or the receiver's Retry-After) and ends the claim.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update

from hub.crypto import SecretBox
from hub.settings import WebhookSettings
from hub.store import Database
from hub.store._tables import webhook_attempts, webhook_deliveries, webhook_subscriptions
from hub.webhooks._events import SUBSCRIPTION_DISABLED
from hub.webhooks._queue import emit_system_event
from hub.webhooks._sender import Outcome, Sender

__all__ = ["DeliveryWorker"]

log = logging.getLogger("fediflow.webhooks.worker")
_S = webhook_subscriptions
_D = webhook_deliveries
_PREFETCH = 100
_ORDER = (_D.c.seq, _D.c.system, _D.c.id)
_UPDATE_DELIVERY = (
    update(_D)
    .where(_D.c.id == bindparam("_id"))
    .values(attempts=bindparam("attempts"), last_status_code=bindparam("last_status_code"),
            last_error=bindparam("last_error"), status=bindparam("status"),
            next_attempt_at=bindparam("next_attempt_at"), finished_at=bindparam("finished_at"))
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Claim:
    id: int
    tenant_id: int
    url: str
    secrets: list[str]
    failing_since: datetime | None


class DeliveryWorker:
    def __init__(self, db: Database, box: SecretBox | None, settings: WebhookSettings, *,
                 sender: Sender | None = None, worker_id: str | None = None) -> None:
        self.db = db
        self.box = box
        self.settings = settings
        self.sender = sender or Sender(settings)
        self.worker_id = worker_id or f"w-{uuid.uuid4().hex[:12]}"
        self._stop = asyncio.Event()

    # --- claiming -----------------------------------------------------------------------------

    @staticmethod
    def _head_next_attempt() -> Any:
        """When the first pending delivery of a subscription is due (NULL: nothing sendable).

        Deliveries go in change-sequence order; a system event waits until the dispatcher has
        queued the changes before it (``seq <= last_seq``) and follows the change of its ``seq``.
        """
        return (
            select(_D.c.next_attempt_at)
            .where(_D.c.subscription_id == _S.c.id, _D.c.status == "pending", _D.c.seq <= _S.c.last_seq)
            .order_by(*_ORDER)
            .limit(1)
            .correlate(_S)
            .scalar_subquery()
        )

    async def claim(self, limit: int) -> list[_Claim]:
        """Lease up to ``limit`` enabled subscriptions whose first pending delivery is due."""
        now = _now()
        until = now + timedelta(seconds=self.settings.lease_seconds)
        head = self._head_next_attempt()
        async with self.db.begin() as conn:
            query = (
                select(_S.c.id, _S.c.tenant_id, _S.c.url, _S.c.secret, _S.c.previous_secret, _S.c.previous_secret_until,
                       _S.c.failing_since)
                .where(_S.c.enabled.is_(True), or_(_S.c.lease_until.is_(None), _S.c.lease_until < now),
                       head <= now)
                .order_by(head, _S.c.id)  # the longest-waiting first
                .limit(limit)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(of=_S, skip_locked=True)
            rows = (await conn.execute(query)).all()
            if not rows:
                return []
            await conn.execute(update(_S).where(_S.c.id.in_([r.id for r in rows]))
                               .values(lease_owner=self.worker_id, lease_until=until))
        return [_Claim(r.id, r.tenant_id, r.url, self._secrets(r, now), r.failing_since) for r in rows]

    def _secrets(self, row: Any, now: datetime) -> list[str]:
        if self.box is None:
            return []
        found = [str(self.box.decrypt(row.secret)["secret"])]
        if row.previous_secret and row.previous_secret_until and row.previous_secret_until > now:
            found.append(str(self.box.decrypt(row.previous_secret)["secret"]))
        return found

    async def _release(self, claim: _Claim) -> None:
        async with self.db.begin() as conn:
            await conn.execute(update(_S).where(_S.c.id == claim.id, _S.c.lease_owner == self.worker_id)
                               .values(lease_owner=None, lease_until=None))

    # --- sending ------------------------------------------------------------------------------

    async def drain(self, claim: _Claim) -> int:
        """Send the claimed subscription's due deliveries in order; stop at the first failure.

        Outcomes are written in batches (one transaction per prefetched page, at the first failure,
        and at least every third of the lease): a crash before such a write re-sends those
        deliveries with the same ``webhook-id`` (at-least-once), it never loses one.
        """
        sent = 0
        pending: list[tuple[Any, Outcome, datetime]] = []
        flushed_at = time.monotonic()
        try:
            while not self._stop.is_set():
                async with self.db.connect() as conn:
                    cursor = select(_S.c.last_seq).where(_S.c.id == claim.id).scalar_subquery()
                    rows = (await conn.execute(
                        select(_D.c.id, _D.c.msg_id, _D.c.body, _D.c.attempts, _D.c.next_attempt_at)
                        .where(_D.c.subscription_id == claim.id, _D.c.status == "pending", _D.c.seq <= cursor)
                        .order_by(*_ORDER).limit(_PREFETCH)
                    )).all()
                if not rows:
                    return sent
                for row in rows:
                    if row.next_attempt_at > _now() or self._stop.is_set():
                        return sent
                    if not claim.secrets:
                        outcome = Outcome(None, 0, "no secret key to sign with")
                    else:
                        outcome = await self.sender.send(claim.url, row.msg_id, row.body, claim.secrets)
                    pending.append((row, outcome, _now()))
                    sent += 1
                    if not outcome.ok or time.monotonic() - flushed_at > self.settings.lease_seconds / 3:
                        keep_going = await self._record(claim, pending)
                        pending, flushed_at = [], time.monotonic()
                        if not keep_going:
                            return sent
                if pending:
                    keep_going = await self._record(claim, pending)
                    pending, flushed_at = [], time.monotonic()
                    if not keep_going:
                        return sent
            return sent
        finally:
            try:
                if pending:
                    await self._record(claim, pending)
            finally:
                await self._release(claim)

    def _retry_delay(self, attempts: int, outcome: Outcome) -> float | None:
        """Seconds until the next attempt after ``attempts`` failed ones, or None when exhausted."""
        schedule = self.settings.retry_schedule_seconds
        if attempts > len(schedule):
            return None
        if outcome.retry_after is not None:
            return min(outcome.retry_after, self.settings.max_retry_after_seconds)
        base = schedule[attempts - 1]
        return base + random.uniform(0, base * self.settings.jitter)

    async def _record(self, claim: _Claim, results: list[tuple[Any, Outcome, datetime]]) -> bool:
        """Log the attempts and move the deliveries on (one transaction); True when the claim may go
        on with the next delivery. Only the last result may be a failure."""
        now = _now()
        keep_going = True
        attempts_rows: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        sub: dict[str, Any] = {"lease_until": now + timedelta(seconds=self.settings.lease_seconds)}
        disable_reason = None
        for row, outcome, at in results:
            attempts = row.attempts + 1
            attempts_rows.append({"delivery_id": row.id, "attempt": attempts, "at": at, "status_code": outcome.status_code,
                                  "latency_ms": outcome.latency_ms, "error": outcome.error, "response": outcome.response})
            values: dict[str, Any] = {"_id": row.id, "attempts": attempts, "last_status_code": outcome.status_code,
                                      "last_error": outcome.error, "status": "pending", "next_attempt_at": row.next_attempt_at,
                                      "finished_at": None}
            if outcome.ok:
                values.update(status="succeeded", finished_at=at)
                if claim.failing_since is not None:
                    sub["failing_since"] = claim.failing_since = None
            else:
                keep_going = False
                if outcome.status_code == 410:
                    disable_reason = "the receiver answered 410 Gone"
                    values["next_attempt_at"] = at
                else:
                    delay = self._retry_delay(attempts, outcome)
                    if delay is None:
                        values.update(status="failed", finished_at=at)
                        keep_going = True  # this one is given up; the next delivery goes on
                    else:
                        values["next_attempt_at"] = at + timedelta(seconds=delay)
                if claim.failing_since is None:
                    sub["failing_since"] = claim.failing_since = at
                elif (self.settings.disable_after_seconds
                      and (at - claim.failing_since).total_seconds() >= self.settings.disable_after_seconds):
                    disable_reason = f"deliveries failed for {int((at - claim.failing_since).total_seconds())} s"
            updates.append(values)
        if disable_reason:
            sub.update(enabled=False, disabled_reason=disable_reason, updated_at=now)
            keep_going = False
        async with self.db.begin() as conn:
            await conn.execute(webhook_attempts.insert(), attempts_rows)
            await conn.execute(_UPDATE_DELIVERY, updates)
            result = await conn.execute(update(_S).where(_S.c.id == claim.id, _S.c.lease_owner == self.worker_id)
                                        .values(**sub))
            if disable_reason:
                await emit_system_event(conn, claim.tenant_id, SUBSCRIPTION_DISABLED, {
                    "subscription_id": claim.id, "url": claim.url, "reason": disable_reason,
                    "failing_since": claim.failing_since.isoformat() if claim.failing_since else None,
                }, exclude_subscription=claim.id)
        if disable_reason:
            log.warning("webhook subscription disabled", extra={"subscription": claim.id, "reason": disable_reason})
        if result.rowcount == 0:  # the lease lapsed and another worker took over
            log.warning("lost the lease of a webhook subscription", extra={"subscription": claim.id})
            return False
        return keep_going

    # --- loops --------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim and drain every subscription that is due now (tests, the CLI); returns attempts made."""
        total = 0
        while True:
            claims = await self.claim(self.settings.concurrency)
            if not claims:
                return total
            results = await asyncio.gather(*(self.drain(c) for c in claims))
            total += sum(results)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: keep up to ``concurrency`` subscriptions in flight."""
        active: set[asyncio.Task[int]] = set()
        try:
            while not stop.is_set():
                free = self.settings.concurrency - len(active)
                claims = await self.claim(free) if free > 0 else []
                for claim in claims:
                    task = asyncio.create_task(self.drain(claim), name=f"webhook-sub-{claim.id}")
                    active.add(task)
                    task.add_done_callback(self._done(active))
                if claims:
                    continue
                waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(stop.wait()), *active}
                done, _ = await asyncio.wait(waiters, timeout=self.settings.poll_interval_seconds,
                                             return_when=asyncio.FIRST_COMPLETED)
                for fut in waiters - set(active):
                    if not fut.done():
                        fut.cancel()
        finally:
            self._stop.set()
            if active:
                await asyncio.gather(*active, return_exceptions=True)
            await self.sender.aclose()

    @staticmethod
    def _done(active: set[asyncio.Task[int]]) -> Any:
        def callback(task: asyncio.Task[int]) -> None:
            active.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("webhook delivery task crashed", exc_info=task.exception())
        return callback
