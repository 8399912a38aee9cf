"""Followers waiting for approval, and remote actors a tenant follows (hub to hub).

Approving or rejecting a follower answers its Follow with Accept / Reject through the delivery
queue. Following a remote actor creates (unless it exists) a ``federation`` source in the tenant,
fed by the objects that actor sends once it accepted.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update

from hub.auth import ROSTER_CORE_READONLY, normalize_scopes
from hub.errors import ConfigurationError, Conflict, ConnectorError, NotFound
from hub.federation._delivery import DeliveryQueue
from hub.federation._documents import CONTEXT
from hub.federation._fetch import check_url
from hub.federation._inbox import answer
from hub.federation._outbox import follower_scopes
from hub.federation._urls import ActorName, parse_username
from hub.store import Database, TenantStore
from hub.store._tables import (
    federation_actors,
    federation_followers,
    federation_following,
    federation_objects,
)

__all__ = ["FollowerRecord", "FollowingRecord", "approve", "follow_remote", "list_followers", "list_following",
           "received_objects", "reject"]


@dataclass(frozen=True, slots=True)
class FollowerRecord:
    id: int
    actor: str
    follower: str
    state: str
    created_at: datetime
    #: the OneRoster scopes granted at approval (what the follower receives: hub.auth.may_read)
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FollowingRecord:
    id: int
    remote_actor: str
    state: str
    source: str | None
    created_at: datetime


async def list_followers(fed: Any, tenant: TenantStore, state: str | None = None) -> list[FollowerRecord]:
    query = (select(federation_followers, federation_actors.c.username)
             .join(federation_actors, federation_actors.c.id == federation_followers.c.actor_id)
             .where(federation_followers.c.tenant_id == tenant.tenant_id).order_by(federation_followers.c.id))
    if state:
        query = query.where(federation_followers.c.state == state)
    async with fed.db.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [FollowerRecord(r.id, r.username, r.follower, r.state, r.created_at,
                           follower_scopes(r.scopes) if r.state == "accepted" else ()) for r in rows]


async def _decide(fed: Any, tenant: TenantStore, follower_id: int, state: str,
                  scopes: tuple[str, ...] = ()) -> FollowerRecord:
    async with fed.db.connect() as conn:
        row = (await conn.execute(select(federation_followers, federation_actors.c.username)
                                  .join(federation_actors, federation_actors.c.id == federation_followers.c.actor_id)
                                  .where(federation_followers.c.id == follower_id,
                                         federation_followers.c.tenant_id == tenant.tenant_id))).first()
    if row is None:
        raise NotFound(f"no follower {follower_id} in tenant {tenant.tenant.slug!r}")
    name = parse_username(row.username)
    assert name is not None
    actor_url = name.url(fed.base)
    async with fed.db.begin() as conn:
        await conn.execute(update(federation_followers).where(federation_followers.c.id == row.id)
                           .values(state=state, updated_at=datetime.now(UTC), scopes=list(scopes) or None))
        kind = "Accept" if state == "accepted" else "Reject"
        await DeliveryQueue(fed).enqueue(row.actor_id, row.inbox,
                                         answer(actor_url, kind, {"id": row.follow_id}, row.follower), conn)
    if state == "accepted" and not name.public:
        from hub.federation._delivery import backfill

        await backfill(fed, row.actor_id, name, tenant, row.follower, row.shared_inbox or row.inbox, scopes)
    return FollowerRecord(row.id, row.username, row.follower, state, row.created_at,
                          follower_scopes(scopes) if state == "accepted" else ())


async def approve(fed: Any, tenant: TenantStore, follower_id: int,
                  scopes: Sequence[str] = ()) -> FollowerRecord:
    """Accept a follower. ``scopes`` (OneRoster scopes, short or full names) decide which records a
    follower of the roster actor receives (hub.auth.may_read); none given: roster-core, everything
    but Demographics, which need roster-demographics.readonly."""
    granted = normalize_scopes(scopes) if scopes else (ROSTER_CORE_READONLY,)
    return await _decide(fed, tenant, follower_id, "accepted", granted)


async def reject(fed: Any, tenant: TenantStore, follower_id: int) -> FollowerRecord:
    return await _decide(fed, tenant, follower_id, "rejected")


async def list_following(fed: Any, tenant: TenantStore) -> list[FollowingRecord]:
    async with fed.db.connect() as conn:
        rows = (await conn.execute(select(federation_following).where(
            federation_following.c.tenant_id == tenant.tenant_id).order_by(federation_following.c.id))).all()
    return [FollowingRecord(r.id, r.remote_actor, r.state, r.source_name, r.created_at) for r in rows]


async def _webfinger(fed: Any, handle: str) -> str:
    """The actor URL of ``user@host`` (WebFinger; plain http only for hosts allowed as private)."""
    import httpx

    user, _, host = handle.removeprefix("acct:").lstrip("@").rpartition("@")
    if not user or not host:
        raise ConfigurationError(f"{handle!r} is neither an actor URL nor user@host")
    schemes = ["https"] + (["http"] if any(a.lower() in (host.lower(), host.split(':')[0].lower())
                                           for a in fed.settings.allow_private) else [])
    last: Exception | None = None
    for scheme in schemes:
        url = f"{scheme}://{host}/.well-known/webfinger?resource=acct:{user}@{host}"
        try:
            await check_url(url, fed.settings.allow_private)
            async with fed.fetcher.client() as client:
                resp = await client.get(url, headers={"Accept": "application/jrd+json"})
            if resp.status_code == 200:
                for link in resp.json().get("links", []):
                    if link.get("rel") == "self" and link.get("type", "").startswith(("application/activity+json",
                                                                                      "application/ld+json")):
                        return str(link["href"])
            last = ConnectorError(f"WebFinger of {handle} answered {resp.status_code}")
        except (httpx.HTTPError, ValueError, ConnectorError) as exc:
            last = exc
    raise ConnectorError(f"cannot resolve {handle}: {last}")


async def follow_remote(fed: Any, tenant: TenantStore, target: str, source_name: str | None = None) -> FollowingRecord:
    """Follow a remote actor (URL or user@host) from the tenant's actor, feeding a ``federation`` source."""
    actor_url = target if target.startswith(("http://", "https://")) else await _webfinger(fed, target)
    local = await fed.resolve(ActorName("org", tenant.tenant.slug).username)
    remote = await fed.fetcher.actor(actor_url, refresh=True, signer=local.actor, signer_key_id=local.key_id)
    name = source_name or ("fed-" + "".join(c if c.isalnum() else "-" for c in urlsplit(remote.actor).netloc)
                           + "-" + remote.actor.rstrip("/").rsplit("/", 1)[-1].replace(".", "-"))[:128]
    await _ensure_source(fed, tenant, name, remote.actor)
    follow_id = f"{local.url}#follows/{uuid.uuid4()}"
    now = datetime.now(UTC)
    async with fed.db.begin() as conn:
        existing = (await conn.execute(select(federation_following).where(
            federation_following.c.tenant_id == tenant.tenant_id,
            federation_following.c.remote_actor == remote.actor))).first()
        if existing is None:
            await conn.execute(federation_following.insert().values(
                tenant_id=tenant.tenant_id, actor_id=local.actor.id, remote_actor=remote.actor,
                remote_inbox=remote.inbox, follow_id=follow_id, state="pending", source_name=name, dirty=False,
                created_at=now, updated_at=now))
        else:
            await conn.execute(update(federation_following).where(federation_following.c.id == existing.id).values(
                follow_id=follow_id, remote_inbox=remote.inbox, state="pending", source_name=name, updated_at=now))
        await DeliveryQueue(fed).enqueue(local.actor.id, remote.inbox, {
            "@context": CONTEXT, "id": follow_id, "type": "Follow", "actor": local.url, "object": remote.actor,
            "to": [remote.actor]}, conn)
    return next(f for f in await list_following(fed, tenant) if f.remote_actor == remote.actor)


