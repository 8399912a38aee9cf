"""Local actor names and URLs.

Every local actor has a ``preferredUsername`` unique on this host and lives at
``<base>/ap/actors/<username>``::

    fediflow.instance        Application   the instance actor (signs fetches)
    <tenant>                 Organization  the tenant's public catalogue (orgs, sessions, courses, classes)
    <tenant>.library         Service       the tenant's library catalogue (LibraryItem)
    <tenant>.course.<ref>    Group         one course (and its classes)
    <tenant>.class.<ref>     Group         one class
    <tenant>.roster          Group         personal data (users, enrollments, demographics):
                                           approved followers only, signed fetches required

Tenant slugs never contain a dot, so the names cannot collide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from hub.settings import Settings

__all__ = ["ActorName", "INSTANCE_USERNAME", "PUBLIC_KINDS", "base_url", "host_of", "parse_username"]

INSTANCE_USERNAME = "fediflow.instance"
#: kinds whose followers are accepted at once; every other kind waits for a tenant admin
PUBLIC_KINDS = frozenset({"instance", "org", "library", "course", "class"})
_REF = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def base_url(settings: Settings) -> str:
    """The public base URL of this hub (``settings.api.public_url``, else ``http://host:port``)."""
    if settings.api.public_url:
        return settings.api.public_url.rstrip("/")
    return f"http://{settings.api.host}:{settings.api.port}"


def host_of(url: str) -> str:
    """``host[:port]`` of ``url``, lowercased (the WebFinger domain and the same-origin key)."""
    return urlsplit(url).netloc.lower()


@dataclass(frozen=True, slots=True)
class ActorName:
    """A parsed local username: its kind, tenant slug (None for the instance actor) and ref."""

    kind: str
    tenant: str | None = None
    ref: str | None = None

    @property
    def username(self) -> str:
        if self.kind == "instance":
            return INSTANCE_USERNAME
        if self.kind == "org":
            return str(self.tenant)
        if self.kind in ("course", "class"):
            return f"{self.tenant}.{self.kind}.{self.ref}"
        return f"{self.tenant}.{self.kind}"

    @property
    def public(self) -> bool:
        return self.kind in PUBLIC_KINDS

    def url(self, base: str) -> str:
        return f"{base}/ap/actors/{quote(self.username, safe='.-_')}"


def parse_username(username: str) -> ActorName | None:
    """The actor a username names, or None when it is not a well-formed local username."""
    if username == INSTANCE_USERNAME:
        return ActorName("instance")
    parts = username.split(".", 2)
    if not _SLUG.match(parts[0]):
        return None
    if len(parts) == 1:
        return ActorName("org", parts[0])
    if len(parts) == 2 and parts[1] in ("roster", "library"):
        return ActorName(parts[1], parts[0])
    if len(parts) == 3 and parts[1] in ("course", "class") and _REF.match(parts[2]):
        return ActorName(parts[1], parts[0], parts[2])
    return None
