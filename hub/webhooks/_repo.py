"""Subscriptions, deliveries and replay of one tenant (the repository the API and the CLI use).

Like :class:`hub.store.TenantStore`, a :class:`WebhookStore` binds one tenant and adds its id to
every query, so a subscription or delivery of another tenant is :class:`~hub.errors.NotFound`.
Secrets are kept encrypted with the hub's secret key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from hub.crypto import SecretBox
from hub.errors import ConfigurationError, NotFound
from hub.store import Database
from hub.store._tables import (
    changes,
    sources,
    tenants,
    webhook_attempts,
    webhook_deliveries,
    webhook_subscriptions,
)
from hub.webhooks._events import validate_patterns
from hub.webhooks._guard import UrlGuard
from hub.webhooks._queue import SubscriptionFilter, delivery_rows_for_changes, source_names
from hub.webhooks._records import AttemptRecord, DeliveryRecord, SubscriptionRecord
from hub.webhooks._signing import generate_secret

__all__ = ["DELIVERY_STATUSES", "WebhookStore", "delivery_record", "subscription_record"]

DELIVERY_STATUSES = ("pending", "succeeded", "failed", "cancelled")
_S = webhook_subscriptions
_D = webhook_deliveries
_UNSET: Any = object()


def _now() -> datetime:
    return datetime.now(UTC)


def subscription_record(row: Any) -> SubscriptionRecord:
    return SubscriptionRecord(
        id=row.id, tenant_id=row.tenant_id, url=row.url, description=row.description,
        event_types=tuple(row.event_types), sources=tuple(row.sources) if row.sources is not None else None,
        entity_types=tuple(row.entity_types) if row.entity_types is not None else None, enabled=row.enabled,
        disabled_reason=row.disabled_reason, last_seq=row.last_seq, failing_since=row.failing_since,
        previous_secret_until=row.previous_secret_until if row.previous_secret else None,
        created_at=row.created_at, updated_at=row.updated_at,
    )


def delivery_record(row: Any, *, with_body: bool = False) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id, subscription_id=row.subscription_id, msg_id=row.msg_id, seq=row.seq, event_type=row.event_type,
        system=row.system, status=row.status, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code, last_error=row.last_error, replay_of=row.replay_of,
        created_at=row.created_at, finished_at=row.finished_at, body=row.body if with_body else None,
    )


def _names(values: Sequence[str] | None, what: str) -> list[str] | None:
    if values is None:
        return None
    cleaned = sorted({v.strip() for v in values if v.strip()})
    if not cleaned:
        return None
    if any(len(v) > 128 for v in cleaned):
        raise ConfigurationError(f"{what} names are at most 128 characters")
    return cleaned


class WebhookStore:
    """Webhook subscriptions and deliveries of one tenant."""

    def __init__(self, db: Database, box: SecretBox | None, tenant_id: int, guard: UrlGuard) -> None:
        self.db = db
        self.box = box
        self.tenant_id = tenant_id
        self.guard = guard

    @classmethod
    def for_hub(cls, hub: Any, tenant_id: int) -> WebhookStore:
        """The store of ``tenant_id`` in a :class:`hub.context.Hub`."""
        return cls(hub.db, hub.secret_box, tenant_id, UrlGuard(hub.settings.webhooks.allow_private_networks))

    # --- secrets ------------------------------------------------------------------------------

    def _seal(self, secret: str) -> str:
        if self.box is None:
            raise ConfigurationError("this hub has no secret key, so it cannot keep webhook secrets (run `fediflow init`)")
        return self.box.encrypt({"secret": secret})

    def _open(self, token: str) -> str:
        if self.box is None:
            raise ConfigurationError("this hub has no secret key, so it cannot read webhook secrets")
        return str(self.box.decrypt(token)["secret"])

    async def secrets(self, subscription_id: int) -> tuple[str, str | None]:
        """``(current, previous)``; ``previous`` only while a rotation's overlap lasts."""
        row = await self._row(subscription_id)
        previous = None
        if row.previous_secret and row.previous_secret_until and row.previous_secret_until > _now():
            previous = self._open(row.previous_secret)
        return self._open(row.secret), previous

    # --- subscriptions ------------------------------------------------------------------------

    async def _check_sources(self, names: list[str] | None) -> None:
        if not names:
            return
        async with self.db.connect() as conn:
            known = set((await conn.execute(select(sources.c.name).where(sources.c.tenant_id == self.tenant_id))).scalars())
        missing = [n for n in names if n not in known]
        if missing:
            raise ConfigurationError(f"no source {', '.join(map(repr, missing))} in this tenant")

    async def create(self, url: str, event_types: Sequence[str], *, sources_: Sequence[str] | None = None,
                     entity_types: Sequence[str] | None = None, description: str = "",
                     enabled: bool = True) -> tuple[SubscriptionRecord, str]:
        """A new subscription and its secret (returned once here; :meth:`secrets` reads it again).

        Deliveries start with the next change: the cursor is set to the tenant's current sequence.
        """
        await self.guard.check(url)
        patterns = validate_patterns(event_types)
        source_list = _names(sources_, "source")
        await self._check_sources(source_list)
        secret = generate_secret()
        now = _now()
        async with self.db.begin() as conn:
            seq = (await conn.execute(select(tenants.c.change_seq).where(tenants.c.id == self.tenant_id))).scalar_one()
            result = await conn.execute(_S.insert().values(
                tenant_id=self.tenant_id, url=url, description=description[:255], event_types=patterns,
                sources=source_list, entity_types=_names(entity_types, "entity type"), secret=self._seal(secret),
                enabled=enabled, last_seq=seq, created_at=now, updated_at=now,
            ))
            sub_id = result.inserted_primary_key[0]
        return await self.get(sub_id), secret

    async def _row(self, subscription_id: int) -> Any:
        async with self.db.connect() as conn:
            row = (await conn.execute(select(_S).where(_S.c.tenant_id == self.tenant_id, _S.c.id == subscription_id))).first()
        if row is None:
            raise NotFound(f"no webhook subscription {subscription_id}")
        return row

    async def get(self, subscription_id: int) -> SubscriptionRecord:
        return subscription_record(await self._row(subscription_id))

    async def list(self) -> list[SubscriptionRecord]:
        async with self.db.connect() as conn:
            rows = await conn.execute(select(_S).where(_S.c.tenant_id == self.tenant_id).order_by(_S.c.id))
            return [subscription_record(r) for r in rows]

    async def _update(self, subscription_id: int, **values: Any) -> SubscriptionRecord:
        await self._row(subscription_id)
        values["updated_at"] = _now()
        async with self.db.begin() as conn:
            await conn.execute(update(_S).where(_S.c.tenant_id == self.tenant_id, _S.c.id == subscription_id)
                               .values(**values))
        return await self.get(subscription_id)

    async def update(self, subscription_id: int, *, url: str | None = None, event_types: Sequence[str] | None = None,
                     sources_: Sequence[str] | None = _UNSET, entity_types: Sequence[str] | None = _UNSET,
                     description: str | None = None) -> SubscriptionRecord:
        """Change some fields (``None`` keeps url, event types, description; for the filters it clears them)."""
        values: dict[str, Any] = {}
        if url is not None:
            await self.guard.check(url)
            values["url"] = url
        if event_types is not None:
            values["event_types"] = validate_patterns(event_types)
        if sources_ is not _UNSET:
            values["sources"] = _names(sources_, "source")
            await self._check_sources(values["sources"])
        if entity_types is not _UNSET:
            values["entity_types"] = _names(entity_types, "entity type")
        if description is not None:
            values["description"] = description[:255]
        return await self._update(subscription_id, **values)

    async def delete(self, subscription_id: int) -> None:
        await self._row(subscription_id)
        async with self.db.begin() as conn:
            await conn.execute(_S.delete().where(_S.c.tenant_id == self.tenant_id, _S.c.id == subscription_id))

    async def rotate(self, subscription_id: int, overlap_seconds: float) -> tuple[SubscriptionRecord, str]:
        """A new secret; the current one keeps signing too (a second signature) for ``overlap_seconds``."""
        row = await self._row(subscription_id)
        secret = generate_secret()
        until = _now() + timedelta(seconds=overlap_seconds) if overlap_seconds > 0 else None
        record = await self._update(subscription_id, secret=self._seal(secret),
                                    previous_secret=row.secret if until else None, previous_secret_until=until)
        return record, secret

    async def set_enabled(self, subscription_id: int, enabled: bool, *, reason: str | None = None,
                          skip_backlog: bool = False) -> SubscriptionRecord:
        """Enable or disable. Enabling resumes where the subscription stopped (nothing is lost) unless
        ``skip_backlog``: then its pending deliveries are cancelled and it starts at the current change."""
        values: dict[str, Any] = {"enabled": enabled, "disabled_reason": None if enabled else (reason or "disabled by a user")}
        if enabled:
            values["failing_since"] = None
        if enabled and skip_backlog:
            now = _now()
            async with self.db.begin() as conn:
                seq = (await conn.execute(select(tenants.c.change_seq).where(tenants.c.id == self.tenant_id))).scalar_one()
                await conn.execute(update(_D).where(_D.c.tenant_id == self.tenant_id, _D.c.subscription_id == subscription_id,
                                                    _D.c.status == "pending")
                                   .values(status="cancelled", finished_at=now, last_error="skipped when re-enabled"))
            values["last_seq"] = seq
        return await self._update(subscription_id, **values)

    # --- deliveries ---------------------------------------------------------------------------

    async def deliveries(self, subscription_id: int | None = None, *, status: str | None = None,
                         limit: int = 100, offset: int = 0) -> tuple[int, list[DeliveryRecord]]:
        """``(total, page)`` of deliveries, newest first."""
        cond = [_D.c.tenant_id == self.tenant_id]
        if subscription_id is not None:
            await self._row(subscription_id)
            cond.append(_D.c.subscription_id == subscription_id)
        if status is not None:
            if status not in DELIVERY_STATUSES:
                raise ConfigurationError(f"delivery status must be one of {', '.join(DELIVERY_STATUSES)}")
            cond.append(_D.c.status == status)
        async with self.db.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(_D).where(*cond))).scalar_one()
            rows = await conn.execute(select(_D).where(*cond).order_by(_D.c.id.desc()).limit(limit).offset(offset))
            return total, [delivery_record(r) for r in rows]

    async def delivery(self, delivery_id: int) -> tuple[DeliveryRecord, list[AttemptRecord]]:
        """One delivery with its body and every attempt, oldest first."""
        async with self.db.connect() as conn:
            row = (await conn.execute(select(_D).where(_D.c.tenant_id == self.tenant_id, _D.c.id == delivery_id))).first()
            if row is None:
                raise NotFound(f"no webhook delivery {delivery_id}")
            attempts = await conn.execute(select(webhook_attempts).where(webhook_attempts.c.delivery_id == delivery_id)
                                          .order_by(webhook_attempts.c.id))
            return delivery_record(row, with_body=True), [
                AttemptRecord(a.attempt, a.at, a.status_code, a.latency_ms, a.error, a.response) for a in attempts]

    async def replay_delivery(self, delivery_id: int) -> DeliveryRecord:
        """Queue one delivery again (same ``webhook-id`` and body, a fresh attempt count)."""
        original, _ = await self.delivery(delivery_id)
        now = _now()
        async with self.db.begin() as conn:
            result = await conn.execute(_D.insert().values(
                tenant_id=self.tenant_id, subscription_id=original.subscription_id, msg_id=original.msg_id,
                seq=original.seq, event_type=original.event_type, system=original.system, body=original.body, status="pending", attempts=0,
                next_attempt_at=now, replay_of=original.id, created_at=now,
            ))
            new_id = result.inserted_primary_key[0]
        return (await self.delivery(new_id))[0]

    async def replay_since(self, subscription_id: int, after_seq: int) -> int:
        """Queue again every event after change ``after_seq`` the subscription would have received
        (up to its cursor; later ones come anyway), in sequence order. Returns how many."""
        sub = await self.get(subscription_id)
        wanted = SubscriptionFilter(sub.event_types, sub.sources, sub.entity_types)
        now = _now()
        count = 0
        async with self.db.begin() as conn:
            names = await source_names(conn, self.tenant_id)
            system = (await conn.execute(
                select(_D).where(_D.c.tenant_id == self.tenant_id, _D.c.subscription_id == subscription_id,
                                 _D.c.seq > after_seq, _D.c.replay_of.is_(None), _D.c.system.is_(True))
                .order_by(_D.c.seq, _D.c.id)
            )).all()
            pending_system = list(system)
            last = after_seq
            while last < sub.last_seq:
                rows = (await conn.execute(
                    select(changes).where(changes.c.tenant_id == self.tenant_id, changes.c.seq > last,
                                          changes.c.seq <= sub.last_seq).order_by(changes.c.seq).limit(2000)
                )).all()
                if not rows:
                    break
                last = rows[-1].seq
                batch: list[dict[str, Any]] = []
                for row in rows:
                    while pending_system and pending_system[0].seq < row.seq:
                        batch.append(self._copy(pending_system.pop(0), now))
                    batch.extend(delivery_rows_for_changes(self.tenant_id, subscription_id, wanted, [row], names, now))
                if batch:
                    await conn.execute(_D.insert(), batch)
                    count += len(batch)
            rest = [self._copy(r, now) for r in pending_system]
            if rest:
                await conn.execute(_D.insert(), rest)
                count += len(rest)
        return count

    def _copy(self, row: Any, now: datetime) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "subscription_id": row.subscription_id, "msg_id": row.msg_id, "seq": row.seq,
                "event_type": row.event_type, "system": row.system, "body": row.body, "status": "pending", "attempts": 0,
                "next_attempt_at": now, "replay_of": row.id, "created_at": now}