async def _ensure_source(fed: Any, tenant: TenantStore, name: str, remote_actor: str) -> None:
    from pydantic import SecretStr

    try:
        source = await tenant.get_source(name)
    except NotFound:
        source = None
    if source is not None:
        if source.connector != "federation" or source.config.get("actor") != remote_actor:
            raise Conflict(f"source {name!r} exists and is not the federation source of {remote_actor}")
        return
    connector = fed.hub.plugins.connector("federation")
    config = tenant.validate_config(connector.config_model, {
        "actor": remote_actor, "tenant": tenant.tenant.slug,
        "database_url": SecretStr(fed.hub.settings.database_url)})
    await tenant.add_source(name, "federation", config)


async def received_objects(database_url: str, tenant_slug: str, remote_actor: str,
                           type_name: str) -> AsyncIterator[tuple[str, Mapping[str, Any]]]:
    """(object id, OneRoster record) of the live objects ``remote_actor`` sent to ``tenant_slug``.

    Used by the ``federation`` connector; keyset pagination, so memory stays flat.
    """
    from hub.store._tables import tenants

    db = Database(database_url)
    try:
        async with db.connect() as conn:
            tenant_id = (await conn.execute(select(tenants.c.id).where(tenants.c.slug == tenant_slug))).scalar()
        if tenant_id is None:
            return
        last = 0
        while True:
            async with db.connect() as conn:
                rows = (await conn.execute(select(federation_objects.c.id, federation_objects.c.object_id,
                                                  federation_objects.c.data).where(
                    federation_objects.c.tenant_id == tenant_id, federation_objects.c.remote_actor == remote_actor,
                    federation_objects.c.type == type_name, federation_objects.c.deleted.is_(False),
                    federation_objects.c.id > last).order_by(federation_objects.c.id).limit(500))).all()
            if not rows:
                return
            for row in rows:
                yield row.object_id, row.data
            last = rows[-1].id
    finally:
        await db.dispose()
