"""The durable delivery queue: turning change-log rows and system events into delivery rows.

Everything here runs inside the caller's transaction, so a delivery row exists exactly when the
event it carries (and, for the dispatcher, the subscription's advanced cursor) is committed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.errors import ConfigurationError
from hub.store import Database
from hub.store._tables import sources, tenants, webhook_deliveries, webhook_subscriptions
from hub.webhooks._events import change_body, change_payload, event_type_for, matches, system_body

__all__ = ["SubscriptionFilter", "change_msg_id", "delivery_rows_for_changes", "emit_system_event", "source_names"]

_SYSTEM_TYPE = re.compile(r"^[a-z][A-Za-z0-9_-]*(\.[a-z][A-Za-z0-9_-]*)+$")


def _now() -> datetime:
    return datetime.now(UTC)


def change_msg_id(tenant_id: int, seq: int) -> str:
    """The ``webhook-id`` of a change event: the same for every subscription, attempt and replay."""
    return f"msg_t{tenant_id}_s{seq}"


class SubscriptionFilter:
    """Which change events one subscription wants (type patterns, optional sources and entity types)."""

    def __init__(self, event_types: Sequence[str], source_filter: Sequence[str] | None,
                 entity_types: Sequence[str] | None) -> None:
        self.event_types = tuple(event_types)
        self.sources = frozenset(source_filter) if source_filter else None
        self.entity_types = frozenset(entity_types) if entity_types else None

    def wants_change(self, event_type: str, entity_type: str, source: str | None) -> bool:
        if self.entity_types is not None and entity_type not in self.entity_types:
            return False
        if self.sources is not None and source not in self.sources:
            return False
        return matches(self.event_types, event_type)


async def source_names(conn: AsyncConnection, tenant_id: int) -> dict[int, str]:
    rows = await conn.execute(select(sources.c.id, sources.c.name).where(sources.c.tenant_id == tenant_id))
    return {r.id: r.name for r in rows}


def delivery_rows_for_changes(tenant_id: int, subscription_id: int, wanted: SubscriptionFilter,
                              rows: Iterable[Any], names: Mapping[int, str], now: datetime,
                              bodies: dict[int, tuple[str, str]] | None = None,
                              replay_of: int | None = None) -> list[dict[str, Any]]:
    """Delivery rows (pending, due now) for the change-log ``rows`` this subscription wants.

    ``bodies`` caches ``seq -> (type, body)`` across subscriptions of one pass: a change has one
    body whoever receives it.
    """
    out = []
    cache = bodies if bodies is not None else {}
    for row in rows:
        source = names.get(row.source_id) if row.source_id is not None else None
        event_type = event_type_for(row.entity_type, row.op)
        if not wanted.wants_change(event_type, row.entity_type, source):
            continue
        cached = cache.get(row.seq)
        if cached is None:
            data = change_payload(row.seq, row.entity_type, row.stable_id, row.op, row.version, row.run_id, source,
                                  row.data)
            cached = cache[row.seq] = (event_type, change_body(event_type, row.at, data))
        out.append({
            "tenant_id": tenant_id, "subscription_id": subscription_id, "msg_id": change_msg_id(tenant_id, row.seq),
            "seq": row.seq, "event_type": cached[0], "system": False, "body": cached[1], "status": "pending", "attempts": 0,
            "next_attempt_at": now, "replay_of": replay_of, "created_at": now,
        })
    return out


async def emit_system_event(target: AsyncConnection | Database, tenant_id: int, event_type: str,
                            data: Mapping[str, Any], *, exclude_subscription: int | None = None) -> int:
    """Queue a system event (``sync.run.finished``, ``sync.held`` ...) for the tenant's subscriptions.

    ``target`` is either an open connection, whose transaction then carries the deliveries (they
    exist if and only if the caller commits), or a :class:`~hub.store.Database` (own transaction).
    ``data`` must be JSON-serialisable. Returns how many deliveries were queued (enabled
    subscriptions whose patterns match ``event_type``).
    """
    if not _SYSTEM_TYPE.match(event_type) or len(event_type) > 128:
        raise ConfigurationError(f"system event type {event_type!r} must be dotted lower-camel names")
    if isinstance(target, Database):
        async with target.begin() as conn:
            return await _emit(conn, tenant_id, event_type, data, exclude_subscription)
    return await _emit(target, tenant_id, event_type, data, exclude_subscription)


async def _emit(conn: AsyncConnection, tenant_id: int, event_type: str, data: Mapping[str, Any],
                exclude: int | None) -> int:
    now = _now()
    subs = (await conn.execute(
        select(webhook_subscriptions.c.id, webhook_subscriptions.c.event_types).where(
            webhook_subscriptions.c.tenant_id == tenant_id, webhook_subscriptions.c.enabled.is_(True))
    )).all()
    targets = [s.id for s in subs if s.id != exclude and matches(s.event_types, event_type)]
    if not targets:
        return 0
    seq = (await conn.execute(select(tenants.c.change_seq).where(tenants.c.id == tenant_id))).scalar_one()
    body = system_body(event_type, now, data)
    msg_id = f"msg_{uuid.uuid4().hex}"
    await conn.execute(webhook_deliveries.insert(), [
        {"tenant_id": tenant_id, "subscription_id": sid, "msg_id": msg_id, "seq": seq, "event_type": event_type,
         "system": True, "body": body, "status": "pending", "attempts": 0, "next_attempt_at": now, "replay_of": None,
         "created_at": now}
        for sid in targets
    ])
    return len(targets)
