"""The dispatcher: moves change-log entries into each subscription's delivery queue.

Each enabled subscription has a cursor (``last_seq``). One pass reads the changes after it, inserts
the deliveries the subscription wants and advances the cursor, in one transaction: a crash before
the commit leaves the cursor where it was (the pass is redone), a crash after it leaves durable
deliveries. Nothing is sent here. On PostgreSQL the subscription rows are locked with
``FOR UPDATE SKIP LOCKED``, so several dispatchers (one per worker process) share the work.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from hub.settings import WebhookSettings
from hub.store import Database
from hub.store._tables import changes, tenants, webhook_deliveries, webhook_subscriptions
from hub.webhooks._queue import SubscriptionFilter, delivery_rows_for_changes, source_names

__all__ = ["Dispatcher"]

log = logging.getLogger("fediflow.webhooks.dispatch")
_S = webhook_subscriptions


class Dispatcher:
    def __init__(self, db: Database, settings: WebhookSettings) -> None:
        self.db = db
        self.settings = settings

    async def dispatch_once(self, *, max_subscriptions: int = 100) -> int:
        """One pass over subscriptions that are behind the change log; returns deliveries queued."""
        now = datetime.now(UTC)
        queued = 0
        async with self.db.begin() as conn:
            query = (
                select(_S.c.id, _S.c.tenant_id, _S.c.last_seq, _S.c.event_types, _S.c.sources, _S.c.entity_types)
                .join(tenants, tenants.c.id == _S.c.tenant_id)
                .where(_S.c.enabled.is_(True), _S.c.last_seq < tenants.c.change_seq)
                .order_by(_S.c.id)
                .limit(max_subscriptions)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(of=_S, skip_locked=True)
            subs = (await conn.execute(query)).all()
            names_by_tenant: dict[int, dict[int, str]] = {}
            bodies_by_tenant: dict[int, dict[int, tuple[str, str]]] = {}
            for sub in subs:
                if sub.tenant_id not in names_by_tenant:
                    names_by_tenant[sub.tenant_id] = await source_names(conn, sub.tenant_id)
                rows = (await conn.execute(
                    select(changes.c.seq, changes.c.entity_type, changes.c.stable_id, changes.c.op, changes.c.version,
                           changes.c.source_id, changes.c.run_id, changes.c.data, changes.c.at)
                    .where(changes.c.tenant_id == sub.tenant_id, changes.c.seq > sub.last_seq)
                    .order_by(changes.c.seq)
                    .limit(self.settings.dispatch_batch)
                )).all()
                if not rows:
                    continue
                wanted = SubscriptionFilter(sub.event_types, sub.sources, sub.entity_types)
                deliveries: list[dict[str, Any]] = delivery_rows_for_changes(
                    sub.tenant_id, sub.id, wanted, rows, names_by_tenant[sub.tenant_id], now,
                    bodies_by_tenant.setdefault(sub.tenant_id, {}))
                if deliveries:
                    await conn.execute(webhook_deliveries.insert(), deliveries)
                    queued += len(deliveries)
                await conn.execute(update(_S).where(_S.c.id == sub.id).values(last_seq=rows[-1].seq))
        if queued:
            log.debug("queued webhook deliveries", extra={"count": queued})
        return queued

    async def dispatch_all(self) -> int:
        """Passes until every subscription has caught up with the change log."""
        total = 0
        while True:
            queued = await self.dispatch_once()
            total += queued
            if not queued and not await self._behind():
                return total

    async def _behind(self) -> bool:
        async with self.db.connect() as conn:
            row = (await conn.execute(
                select(_S.c.id).join(tenants, tenants.c.id == _S.c.tenant_id)
                .where(_S.c.enabled.is_(True), _S.c.last_seq < tenants.c.change_seq).limit(1)
            )).first()
        return row is not None
