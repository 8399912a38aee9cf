"""Plain records the webhook repository returns (no ORM rows leave hub.webhooks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["AttemptRecord", "DeliveryRecord", "SubscriptionRecord"]


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: int
    tenant_id: int
    url: str
    description: str
    event_types: tuple[str, ...]
    sources: tuple[str, ...] | None
    entity_types: tuple[str, ...] | None
    enabled: bool
    disabled_reason: str | None
    #: change sequence up to which deliveries are queued
    last_seq: int
    failing_since: datetime | None
    #: while a rotation overlaps: until when the previous secret still signs
    previous_secret_until: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    subscription_id: int
    msg_id: str
    seq: int | None
    event_type: str
    system: bool
    #: pending | succeeded | failed | cancelled
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    replay_of: int | None
    created_at: datetime
    finished_at: datetime | None
    body: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    attempt: int
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str | None
