"""Remote fetches: an SSRF guard, signed GETs of ActivityStreams documents, the remote actor cache.

Every remote request (fetch, WebFinger or delivery) goes through the hub's one SSRF guard
(:mod:`hub.netguard`): only http(s), and no private, loopback, link-local, multicast or reserved
address (nor an IPv6 form embedding one) unless its host, address or network is in
``settings.federation.allow_private``. The clients of :meth:`Fetcher.client` resolve each host once
and connect to the checked address (no DNS rebinding between check and connect); :func:`check_url`
is the same check for a URL before it is used. Redirects are not followed. A fetched document must be
served with an ActivityStreams content type (``application/activity+json``, or
``application/ld+json`` with the activitystreams profile) and its ``id`` must equal the URL
fetched (Mastodon's 2024 advisories: no documents from another origin, no content-type confusion).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urldefrag, urlsplit

import httpx
from sqlalchemy import delete, select

from hub.errors import ConnectorError
from hub.federation._keys import LocalActor
from hub.federation._signatures import sign_request
from hub.netguard import AddressRefused, GuardedTransport, NetGuard, Resolver, Unresolvable
from hub.settings import FederationSettings
from hub.store import Database
from hub.store._tables import federation_remote_actors

__all__ = ["AS_MEDIA_TYPES", "ACCEPT", "Fetcher", "RemoteActor", "check_url", "guard_for", "is_activitystreams"]

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AS_MEDIA_TYPES = ("application/activity+json", "application/ld+json")
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})


def is_activitystreams(content_type: str | None) -> bool:
    """True for ``application/activity+json`` and ``application/ld+json; profile=".../activitystreams"``."""
    if not content_type:
        return False
    media, *params = [p.strip() for p in content_type.split(";")]
    media = media.lower()
    if media == "application/activity+json":
        return True
    if media == "application/ld+json":
        return any(p.lower().startswith("profile=") and "https://www.w3.org/ns/activitystreams" in p for p in params)
    return False


def guard_for(settings: FederationSettings, resolver: Resolver | None = None) -> NetGuard:
    """The SSRF guard of federation requests (``federation.allow_private`` allowed)."""
    return NetGuard(settings.allow_private, setting="federation.allow_private", resolver=resolver)


def _refusal(url: str, exc: Exception) -> ConnectorError:
    if isinstance(exc, Unresolvable):
        return ConnectorError(f"cannot reach {url!r}: {exc}", retryable=True)
    return ConnectorError(f"refusing {url!r}: {exc}")


async def check_url(url: str, allow: Sequence[str]) -> None:
    """Refuse URLs that are not http(s) or that resolve to a non-public address (unless allowed)."""
    try:
        await NetGuard(allow, setting="federation.allow_private").resolve(url)
    except (AddressRefused, Unresolvable) as exc:
        raise _refusal(url, exc) from None


class _FederationTransport(GuardedTransport):
    """The pinning transport, refusals translated to ConnectorError (the federation's error)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except AddressRefused as exc:
            raise _refusal(str(request.url), exc) from None


@dataclass(frozen=True, slots=True)
class RemoteActor:
    actor: str
    key_id: str
    public_key_pem: str
    inbox: str
    shared_inbox: str | None


class Fetcher:
    """Guarded, optionally signed fetches of ActivityStreams documents, and the remote actor cache."""

    def __init__(self, db: Database, settings: FederationSettings, user_agent: str, *,
                 resolver: Resolver | None = None) -> None:
        self.db = db
        self.settings = settings
        self.user_agent = user_agent
        self.guard = guard_for(settings, resolver)

    def client(self) -> httpx.AsyncClient:
        """A client whose every request goes through the SSRF guard, pinned to the checked address.

        A refused address raises :class:`~hub.errors.ConnectorError` from the request itself.
        """
        return httpx.AsyncClient(timeout=self.settings.fetch_timeout_seconds, follow_redirects=False,
                                 trust_env=False, headers={"User-Agent": self.user_agent},
                                 transport=_FederationTransport(self.guard))

    async def fetch(self, url: str, *, signer: LocalActor | None = None, key_id: str | None = None) -> dict[str, Any]:
        """GET ``url`` (signed by ``signer`` when given) and return the ActivityStreams document."""
        url = urldefrag(url)[0]
        headers = {"Accept": ACCEPT}
        if signer is not None and key_id is not None:
            headers.update(sign_request("GET", url, None, key_id=key_id, private_key_pem=signer.private_key_pem()))
        try:
            async with self.client() as client, client.stream("GET", url, headers=headers) as resp:
                if resp.status_code != 200:
                    raise ConnectorError(f"GET {url} answered {resp.status_code}", status=resp.status_code,
                                         retryable=resp.status_code >= 500 or resp.status_code == 429)
                if not is_activitystreams(resp.headers.get("content-type")):
                    raise ConnectorError(f"GET {url} is not an ActivityStreams document "
                                         f"(content type {resp.headers.get('content-type')!r})")
                body = b""
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) > self.settings.fetch_max_bytes:
                        raise ConnectorError(f"GET {url}: the document is larger than {self.settings.fetch_max_bytes} bytes")
        except httpx.HTTPError as exc:
            raise ConnectorError(f"GET {url} failed: {type(exc).__name__}", retryable=True) from None
        try:
            doc = json.loads(body)
        except ValueError:
            raise ConnectorError(f"GET {url}: the body is not JSON") from None
        if not isinstance(doc, dict) or doc.get("id") != url:
            raise ConnectorError(f"GET {url}: the document's id differs from the URL fetched")
        return doc

    # --- remote actors and their keys ---------------------------------------------------------

    async def _cached(self, actor: str) -> tuple[RemoteActor, datetime] | None:
        async with self.db.connect() as conn:
            row = (await conn.execute(select(federation_remote_actors).where(
                federation_remote_actors.c.actor == actor))).first()
        if row is None:
            return None
        return RemoteActor(row.actor, row.key_id, row.public_key_pem, row.inbox, row.shared_inbox), row.fetched_at

    async def actor(self, actor: str, *, refresh: bool = False, signer: LocalActor | None = None,
                    signer_key_id: str | None = None) -> RemoteActor:
        """The remote actor ``actor`` (from the cache unless stale or ``refresh``)."""
        actor = urldefrag(actor)[0]
        if not refresh:
            cached = await self._cached(actor)
            if cached and datetime.now(UTC) - cached[1] < timedelta(seconds=self.settings.key_cache_seconds):
                return cached[0]
        doc = await self.fetch(actor, signer=signer, key_id=signer_key_id)
        remote = parse_actor(doc)
        now = datetime.now(UTC)
        async with self.db.begin() as conn:
            await conn.execute(delete(federation_remote_actors).where(federation_remote_actors.c.actor == actor))
            await conn.execute(federation_remote_actors.insert().values(
                actor=remote.actor, key_id=remote.key_id, public_key_pem=remote.public_key_pem, inbox=remote.inbox,
                shared_inbox=remote.shared_inbox, fetched_at=now))
        return remote


