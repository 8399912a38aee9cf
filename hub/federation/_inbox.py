"""Inbox processing: verified, deduplicated activities, each handled or acknowledged and ignored.

Handled: ``Follow`` (public actors accept at once, private ones wait for a tenant admin),
``Undo`` of a Follow, ``Accept`` / ``Reject`` of our Follows, and ``Create`` / ``Update`` /
``Delete`` of catalogue objects from remote actors a tenant follows (stored for the ``federation``
connector). Anything else is recorded and ignored.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from hub.errors import AuthError, ConfigurationError, ConnectorError
from hub.federation._delivery import DeliveryQueue
from hub.federation._documents import CONTEXT
from hub.store._tables import federation_followers, federation_following, federation_inbox, federation_objects

__all__ = ["receive"]

log = logging.getLogger("fediflow.federation.inbox")


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _origin(url: str) -> str:
    return urlsplit(url).netloc.lower()


async def receive(fed: Any, method: str, path_qs: str, headers: Mapping[str, str], body: bytes) -> str:
    """Verify and process one POSTed activity; return what happened (``accepted``, ``duplicate``, ``ignored``)."""
    try:
        activity = json.loads(body)
    except ValueError:
        raise ConfigurationError("the body is not JSON") from None
    if not isinstance(activity, dict):
        raise ConfigurationError("the body is not an activity")
    signer = await fed.verify_request(method, path_qs, headers, body)
    actor = _id_of(activity.get("actor"))
    activity_id = activity.get("id")
    kind = activity.get("type")
    if actor is None or not isinstance(activity_id, str) or not isinstance(kind, str):
        raise ConfigurationError("an activity needs id, type and actor")
    if urldefrag(signer)[0] != actor:
        raise AuthError("the signing key does not belong to the activity's actor")
    if _origin(activity_id) != _origin(actor):
        raise AuthError("the activity's id is not on its actor's origin")
    try:
        async with fed.db.begin() as conn:
            await conn.execute(federation_inbox.insert().values(
                activity_id=activity_id, actor=actor, type=kind[:64], payload=activity, outcome="received",
                received_at=datetime.now(UTC)))
    except IntegrityError:
        return "duplicate"
    handler = _HANDLERS.get(kind)
    outcome = await handler(fed, actor, activity) if handler else "ignored"
    async with fed.db.begin() as conn:
        await conn.execute(update(federation_inbox).where(federation_inbox.c.activity_id == activity_id)
                           .values(outcome=outcome))
    return outcome


async def _follow(fed: Any, actor: str, activity: dict[str, Any]) -> str:
    target = _id_of(activity.get("object"))
    local = await fed.resolve_url(target) if target else None
    if local is None:
        return "ignored"
    instance = await fed.instance_actor()
    try:
        remote = await fed.fetcher.actor(actor, signer=instance.actor, signer_key_id=instance.key_id)
    except ConnectorError as exc:
        log.info("follower not reachable", extra={"actor": actor, "error": str(exc)})
        return "ignored"
    state = "accepted" if local.name.public else "pending"
    now = datetime.now(UTC)
    async with fed.db.begin() as conn:
        existing = (await conn.execute(select(federation_followers).where(
            federation_followers.c.actor_id == local.actor.id, federation_followers.c.follower == actor))).first()
        if existing is not None:
            if existing.state == "accepted":
                state = "accepted"
            await conn.execute(update(federation_followers).where(federation_followers.c.id == existing.id).values(
                follow_id=activity["id"], inbox=remote.inbox, shared_inbox=remote.shared_inbox, state=state,
                updated_at=now))
        else:
            await conn.execute(federation_followers.insert().values(
                actor_id=local.actor.id, tenant_id=local.tenant.id if local.tenant else None, follower=actor,
                inbox=remote.inbox, shared_inbox=remote.shared_inbox, follow_id=activity["id"], state=state,
                created_at=now, updated_at=now))
        if state == "accepted":
            await DeliveryQueue(fed).enqueue(local.actor.id, remote.inbox,
                                             answer(local.url, "Accept", activity, actor), conn)
    return "accepted"


def answer(actor_url: str, kind: str, follow: Mapping[str, Any], follower: str) -> dict[str, Any]:
    """An Accept or Reject of ``follow``, addressed to the follower only."""
    return {"@context": CONTEXT, "id": f"{actor_url}#{kind.lower()}s/{uuid.uuid4()}", "type": kind,
            "actor": actor_url, "to": [follower],
            "object": {"id": follow.get("id"), "type": "Follow", "actor": follower, "object": actor_url}}


async def _undo(fed: Any, actor: str, activity: dict[str, Any]) -> str:
    obj = activity.get("object")
    obj_id = _id_of(obj)
    is_follow = isinstance(obj, Mapping) and obj.get("type") == "Follow"
    async with fed.db.begin() as conn:
        query = delete(federation_followers).where(federation_followers.c.follower == actor)
        if is_follow and isinstance(obj, Mapping):
            local = await fed.resolve_url(_id_of(obj.get("object")) or "")
            if local is None:
                return "ignored"
            query = query.where(federation_followers.c.actor_id == local.actor.id)
        elif obj_id:
            query = query.where(federation_followers.c.follow_id == obj_id)
        else:
            return "ignored"
        result = await conn.execute(query)
    return "accepted" if result.rowcount else "ignored"


async def _answered(fed: Any, actor: str, activity: dict[str, Any], state: str) -> str:
    obj = activity.get("object")
    follow_id = _id_of(obj)
    async with fed.db.begin() as conn:
        query = update(federation_following).where(federation_following.c.remote_actor == actor)
        if follow_id:
            query = query.where(federation_following.c.follow_id == follow_id)
        result = await conn.execute(query.values(state=state, updated_at=datetime.now(UTC)))
    return "accepted" if result.rowcount else "ignored"


async def _accept(fed: Any, actor: str, activity: dict[str, Any]) -> str:
    return await _answered(fed, actor, activity, "accepted")


async def _reject(fed: Any, actor: str, activity: dict[str, Any]) -> str:
    return await _answered(fed, actor, activity, "rejected")


async def _followings(fed: Any, actor: str) -> list[Any]:
    async with fed.db.connect() as conn:
        return list((await conn.execute(select(federation_following).where(
            federation_following.c.remote_actor == actor, federation_following.c.state == "accepted"))).all())


async def _create(fed: Any, actor: str, activity: dict[str, Any]) -> str:
    obj = activity.get("object")
    if not isinstance(obj, Mapping):
        return "ignored"
    obj_id, type_, data = obj.get("id"), obj.get("fediflowType"), obj.get("oneRoster")
    if not isinstance(obj_id, str) or not isinstance(type_, str) or not isinstance(data, Mapping):
        return "ignored"
    if _origin(obj_id) != _origin(actor) or type_ not in fed.hub.types:
        return "ignored"
    followings = await _followings(fed, actor)
    if not followings:
        return "ignored"
    now = datetime.now(UTC)
    async with fed.db.begin() as conn:
        for f in followings:
            result = await conn.execute(update(federation_objects).where(
                federation_objects.c.tenant_id == f.tenant_id, federation_objects.c.object_id == obj_id,
                federation_objects.c.remote_actor == actor).values(type=type_, data=dict(data), deleted=False,
                                                                   updated_at=now))
            if not result.rowcount:
                await conn.execute(federation_objects.insert().values(
                    tenant_id=f.tenant_id, remote_actor=actor, object_id=obj_id, type=type_, data=dict(data),
                    deleted=False, updated_at=now))
            await conn.execute(update(federation_following).where(federation_following.c.id == f.id).values(dirty=True))
    return "accepted"


async def _delete(fed: Any, actor: str, activity: dict[str, Any]) -> str:
    obj_id = _id_of(activity.get("object"))
    if obj_id is None:
        return "ignored"
    now = datetime.now(UTC)
    async with fed.db.begin() as conn:
        if obj_id == actor:  # the actor itself is gone
            await conn.execute(delete(federation_followers).where(federation_followers.c.follower == actor))
            return "accepted"
        result = await conn.execute(update(federation_objects).where(
            federation_objects.c.object_id == obj_id, federation_objects.c.remote_actor == actor)
            .values(deleted=True, updated_at=now))
        if result.rowcount:
            await conn.execute(update(federation_following).where(federation_following.c.remote_actor == actor)
                               .values(dirty=True))
    return "accepted" if result.rowcount else "ignored"


_HANDLERS = {"Follow": _follow, "Undo": _undo, "Accept": _accept, "Reject": _reject, "Create": _create,
             "Update": _create, "Delete": _delete}
