"""The JSON documents the hub serves: actors, WebFinger, NodeInfo 2.1 and collections."""

from __future__ import annotations

from typing import Any

from hub.federation._urls import INSTANCE_USERNAME, ActorName

__all__ = [
    "AS_CONTEXT",
    "CONTEXT",
    "NODEINFO_SCHEMA",
    "PUBLIC",
    "actor_document",
    "collection",
    "nodeinfo_document",
    "nodeinfo_links",
    "webfinger_document",
]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
#: the FediFlow terms: the canonical type of a catalogue object and its OneRoster 1.2 JSON
CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "fediflow": "https://fediflow.org/ns#",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "fediflowType": "fediflow:type",
        "oneRoster": {"@id": "fediflow:oneRoster", "@type": "@json"},
    },
]
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"

_TYPES = {"instance": "Application", "org": "Organization", "roster": "Group", "library": "Service",
          "course": "Group", "class": "Group"}


def _summary(name: ActorName, title: str) -> str:
    return {
        "instance": "The instance actor of this FediFlow hub; it signs the hub's fetches.",
        "org": f"Public catalogue of {title}: organisations, terms, courses and classes.",
        "roster": f"Rosters of {title}. Personal data: followers are approved by the district, "
                  "activities are addressed to them only.",
        "library": f"Library catalogue of {title}: new acquisitions and updates.",
        "course": f"Course {title}.",
        "class": f"Class {title}.",
    }[name.kind]


def actor_document(name: ActorName, url: str, base: str, public_key_pem: str, title: str) -> dict[str, Any]:
    """The actor document of a local actor (JSON-LD with the activitystreams and security contexts)."""
    return {
        "@context": CONTEXT,
        "id": url,
        "type": _TYPES[name.kind],
        "preferredUsername": name.username,
        "name": title,
        "summary": _summary(name, title),
        "inbox": f"{url}/inbox",
        "outbox": f"{url}/outbox",
        "followers": f"{url}/followers",
        "following": f"{url}/following",
        "url": url,
        "manuallyApprovesFollowers": not name.public,
        "discoverable": name.public,
        "indexable": name.public,
        "endpoints": {"sharedInbox": f"{base}/ap/inbox"},
        "publicKey": {"id": f"{url}#main-key", "owner": url, "publicKeyPem": public_key_pem},
    }


def webfinger_document(username: str, domain: str, actor_url: str) -> dict[str, Any]:
    """The JRD of ``acct:username@domain`` (``application/jrd+json``).

    Only the ``self`` link, which Mastodon and other servers follow to the actor document: the hub
    has no HTML profile page, so it announces none (a ``profile-page`` link must be ``text/html``).
    """
    return {
        "subject": f"acct:{username}@{domain}",
        "aliases": [actor_url],
        "links": [{"rel": "self", "type": "application/activity+json", "href": actor_url}],
    }


def nodeinfo_links(base: str) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": f"{base}/nodeinfo/2.1"}]}


def nodeinfo_document(version: str, tenants: int, local_posts: int) -> dict[str, Any]:
    """NodeInfo 2.1. ``users`` counts the hub's tenants (the accounts people follow), never pupils."""
    return {
        "version": "2.1",
        "software": {"name": "fediflow", "version": version,
                     "repository": "https://github.com/fediflow/fediflow", "homepage": "https://fediflow.org"},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {"users": {"total": tenants, "activeMonth": tenants, "activeHalfyear": tenants},
                  "localPosts": local_posts},
        "metadata": {"nodeName": "FediFlow hub", "instanceActor": INSTANCE_USERNAME},
    }


def collection(url: str, total: int, *, ordered: bool = True, first: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": AS_CONTEXT, "id": url,
                           "type": "OrderedCollection" if ordered else "Collection", "totalItems": total}
    if first:
        doc["first"] = first
    return doc
