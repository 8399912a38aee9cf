"""The durable delivery queue, the publisher (change log -> deliveries) and the federation worker.

Deliveries are rows (one per activity and inbox; followers sharing an inbox get one delivery). A
worker claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) by pushing their
``next_attempt_at`` forward by a lease, POSTs them signed (draft-cavage, with Digest), and records
the outcome: 2xx delivered; 404 / 410 gone (the inbox, its other pending deliveries and the
followers behind it); anything else retried with exponential backoff until
``delivery_max_attempts``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import or_, select, update

from hub.errors import ConnectorError, HubError
from hub.federation._outbox import activities_for, follower_may_read, publishes
from hub.federation._signatures import sign_request
from hub.federation._urls import ActorName
from hub.store import ChangeRecord, TenantStore
from hub.store._tables import (
    changes,
    federation_cursors,
    federation_deliveries,
    federation_followers,
    federation_following,
)

__all__ = ["DeliveryQueue", "FederationWorker", "publish_changes", "run_federation_worker"]

log = logging.getLogger("fediflow.federation")
_LEASE = timedelta(minutes=5)
_MAX_DELAY = 86400.0


def _now() -> datetime:
    return datetime.now(UTC)


class DeliveryQueue:
    def __init__(self, federation: Any) -> None:
        self.fed = federation

    async def enqueue(self, actor_id: int, inbox: str, activity: dict[str, Any], conn: Any = None) -> None:
        now = _now()
        values = dict(actor_id=actor_id, inbox=inbox, activity=activity, status="pending", attempts=0,
                      next_attempt_at=now, created_at=now, updated_at=now)
        if conn is not None:
            await conn.execute(federation_deliveries.insert().values(**values))
            return
        async with self.fed.db.begin() as c:
            await c.execute(federation_deliveries.insert().values(**values))

    async def claim(self, limit: int) -> list[Any]:
        now = _now()
        query = (select(federation_deliveries)
                 .where(federation_deliveries.c.status == "pending", federation_deliveries.c.next_attempt_at <= now)
                 .order_by(federation_deliveries.c.next_attempt_at, federation_deliveries.c.id).limit(limit))
        if not self.fed.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        async with self.fed.db.begin() as conn:
            rows = (await conn.execute(query)).all()
            if rows:
                await conn.execute(update(federation_deliveries)
                                   .where(federation_deliveries.c.id.in_([r.id for r in rows]))
                                   .values(next_attempt_at=now + _LEASE))
        return rows

    async def deliver_due(self, limit: int = 50) -> int:
        rows = await self.claim(limit)
        by_inbox: dict[str, list[Any]] = defaultdict(list)
        # in order per receiving server (an Accept to an actor's inbox before the Creates that follow it
        # to the same server's shared inbox), servers in parallel
        for row in rows:
            by_inbox[urlsplit(row.inbox).netloc].append(row)

        async def run(group: list[Any], client: httpx.AsyncClient) -> None:
            for row in sorted(group, key=lambda r: r.id):
                await self._deliver(client, row)

        if rows:
            async with self.fed.fetcher.client() as client:
                await asyncio.gather(*(run(group, client) for group in by_inbox.values()))
        return len(rows)

    async def _deliver(self, client: httpx.AsyncClient, row: Any) -> None:
        status: int | None = None
        error: str | None = None
        try:
            actor = await self.fed.actors.by_id(row.actor_id)
            if actor is None:
                raise ConnectorError("the sending actor no longer exists")
            body = json.dumps(row.activity, separators=(",", ":")).encode()
            headers = sign_request("POST", row.inbox, body, key_id=f"{actor.name.url(self.fed.base)}#main-key",
                                   private_key_pem=actor.private_key_pem())
            headers["Content-Type"] = "application/activity+json"
            # the client's transport is the SSRF guard: resolved once, checked, pinned (hub.netguard)
            resp = await client.post(row.inbox, content=body, headers=headers)
            status = resp.status_code
            if not 200 <= status < 300:
                error = f"{status}: {resp.text[:200]}"
        except ConnectorError as exc:
            error = str(exc)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        await self._record(row, status, error)

    async def _record(self, row: Any, status: int | None, error: str | None) -> None:
        now = _now()
        attempts = row.attempts + 1
        async with self.fed.db.begin() as conn:
            where = federation_deliveries.c.id == row.id
            if error is None:
                await conn.execute(update(federation_deliveries).where(where).values(
                    status="delivered", attempts=attempts, last_error=None, updated_at=now))
            elif status in (404, 410):
                log.info("inbox gone", extra={"inbox": row.inbox, "status": status})
                await conn.execute(update(federation_deliveries).where(or_(where, (
                    (federation_deliveries.c.inbox == row.inbox) & (federation_deliveries.c.status == "pending"))))
                    .values(status="gone", last_error=error, updated_at=now))
                await conn.execute(update(federation_deliveries).where(where).values(attempts=attempts))
                await conn.execute(update(federation_followers).where(or_(
                    federation_followers.c.inbox == row.inbox, federation_followers.c.shared_inbox == row.inbox))
                    .values(state="gone", updated_at=now))
            elif attempts >= self.fed.settings.delivery_max_attempts:
                await conn.execute(update(federation_deliveries).where(where).values(
                    status="failed", attempts=attempts, last_error=error, updated_at=now))
            else:
                delay = min(self.fed.settings.delivery_backoff_seconds * 2 ** (attempts - 1), _MAX_DELAY)
                await conn.execute(update(federation_deliveries).where(where).values(
                    attempts=attempts, last_error=error, next_attempt_at=now + timedelta(seconds=delay), updated_at=now))


async def publish_changes(federation: Any, tenant: TenantStore, batch: int = 500) -> int:
    """Turn the tenant's new changes into deliveries to the followers of the actors publishing them.

    The cursor advances in the same transaction as the deliveries are written, so a crash neither
    loses nor repeats a change.
    """
    fed = federation
    actor_rows = await fed.local_actor_rows(tenant.tenant_id)
    async with fed.db.connect() as conn:
        followers = (await conn.execute(select(federation_followers).where(
            federation_followers.c.tenant_id == tenant.tenant_id, federation_followers.c.state == "accepted"))).all()
        cursor = (await conn.execute(select(federation_cursors.c.last_seq).where(
            federation_cursors.c.tenant_id == tenant.tenant_id))).scalar()
    by_actor: dict[int, list[Any]] = defaultdict(list)
    for row in followers:
        by_actor[row.actor_id].append(row)
    last = cursor or 0
    actors = [(aid, name) for aid, name in actor_rows if by_actor.get(aid)]
    async with fed.db.connect() as conn:
        rows = (await conn.execute(select(changes).where(changes.c.tenant_id == tenant.tenant_id, changes.c.seq > last)
                                   .order_by(changes.c.seq).limit(batch))).all()
    if not rows:
        return 0
    queue = DeliveryQueue(fed)
    count = 0
    async with fed.db.begin() as conn:
        for row in rows:
            change = ChangeRecord(row.seq, row.entity_type, row.stable_id, row.op, row.version, row.source_id,
                                  row.run_id, row.at, row.data)
            personal = fed.is_personal(change.entity_type)
            for actor_id, name in actors:
                if not publishes(name, change, personal):
                    continue
                count += await _fan_out(fed, queue, conn, actor_id, name, change, personal, by_actor[actor_id],
                                        tenant.tenant.slug)
        new_last = rows[-1].seq
        if cursor is None:
            await conn.execute(federation_cursors.insert().values(tenant_id=tenant.tenant_id, last_seq=new_last))
        else:
            await conn.execute(update(federation_cursors).where(
                federation_cursors.c.tenant_id == tenant.tenant_id).values(last_seq=new_last))
    return count


async def _fan_out(fed: Any, queue: DeliveryQueue, conn: Any, actor_id: int, name: ActorName, change: ChangeRecord,
                   personal: bool, followers: list[Any], tenant_slug: str) -> int:
    groups: dict[str, list[str]] = defaultdict(list)
    for f in followers:
        if follower_may_read(f.scopes, change.entity_type):  # the scopes granted at approval
            groups[f.shared_inbox or f.inbox].append(f.follower)
    count = 0
    for inbox, recipients in groups.items():
        for activity in activities_for(change, actor_url=name.url(fed.base), base=fed.base, tenant=tenant_slug,
                                       personal=personal, public=name.public, to=sorted(recipients)):
            await queue.enqueue(actor_id, inbox, activity, conn)
            count += 1
    return count


class FederationWorker:
    """One round of federation work: publish new changes, deliver what is due, ingest what arrived."""

    def __init__(self, hub: Any) -> None:
        from hub.federation._service import Federation

        self.hub = hub
        self.federation = Federation(hub)

    async def run_once(self) -> dict[str, int]:
        published = 0
        for tenant in await self.hub.store.list_tenants():
            published += await publish_changes(self.federation, TenantStore(self.hub.store, tenant))
        delivered = 0
        while batch := await DeliveryQueue(self.federation).deliver_due():
            delivered += batch
            if batch < 50:
                break
        synced = await self.sync_received()
        return {"published": published, "delivered": delivered, "synced": synced}

    async def sync_received(self) -> int:
        """Sync the ``federation`` sources whose followed actors sent objects since their last sync."""
        from hub.sync import SyncEngine

        async with self.hub.db.connect() as conn:
            rows = (await conn.execute(select(federation_following).where(
                federation_following.c.dirty.is_(True), federation_following.c.source_name.is_not(None)))).all()
        count = 0
        for row in rows:
            async with self.hub.db.begin() as conn:
                await conn.execute(update(federation_following).where(federation_following.c.id == row.id)
                                   .values(dirty=False))
            tenant = await self.hub.store.tenant_by_id(row.tenant_id)
            try:
                await SyncEngine(self.hub).sync(tenant, row.source_name)
                count += 1
            except HubError as exc:
                log.warning("federation sync failed", extra={"source": row.source_name, "error": str(exc)})
        return count


async def run_federation_worker(hub: Any, stop_event: asyncio.Event) -> None:
    """Run :class:`FederationWorker` rounds until ``stop_event`` is set (``fediflow serve --role worker|all``)."""
    worker = FederationWorker(hub)
    interval = hub.settings.federation.worker_interval_seconds
    while not stop_event.is_set():
        try:
            await worker.run_once()
        except HubError as exc:
            log.warning("federation round failed", extra={"error": str(exc)})
        except Exception:  # a bug: keep the worker alive, keep the traceback
            log.exception("federation round crashed")
        try:
            await asyncio.wait_for(stop_event.wait(), timeout=interval)
        except TimeoutError:
            pass


async def backfill(federation: Any, actor_id: int, name: ActorName, tenant: TenantStore, follower: str,
                   inbox: str, scopes: Any = None) -> int:
    """Queue the current state of what ``name`` publishes to one newly approved follower (hub to hub).

    Only for private (roster) actors: a newly approved partner hub needs the records as they are,
    not just the changes from now on. Public followers (Mastodon users) get new items only.
    """
    import uuid
    from datetime import UTC, datetime

    fed = federation
    queue = DeliveryQueue(fed)
    run = uuid.uuid4().hex
    count = 0
    types = [t for t in fed.hub.types]
    types.sort(key=lambda t: fed.is_personal(t))  # catalogue first, then the people in it
    now = datetime.now(UTC)
    for type_name in types:
        async for data in tenant.iter_entity_data(type_name):
            count += 1
            change = ChangeRecord(count, type_name, str(data.get("sourcedId")), "created", 1, None, None, now, data)
            if not publishes(name, change, fed.is_personal(type_name)) or not follower_may_read(scopes, type_name):
                continue
            activity = activities_for(change, actor_url=name.url(fed.base), base=fed.base, tenant=tenant.tenant.slug,
                                      personal=fed.is_personal(type_name), public=False, to=[follower])[0]
            activity["id"] = f"{name.url(fed.base)}/backfills/{run}/{count}"
            await queue.enqueue(actor_id, inbox, activity)
    return count