def parse_actor(doc: dict[str, Any]) -> RemoteActor:
    """Check a fetched actor document (type, key owned by the actor, same origin) and pick its parts."""
    actor = doc.get("id")
    types = doc.get("type")
    types = set(types) if isinstance(types, list) else {types}
    if not isinstance(actor, str) or not types & ACTOR_TYPES:
        raise ConnectorError("the document is not an actor")
    key = doc.get("publicKey")
    if isinstance(key, list):
        key = key[0] if key else None
    if not isinstance(key, dict) or not isinstance(key.get("id"), str) or not isinstance(key.get("publicKeyPem"), str):
        raise ConnectorError(f"actor {actor} has no publicKey")
    if key.get("owner") != actor:
        raise ConnectorError(f"the key of actor {actor} is not owned by it")
    if urlsplit(key["id"]).netloc.lower() != urlsplit(actor).netloc.lower():
        raise ConnectorError(f"the key of actor {actor} is on another origin")
    inbox = doc.get("inbox")
    if not isinstance(inbox, str):
        raise ConnectorError(f"actor {actor} has no inbox")
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    shared = endpoints.get("sharedInbox") if isinstance(endpoints.get("sharedInbox"), str) else None
    return RemoteActor(actor, key["id"], key["publicKeyPem"], inbox, shared)
