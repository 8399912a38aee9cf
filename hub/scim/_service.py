"""The SCIM protocol (RFC 7644 §3) over a :class:`~hub.scim._repository.ScimRepository`, framework-free.

Every method takes and returns plain JSON-able dicts; errors are :class:`ScimError`. Documents
returned carry ``id`` and ``meta`` (``resourceType``, ``created``, ``lastModified``, ``location``,
``version`` = the weak ETag ``W/"<n>"``).

Filtering: the filter is parsed (:mod:`hub.scim._filter`); a top-level ``eq`` on ``id``,
``externalId`` or ``userName`` (``displayName`` for Groups), alone or in an ``and``, narrows the
rows in SQL through indexed columns; everything else is evaluated in Python over the source's
live resources of that type (fine up to some tens of thousands per source). Results are in
creation order unless ``sortBy`` asks for another (then sorted in Python, as filters are);
``startIndex`` is 1-based, ``count`` at most :data:`MAX_RESULTS`. The root search
(:meth:`ScimService.search`) runs the query over Users and Groups together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from hub.scim._errors import ScimError
from hub.scim._filter import And, Compare, Filter, matches, parse_filter
from hub.scim._patch import apply_patch
from hub.scim._repository import ScimRecord, ScimRepository
from hub.scim._resources import KINDS, LIST_SCHEMA, MAX_RESULTS, ResourceKind, validate_document
from hub.scim._search import ListQuery, sort_key

__all__ = ["ScimService", "etag_of", "if_match_ok", "project", "render"]

#: RFC 7644 endpoints this server does not implement: 501, not 404 (§3.12)
_NOT_IMPLEMENTED = frozenset({"Bulk", "Me"})


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def etag_of(version: int) -> str:
    return f'W/"{version}"'


def render(record: ScimRecord, base_url: str | None = None) -> dict[str, Any]:
    """The full SCIM document of ``record``: the stored attributes plus ``id`` and ``meta``."""
    stored = dict(record.document)
    kind = KINDS["Users" if record.resource_type == "User" else "Groups"]
    document: dict[str, Any] = {"schemas": stored.pop("schemas", [kind.schema]), "id": record.resource_id}
    document.update(stored)
    meta: dict[str, Any] = {
        "resourceType": record.resource_type,
        "created": _iso(record.created_at),
        "lastModified": _iso(record.updated_at),
        "version": etag_of(record.version),
    }
    if base_url is not None:
        meta["location"] = f"{base_url}/{kind.endpoint}/{record.resource_id}"
    document["meta"] = meta
    return document


def if_match_ok(header: str | None, version: int) -> bool:
    """Whether an ``If-Match`` header (absent, ``*``, or a list of entity tags) allows writing ``version``.

    Weak comparison (RFC 9110 §8.8.3.2): ``W/"3"`` and ``"3"`` both match version 3.
    """
    if header is None or header.strip() == "*":
        return True
    wanted = str(version)
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag.strip('"') == wanted:
            return True
    return False


def _sql_hints(flt: Filter, kind: ResourceKind) -> dict[str, str]:
    """Indexed-column equalities implied by ``flt`` (a top-level eq, or eqs joined by and)."""
    hints: dict[str, str] = {}
    parts: list[Filter] = []
    stack = [flt]
    while stack:
        node = stack.pop()
        if isinstance(node, And):
            stack += [node.left, node.right]
        else:
            parts.append(node)
    columns = {"id": "resource_id", "externalid": "external_id",
               ("username" if kind.name == "User" else "displayname"): "user_name"}
    for node in parts:
        if (isinstance(node, Compare) and node.op == "eq" and isinstance(node.value, str)
                and node.path.sub is None and (node.path.urn is None or node.path.urn.lower() == kind.schema.lower())):
            column = columns.get(node.path.attr.lower())
            if column and column not in hints:
                hints[column] = node.value
    return hints


def _names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


def project(document: dict[str, Any], attributes: str | None, excluded: str | None) -> dict[str, Any]:
    """Apply ``attributes`` / ``excludedAttributes`` (top-level names or ``urn:...:name``; RFC 7644 §3.9)."""
    keep = {n.lower() for n in _names(attributes)}
    drop = {n.lower() for n in _names(excluded)}
    if not keep and not drop:
        return document
    always = {"id", "schemas", "meta"}
    out: dict[str, Any] = {}
    for key, value in document.items():
        lowered = key.lower()
        if keep and lowered not in always and lowered not in keep and not any(k.startswith(lowered + ":") for k in keep):
            continue
        if lowered in drop and lowered not in always:
            continue
        if isinstance(value, dict) and lowered.startswith("urn:"):
            inner = {k: v for k, v in value.items()
                     if f"{lowered}:{k.lower()}" not in drop
                     and (not keep or lowered in keep or f"{lowered}:{k.lower()}" in keep)}
            if inner:
                out[key] = inner
            continue
        out[key] = value
    return out


class ScimService:
    """The SCIM operations on one source; ``base_url`` is the SCIM root of that source (no trailing slash)."""

    def __init__(self, repository: ScimRepository, base_url: str) -> None:
        self.repo = repository
        self.base_url = base_url.rstrip("/")

    @staticmethod
    def kind(endpoint: str) -> ResourceKind:
        try:
            return KINDS[endpoint]
        except KeyError:
            if endpoint in _NOT_IMPLEMENTED:
                raise ScimError(501, f"/{endpoint} is not supported by this server (see ServiceProviderConfig)") from None
            raise ScimError(404, f"no resource type at /{endpoint}") from None

    def _identity(self, kind: ResourceKind, document: Mapping[str, Any]) -> tuple[str | None, str | None]:
        external = document.get("externalId")
        name = document.get("userName") if kind.name == "User" else document.get("displayName")
        return (str(external) if external is not None else None), (str(name) if name is not None else None)

    async def _current(self, kind: ResourceKind, resource_id: str) -> ScimRecord:
        record = await self.repo.get(kind.name, resource_id)
        if record is None:
            raise ScimError(404, f"{kind.name} {resource_id} not found")
        return record

    @staticmethod
    def _precondition(record: ScimRecord, if_match: str | None) -> None:
        if not if_match_ok(if_match, record.version):
            raise ScimError(412, f"{record.resource_type} {record.resource_id} is at version "
                                 f"{etag_of(record.version)}, not {if_match}")

    # --- operations ---------------------------------------------------------------------------

    async def create(self, endpoint: str, body: Any) -> dict[str, Any]:
        kind = self.kind(endpoint)
        document = validate_document(kind, body, base_url=self.base_url)
        external_id, user_name = self._identity(kind, document)
        if kind.name == "User" and user_name and await self.repo.find(kind.name, user_name=user_name, limit=1):
            raise ScimError(409, f"a User with userName {user_name!r} already exists", "uniqueness")
        record = await self.repo.insert(kind.name, str(uuid.uuid4()), document, external_id, user_name)
        return render(record, self.base_url)

    async def get(self, endpoint: str, resource_id: str) -> dict[str, Any]:
        return render(await self._current(self.kind(endpoint), resource_id), self.base_url)

    async def replace(self, endpoint: str, resource_id: str, body: Any, if_match: str | None) -> dict[str, Any]:
        kind = self.kind(endpoint)
        current = await self._current(kind, resource_id)
        self._precondition(current, if_match)
        if isinstance(body, Mapping) and body.get("id") not in (None, resource_id):
            raise ScimError(400, "id is immutable and does not match the URL", "mutability")
        document = validate_document(kind, body, base_url=self.base_url)
        return await self._write(kind, current, document)

    async def patch(self, endpoint: str, resource_id: str, body: Any, if_match: str | None) -> dict[str, Any]:
        kind = self.kind(endpoint)
        current = await self._current(kind, resource_id)
        self._precondition(current, if_match)
        patched = apply_patch(current.document, body, kind.schema)
        document = validate_document(kind, patched, base_url=self.base_url)
        if document == dict(current.document):
            return render(current, self.base_url)  # nothing changed: same version, no sync
        return await self._write(kind, current, document)

    async def _write(self, kind: ResourceKind, current: ScimRecord, document: dict[str, Any]) -> dict[str, Any]:
        external_id, user_name = self._identity(kind, document)
        if (kind.name == "User" and user_name and current.user_name
                and user_name.casefold() != current.user_name.casefold()
                and await self.repo.find(kind.name, user_name=user_name, limit=1)):
            raise ScimError(409, f"a User with userName {user_name!r} already exists", "uniqueness")
        return render(await self.repo.update(current, document, external_id, user_name), self.base_url)

    async def delete(self, endpoint: str, resource_id: str, if_match: str | None) -> None:
        kind = self.kind(endpoint)
        current = await self._current(kind, resource_id)
        self._precondition(current, if_match)
        await self.repo.delete(current)

    async def _matching(self, kind: ResourceKind, flt: Filter | None) -> list[dict[str, Any]]:
        """Every live resource of ``kind`` matching ``flt`` (all of them without one), rendered."""
        rows: Iterable[ScimRecord] = await self.repo.find(kind.name, **(_sql_hints(flt, kind) if flt else {}))
        documents = (render(r, self.base_url) for r in rows)
        return [doc for doc in documents if flt is None or matches(flt, doc, kind.schema)]

    async def query(self, endpoint: str, query: ListQuery) -> dict[str, Any]:
        """A ListResponse (RFC 7644 §3.4.2) of the live resources of one type matching ``query``."""
        return await self._list([self.kind(endpoint)], query)

    async def search(self, query: ListQuery) -> dict[str, Any]:
        """The root ``/.search`` (RFC 7644 §3.4.3): the query over every resource type, Users first."""
        return await self._list(list(KINDS.values()), query)

    async def _list(self, kinds: list[ResourceKind], query: ListQuery) -> dict[str, Any]:
        start = max(1, query.start_index or 1)
        size = MAX_RESULTS if query.count is None else max(0, min(query.count, MAX_RESULTS))
        flt = parse_filter(query.filter) if query.filter is not None and query.filter.strip() else None
        sort_path = query.sort_path()
        if flt is None and sort_path is None and len(kinds) == 1:  # paged in SQL, in creation order
            kind = kinds[0]
            total = await self.repo.count(kind.name)
            records = await self.repo.find(kind.name, limit=start - 1 + size) if size else []
            page = [render(r, self.base_url) for r in records[start - 1 :]]
        else:
            found = [(doc, kind.schema) for kind in kinds for doc in await self._matching(kind, flt)]
            if sort_path is not None:
                found.sort(key=sort_key(sort_path, query.descending), reverse=query.descending)
            total = len(found)
            page = [doc for doc, _core in found[start - 1 : start - 1 + size]]
        return {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": [project(doc, query.attributes, query.excluded) for doc in page],
        }
