"""Webhooks: Standard Webhooks 1.0 deliveries of a tenant's change events, from a durable queue.

Framework-free (no Litestar here): the API (hub.api._webhooks), the CLI (hub.cli._webhooks) and
``fediflow serve --role worker|all`` (:func:`run_webhook_worker`) build on these pieces:

- :class:`WebhookStore`: subscriptions (URL, event type patterns, filters, ``whsec_`` secret,
  rotation, enable/disable), deliveries with their attempt log, replay; one tenant at a time;
- :class:`Dispatcher`: change log -> per-subscription delivery queue (cursor advanced in the same
  transaction as the deliveries);
- :class:`DeliveryWorker` and :class:`Sender`: ordered, signed, retried HTTP delivery;
- :class:`UrlGuard`: the hub's SSRF guard (:mod:`hub.netguard`) for webhook URLs (addresses
  checked after DNS on every attempt, then pinned);
- :func:`emit_system_event`: queue a system event (``webhook.subscription.disabled`` ...) for subscribers;
- :func:`emit_run_event`: queue a run lifecycle event (``sync.run.started|finished|failed|held|approved``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from hub.webhooks._dispatch import Dispatcher
from hub.webhooks._events import (
    SUBSCRIPTION_DISABLED,
    event_type_for,
    iso_timestamp,
    matches,
    validate_patterns,
)
from hub.webhooks._guard import Target, UrlGuard, UrlRefused
from hub.webhooks._lifecycle import (
    RUN_APPROVED,
    RUN_EVENTS,
    RUN_FAILED,
    RUN_FINISHED,
    RUN_HELD,
    RUN_STARTED,
    emit_run_event,
    run_event_data,
)
from hub.webhooks._queue import emit_system_event
from hub.webhooks._records import AttemptRecord, DeliveryRecord, SubscriptionRecord
from hub.webhooks._repo import DELIVERY_STATUSES, WebhookStore
from hub.webhooks._sender import Outcome, Sender
from hub.webhooks._signing import SECRET_PREFIX, generate_secret, signature, signed_headers
from hub.webhooks._worker import DeliveryWorker

__all__ = [
    "DELIVERY_STATUSES",
    "RUN_APPROVED",
    "RUN_EVENTS",
    "RUN_FAILED",
    "RUN_FINISHED",
    "RUN_HELD",
    "RUN_STARTED",
    "SECRET_PREFIX",
    "SUBSCRIPTION_DISABLED",
    "AttemptRecord",
    "DeliveryRecord",
    "DeliveryWorker",
    "Dispatcher",
    "Outcome",
    "Sender",
    "SubscriptionRecord",
    "Target",
    "UrlGuard",
    "UrlRefused",
    "WebhookStore",
    "emit_run_event",
    "emit_system_event",
    "event_type_for",
    "generate_secret",
    "iso_timestamp",
    "matches",
    "run_event_data",
    "run_webhook_worker",
    "signature",
    "signed_headers",
    "validate_patterns",
]

log = logging.getLogger("fediflow.webhooks")


async def run_webhook_worker(hub: Any, stop_event: asyncio.Event, *, worker_id: str | None = None) -> None:
    """Run the dispatcher loop and the delivery worker of ``hub`` until ``stop_event`` is set.

    Safe to run in several processes at once on PostgreSQL (rows are claimed with SKIP LOCKED);
    on SQLite run it in one process.
    """
    settings = hub.settings.webhooks
    dispatcher = Dispatcher(hub.db, settings)
    worker = DeliveryWorker(hub.db, hub.secret_box, settings, worker_id=worker_id)

    async def dispatch_loop() -> None:
        while not stop_event.is_set():
            try:
                queued = await dispatcher.dispatch_once()
            except Exception:  # a database hiccup must not end the loop; it is logged and retried
                log.exception("webhook dispatch pass failed")
                queued = 0
            if queued:
                continue
            try:
                await asyncio.wait_for(stop_event.wait(), settings.poll_interval_seconds)
            except TimeoutError:
                pass

    async def worker_loop() -> None:
        while not stop_event.is_set():
            try:
                await worker.run(stop_event)
            except Exception:
                log.exception("webhook worker failed; restarting")
                worker.sender = Sender(settings)
                worker._stop = asyncio.Event()
                await asyncio.sleep(settings.poll_interval_seconds)

    log.info("webhook worker started", extra={"worker": worker.worker_id})
    await asyncio.gather(dispatch_loop(), worker_loop())
    log.info("webhook worker stopped", extra={"worker": worker.worker_id})
