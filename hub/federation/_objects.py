"""Dereferencing the ids the hub mints: activities, Notes, backfills and catalogue objects.

Every id in an activity the hub delivers or lists in an outbox is a URL that answers with that
object (``application/activity+json``)::

    <actor>/activities/<seq>           the Create / Update / Delete of change <seq>, as the outbox lists it
    <actor>/activities/<seq>/note      the Create of the Note announcing a new public record
    <actor>/notes/<seq>                that Note
    <actor>/backfills/<run>/<n>        an activity of the backfill sent to a newly approved follower
    /ap/objects/<tenant>/<type>/<id>   the catalogue object (a Tombstone once it is deleted)

(``<actor>#main-key`` and the ``#follows/...``, ``#accepts/...`` ids of Follow, Accept and Reject
are fragments of the actor document, as Mastodon mints them.)

Visibility is the object's own: what a public actor publishes is public; what the roster actor
publishes, and every personal object, only to a signed request of an approved follower (a backfill
activity only to the follower it was addressed to). An id that does not exist and one the reader
may not see raise the same :class:`~hub.errors.NotFound` with the same message (:data:`UNKNOWN`), so
a signed stranger cannot probe which personal records exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from sqlalchemy import select

from hub.errors import Forbidden, NotFound
from hub.federation._documents import AS_CONTEXT
from hub.federation._outbox import LIBRARY_TYPES, activities_for, change_record, object_url, publishes
from hub.federation._urls import ActorName
from hub.store import ChangeRecord
from hub.store._tables import changes, federation_deliveries

__all__ = ["UNKNOWN", "ActivityPart", "activity_document", "backfill_document", "object_document"]

#: the one answer for an id that does not exist and for one the reader may not see
UNKNOWN = "no such object"
#: which document of a change an id names: the activity, the Create of its Note, or the Note
ActivityPart = Literal["activity", "note-create", "note"]


@asynccontextmanager
async def _unknown_unless_visible() -> AsyncIterator[None]:
    """Turn "not there" and "not for you" into one and the same NotFound."""
    try:
        yield
    except (NotFound, Forbidden):
        raise NotFound(UNKNOWN) from None


async def activity_document(fed: Any, username: str, seq: int, part: ActivityPart,
                            reader: str | None) -> dict[str, Any]:
    """The activity (or Note) minted for change ``seq`` of the actor ``username``."""
    async with _unknown_unless_visible():
        r = await fed.resolve(username)
        if r.tenant is None:
            raise NotFound(UNKNOWN)
        async with fed.db.connect() as conn:
            row = (await conn.execute(select(changes).where(
                changes.c.tenant_id == r.tenant.id, changes.c.seq == seq))).first()
        if row is None:
            raise NotFound(UNKNOWN)
        change = change_record(row)
        personal = fed.is_personal(change.entity_type)
        if not publishes(r.name, change, personal):
            raise NotFound(UNKNOWN)
        if not r.name.public:
            await fed.require_follower(r, reader, change.entity_type)
    acts = activities_for(change, actor_url=r.url, base=fed.base, tenant=r.tenant.slug, personal=personal,
                          public=r.name.public, to=[reader] if reader else [])
    if part == "activity" and acts:
        return acts[0]
    if len(acts) < 2:  # only new public records of some types get a Note
        raise NotFound(UNKNOWN)
    if part == "note-create":
        return acts[1]
    return {"@context": acts[1]["@context"], **acts[1]["object"]}


async def backfill_document(fed: Any, username: str, run: str, number: int, reader: str | None) -> dict[str, Any]:
    """A backfill activity, as it was queued for the one approved follower it is addressed to."""
    async with _unknown_unless_visible():
        r = await fed.resolve(username)
        if r.name.public:  # only the roster actor backfills
            raise NotFound(UNKNOWN)
        await fed.require_follower(r, reader)
        url = f"{r.url}/backfills/{run}/{number}"
        async with fed.db.connect() as conn:
            row = (await conn.execute(select(federation_deliveries.c.activity).where(
                federation_deliveries.c.actor_id == r.actor.id,
                federation_deliveries.c.activity["id"].as_string() == url).limit(1))).first()
        if row is None or reader not in (row.activity.get("to") or []):
            raise NotFound(UNKNOWN)
    return dict(row.activity)


async def object_document(fed: Any, tenant_slug: str, type_name: str, stable_id: str,
                          reader: str | None) -> dict[str, Any]:
    """A catalogue object (a Tombstone once deleted); personal ones only for approved roster followers."""
    from hub.store import TenantStore

    async with _unknown_unless_visible():
        if type_name not in fed.hub.types:
            raise NotFound(UNKNOWN)
        tenant = await fed.hub.store.get_tenant(tenant_slug)
        entity = await TenantStore(fed.hub.store, tenant).get_entity(type_name, stable_id)
        personal = fed.is_personal(type_name)
        kind = "roster" if personal else ("library" if type_name in LIBRARY_TYPES else "org")
        r = await fed.resolve(ActorName(kind, tenant.slug).username)
        if personal:
            await fed.require_follower(r, reader, type_name)
    if entity.status != "active":
        return {"@context": AS_CONTEXT, "id": object_url(fed.base, tenant.slug, type_name, stable_id),
                "type": "Tombstone", "formerType": "Document", "deleted": _iso(entity.updated_at)}
    change = ChangeRecord(0, type_name, stable_id, "updated", entity.version, None, None, entity.updated_at,
                          entity.data)
    activity = activities_for(change, actor_url=r.url, base=fed.base, tenant=tenant.slug, personal=personal,
                              public=not personal, to=[reader] if reader else [])[0]
    return {"@context": activity["@context"], **activity["object"]}


def _iso(when: Any) -> str:
    return str(when.isoformat()).replace("+00:00", "Z")
