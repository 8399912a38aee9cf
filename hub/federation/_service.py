"""The federation service of one hub: local actors, documents, the outbox and signed requests.

:class:`Federation` is framework-free: hub.api._federation turns HTTP requests into calls of it,
the CLI and the worker call it directly. Inbox processing lives in ``_inbox``, following and
follower approval in ``_follows``, the delivery queue in ``_delivery``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import urldefrag, urlsplit

from sqlalchemy import and_, func, or_, select

from hub.errors import AuthError, NotFound
from hub.federation._documents import (
    AS_CONTEXT,
    actor_document,
    collection,
    nodeinfo_document,
    nodeinfo_links,
    webfinger_document,
)
from hub.federation._fetch import Fetcher, RemoteActor
from hub.federation._keys import LocalActor, LocalActors
from hub.federation._objects import ActivityPart, activity_document, backfill_document, object_document
from hub.federation._outbox import (
    LIBRARY_TYPES,
    activities_for,
    change_record,
    follower_may_read,
    item_key,
    note_types,
)
from hub.federation._signatures import ParsedSignature, parse_signature
from hub.federation._urls import INSTANCE_USERNAME, ActorName, base_url, host_of, parse_username
from hub.store import TenantRecord
from hub.store._tables import changes, federation_actors, federation_followers, tenants

__all__ = ["Federation", "ResolvedActor"]


@dataclass(frozen=True, slots=True)
class ResolvedActor:
    name: ActorName
    url: str
    tenant: TenantRecord | None
    title: str
    actor: LocalActor

    @property
    def key_id(self) -> str:
        return f"{self.url}#main-key"


def _version() -> str:
    try:
        return metadata.version("fediflow")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "0"


class Federation:
    """ActivityPub for one :class:`~hub.context.Hub`."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.settings = hub.settings.federation
        self.base = base_url(hub.settings)
        self.domain = host_of(self.base)
        self.db = hub.db
        self.actors = LocalActors(hub.db, hub.secret_box)
        self.fetcher = Fetcher(hub.db, self.settings, f"FediFlow/{_version()} (+{self.base})")

    # --- types and privacy --------------------------------------------------------------------

    def is_personal(self, type_name: str) -> bool:
        """Whether records of ``type_name`` are personal data (unknown types are, to be safe)."""
        try:
            model = self.hub.types[type_name]
        except KeyError:
            return True
        return bool(getattr(model, "personal", True))

    def visible_types(self, name: ActorName) -> list[str] | None:
        """Entity types whose changes the actor's outbox lists (None: every type)."""
        if name.kind == "roster":
            return None
        if name.kind == "library":
            return sorted(LIBRARY_TYPES)
        if name.kind == "course":
            return ["Course", "Class"]  # the course, and the classes of it
        if name.kind == "class":
            return ["Class"]
        if name.kind == "org":
            return sorted(t for t in self.hub.types if not self.is_personal(t) and t not in LIBRARY_TYPES)
        return []

    # --- local actors -------------------------------------------------------------------------

    def actor_url(self, name: ActorName) -> str:
        return name.url(self.base)

    async def resolve(self, username: str) -> ResolvedActor:
        """The local actor ``username`` (its key created on first use); NotFound when there is none."""
        name = parse_username(username)
        if name is None:
            raise NotFound(f"no actor {username!r}")
        tenant: TenantRecord | None = None
        title = "FediFlow hub"
        if name.kind != "instance":
            tenant = await self.hub.store.get_tenant(str(name.tenant))
            title = tenant.name
            if name.kind in ("course", "class"):
                from hub.store import TenantStore

                entity = await TenantStore(self.hub.store, tenant).get_entity(name.kind.title(), str(name.ref))
                if entity.status != "active":
                    raise NotFound(f"no actor {username!r}")
                title = str(entity.data.get("title") or entity.stable_id)
        actor = await self.actors.ensure(name, tenant.id if tenant else None)
        return ResolvedActor(name, self.actor_url(name), tenant, title, actor)

    async def resolve_url(self, url: str) -> ResolvedActor | None:
        """The local actor at ``url``, or None when ``url`` is not one of ours."""
        prefix = f"{self.base}/ap/actors/"
        url = urldefrag(url)[0]
        if not url.startswith(prefix) or "/" in url[len(prefix):]:
            return None
        try:
            return await self.resolve(url[len(prefix):])
        except NotFound:
            return None

    async def instance_actor(self) -> ResolvedActor:
        return await self.resolve(INSTANCE_USERNAME)

    # --- documents ----------------------------------------------------------------------------

    async def actor_document(self, username: str) -> dict[str, Any]:
        r = await self.resolve(username)
        return actor_document(r.name, r.url, self.base, r.actor.public_key_pem, r.title)

    async def webfinger(self, resource: str) -> dict[str, Any]:
        """The JRD of ``acct:user@domain`` (or of an actor URL); NotFound for other hosts or names."""
        if resource.startswith("acct:"):
            user, _, domain = resource[5:].rpartition("@")
            if domain.lower() != self.domain:
                raise NotFound(f"{resource} is not on this host")
            resolved = await self.resolve(user)
        else:
            found = await self.resolve_url(resource)
            if found is None:
                raise NotFound(f"no actor {resource!r}")
            resolved = found
        return webfinger_document(resolved.name.username, self.domain, resolved.url)

    def nodeinfo_links(self) -> dict[str, Any]:
        return nodeinfo_links(self.base)

    async def nodeinfo(self) -> dict[str, Any]:
        async with self.db.connect() as conn:
            count = (await conn.execute(select(func.count()).select_from(tenants))).scalar_one()
            posts = (await conn.execute(select(func.count()).select_from(changes).where(
                changes.c.entity_type.in_(sorted(note_types())), changes.c.op == "created"))).scalar_one()
        return nodeinfo_document(_version(), count, posts)

    # --- outbox and collections ------------------------------------------------------------------

    def _changes_query(self, r: ResolvedActor) -> Any:
        """The changes an actor's outbox lists: exactly those it publishes (``_outbox.publishes``)."""
        assert r.tenant is not None
        cond = [changes.c.tenant_id == r.tenant.id]
        if r.name.kind == "course":  # the course and its classes
            of_course = changes.c.data[("course", "sourcedId")].as_string() == r.name.ref
            cond.append(or_(and_(changes.c.entity_type == "Course", changes.c.stable_id == r.name.ref),
                            and_(changes.c.entity_type == "Class", of_course)))
        elif r.name.kind == "class":
            cond += [changes.c.entity_type == "Class", changes.c.stable_id == r.name.ref]
        elif (types := self.visible_types(r.name)) is not None:
            cond.append(changes.c.entity_type.in_(types))
        return and_(*cond)

    async def _outbox_total(self, r: ResolvedActor, cond: Any) -> int:
        """The number of activities the outbox lists: one per change, plus the Notes of public actors."""
        async with self.db.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(changes).where(cond))).scalar_one()
            if r.name.public:
                total += (await conn.execute(select(func.count()).select_from(changes).where(
                    cond, changes.c.op == "created", changes.c.entity_type.in_(sorted(note_types()))))).scalar_one()
        return int(total)

    async def outbox(self, username: str, *, page: bool, before: int | None, reader: str | None) -> dict[str, Any]:
        """The outbox collection, or one page of it: ``page_size`` activities, newest first.

        ``before`` is the cursor of the ``next`` link (an item position, :func:`_outbox.item_key`);
        ``totalItems`` counts the activities a client pages through, Notes included.
        """
        r = await self.resolve(username)
        url = f"{r.url}/outbox"
        page_id = f"{url}?page=true" + (f"&before={before}" if before is not None else "")
        if r.tenant is None:
            if page:
                return {"@context": AS_CONTEXT, "id": page_id, "type": "OrderedCollectionPage", "partOf": url,
                        "orderedItems": []}
            return collection(url, 0, first=f"{url}?page=true")
        if not r.name.public:
            await self.require_follower(r, reader)
        cond = self._changes_query(r)
        if not page:
            return collection(url, await self._outbox_total(r, cond), first=f"{url}?page=true")
        query = select(changes).where(cond)
        if before is not None:  # items with a key below the cursor: their changes have seq <= (before - 1) // 2
            query = query.where(changes.c.seq <= (before - 1) // 2)
        size = self.settings.page_size
        async with self.db.connect() as conn:  # every change is at least one item: size + 1 tell if there is more
            rows = (await conn.execute(query.order_by(changes.c.seq.desc()).limit(size + 1))).all()
        keyed: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            change = change_record(row)
            acts = activities_for(change, actor_url=r.url, base=self.base, tenant=r.tenant.slug,
                                  personal=self.is_personal(change.entity_type), public=r.name.public,
                                  to=[reader] if reader else [])
            keyed += [(item_key(change.seq, i), act) for i, act in reversed(list(enumerate(acts)))
                      if before is None or item_key(change.seq, i) < before]
        doc: dict[str, Any] = {"@context": AS_CONTEXT, "id": page_id, "type": "OrderedCollectionPage", "partOf": url,
                               "orderedItems": [act for _, act in keyed[:size]]}
        if len(keyed) > size:
            doc["next"] = f"{url}?page=true&before={keyed[size - 1][0]}"
        return doc

    async def followers_collection(self, username: str) -> dict[str, Any]:
        """Followers are counted, never listed (who follows a district is nobody else's business)."""
        r = await self.resolve(username)
        async with self.db.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(federation_followers).where(
                federation_followers.c.actor_id == r.actor.id, federation_followers.c.state == "accepted"))).scalar_one()
        return collection(f"{r.url}/followers", total)

    async def following_collection(self, username: str) -> dict[str, Any]:
        r = await self.resolve(username)
        return collection(f"{r.url}/following", 0)

    async def object_document(self, tenant_slug: str, type_name: str, stable_id: str,
                              reader: str | None) -> dict[str, Any]:
        """A catalogue object; personal ones only for approved followers of the tenant's roster actor."""
        return await object_document(self, tenant_slug, type_name, stable_id, reader)

    async def activity_document(self, username: str, seq: int, part: ActivityPart,
                                reader: str | None) -> dict[str, Any]:
        """The activity, Note-Create or Note minted for change ``seq`` by ``username`` (``_objects``)."""
        return await activity_document(self, username, seq, part, reader)

    async def backfill_document(self, username: str, run: str, number: int, reader: str | None) -> dict[str, Any]:
        """A backfill activity, for the follower it was addressed to (``_objects``)."""
        return await backfill_document(self, username, run, number, reader)

    # --- signatures on requests to us ---------------------------------------------------------------

    async def verify_request(self, method: str, path_qs: str, headers: Mapping[str, str], body: bytes) -> str:
        """Verify the request's HTTP signature; return the signing actor's id.

        The key is fetched (signed by our instance actor) and cached; when a cached key fails, it is
        fetched once more (the remote actor may have rotated it). The key must be owned by the actor
        document it is published in, on the same origin.
        """
        parsed = parse_signature(method, self.base + path_qs, headers, body,
                                 max_skew=self.settings.signature_max_skew_seconds)
        actor_url = urldefrag(parsed.key_id)[0]
        remote = await self._remote_for_key(parsed, actor_url, refresh=False)
        if remote.key_id == parsed.key_id and parsed.verify(remote.public_key_pem):
            return remote.actor
        remote = await self._remote_for_key(parsed, actor_url, refresh=True)
        if remote.key_id == parsed.key_id and parsed.verify(remote.public_key_pem):
            return remote.actor
        raise AuthError("the HTTP signature does not verify")

    async def _remote_for_key(self, parsed: ParsedSignature, actor_url: str, *, refresh: bool) -> RemoteActor:
        from hub.errors import ConnectorError

        local = await self.resolve_url(actor_url)
        if local is not None:  # one of our own actors (a hub talking to itself)
            return RemoteActor(local.url, local.key_id, local.actor.public_key_pem, f"{local.url}/inbox",
                               f"{self.base}/ap/inbox")
        instance = await self.instance_actor()
        try:
            return await self.fetcher.actor(actor_url, refresh=refresh, signer=instance.actor,
                                            signer_key_id=instance.key_id)
        except ConnectorError as exc:
            raise AuthError(f"cannot get the signing key {parsed.key_id}: {exc}") from None

    async def require_follower(self, r: ResolvedActor, reader: str | None, type_name: str | None = None) -> None:
        """Refuse unless ``reader`` (a verified signer) is an approved follower of ``r`` (and, with
        ``type_name``, was granted the scopes that records of that type need)."""
        if reader is None:
            raise AuthError("this actor holds personal data: sign the request (HTTP Signatures)")
        if urlsplit(reader).netloc.lower() == self.domain and (await self.resolve_url(reader)) is not None:
            return
        async with self.db.connect() as conn:
            row = (await conn.execute(select(federation_followers.c.id, federation_followers.c.scopes).where(
                federation_followers.c.actor_id == r.actor.id, federation_followers.c.follower == reader,
                federation_followers.c.state == "accepted"))).first()
        if row is None or (type_name is not None and not follower_may_read(row.scopes, type_name)):
            from hub.errors import Forbidden

            raise Forbidden("only followers approved by the tenant's administrators may read this actor")

    async def local_actor_rows(self, tenant_id: int) -> list[tuple[int, ActorName]]:
        async with self.db.connect() as conn:
            rows = (await conn.execute(select(federation_actors.c.id, federation_actors.c.username).where(
                federation_actors.c.tenant_id == tenant_id))).all()
        out = []
        for row in rows:
            name = parse_username(row.username)
            if name is not None:
                out.append((row.id, name))
        return out
