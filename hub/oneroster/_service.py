"""The query service: one tenant's OneRoster reads, from parameters to rendered records.

Framework-free: the API layer turns a request into :class:`ListParams` and calls
:class:`RosterQuery`; filtering, sorting, counting and paging all run in SQL, and only the
requested page is loaded. Every query is scoped by the tenant id of the TenantStore given.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from hub.oneroster._catalogue import RELATIONS, RESOURCES, Relation, Resource, entities
from hub.oneroster._compile import compile_filter, sort_key
from hub.oneroster._errors import InvalidData, InvalidSort, UnknownObject
from hub.oneroster._filter import parse_filter
from hub.oneroster._json import JsonDialect
from hub.oneroster._references import REFERENCE_MODES, ReferencesMode, emit_records, kept_condition
from hub.oneroster._render import parse_fields, render_record

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ListParams", "Page", "RosterQuery"]

_INTEGER = re.compile(r"^-?[0-9]{1,30}$")
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
#: the largest offset (beyond, the databases' OFFSET overflows)
MAX_OFFSET = 2**31 - 1


class _TenantLike(Protocol):
    tenant_id: int
    db: Any

    async def last_seq(self) -> int: ...


class _CountCache:
    """Totals (X-Total-Count) of recent queries, valid while the tenant's change sequence is unchanged.

    Every write to a tenant's entities appends to its change log and bumps ``tenants.change_seq`` in
    the same transaction, so (database, tenant, change_seq, SQL, parameters) identifies a total
    exactly; reading change_seq is one primary-key lookup, where a COUNT over 100k rows is a scan.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.items: OrderedDict[Hashable, int] = OrderedDict()

    def get(self, key: Hashable) -> int | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: int) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


_counts = _CountCache()


@dataclass(frozen=True)
class ListParams:
    """The collection query parameters of OneRoster: paging, sort/orderBy, filter and fields."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: str | None = None
    order_by: str = "asc"
    filter: str | None = None
    fields: str | None = None
    #: "valid": no record points at a missing or tobedeleted object (hub.oneroster._references);
    #: "all": records as stored
    references: ReferencesMode = "valid"

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, max_limit: int = MAX_LIMIT) -> ListParams:
        """Validate raw query parameters (strings); malformed ones (empty ``limit``, ``offset`` or
        ``orderBy`` included) raise InvalidData, a blank ``sort`` InvalidSort. ``limit`` is clamped
        to ``max_limit``."""

        def integer(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
            raw = query.get(name)
            if raw is None:
                return default
            if not _INTEGER.match(raw):
                raise InvalidData(f"{name} must be an integer, not {raw!r}")
            value = int(raw)
            if value < minimum:
                raise InvalidData(f"{name} must be at least {minimum}")
            if maximum is not None and value > maximum:
                raise InvalidData(f"{name} must be at most {maximum}")
            return value

        order = query.get("orderBy", "asc").lower()
        if order not in ("asc", "desc"):
            raise InvalidData("orderBy must be 'asc' or 'desc'")
        sort = query.get("sort")
        if sort is not None and not sort.strip():
            raise InvalidSort("blank sort field")
        references = parse_references(query.get("references"))
        return cls(
            limit=min(integer("limit", DEFAULT_LIMIT, 1), max_limit),
            offset=integer("offset", 0, 0, MAX_OFFSET),
            sort=sort,
            order_by=order,
            filter=query.get("filter") or None,
            fields=query.get("fields") if query.get("fields") is not None else None,
            references=references,
        )


@dataclass(frozen=True)
class Page:
    total: int
    records: list[dict[str, Any]]
    limit: int
    offset: int


_COLUMNS = (entities.c.stable_id, entities.c.status, entities.c.updated_at, entities.c.data)
#: collections list one record per group of linked records (hub.identity): the one its precedence
#: shows; the others stay reachable by their own sourcedId
_SHOWN = entities.c.linked_to.is_(None)


class RosterQuery:
    """OneRoster reads of one tenant. ``base_url`` is the service root used in every ``href``."""

    def __init__(self, tenant: _TenantLike, base_url: str = "") -> None:
        self.tenant = tenant
        self.tenant_id = tenant.tenant_id
        self.db = tenant.db
        self.base_url = base_url.rstrip("/")
        self.json = JsonDialect(getattr(self.db, "dialect", "sqlite"))

    def _scope(self, resource: Resource) -> list[ColumnElement[bool]]:
        return [entities.c.tenant_id == self.tenant_id, *resource.where(self.json)]

    async def get(self, path: str, sourced_id: str, fields: str | None = None,
                  references: ReferencesMode = "valid") -> dict[str, Any]:
        """One record of collection ``path``; UnknownObject when it does not exist in this tenant (or,
        unless ``references="all"``, when a required reference of it dangles)."""
        resource = RESOURCES[path]
        selected = parse_fields(fields, resource.fields)
        query = select(*_COLUMNS).where(*self._scope(resource), entities.c.stable_id == sourced_id)
        async with self.db.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise UnknownObject(f"no {resource.singular} with sourcedId {sourced_id!r}")
        (data,) = await emit_records(self.tenant, resource.type, [row.data], statuses=[row.status],
                                     references=references)
        if data is None:
            raise UnknownObject(f"{resource.singular} {sourced_id!r} refers to an object that is not there "
                                "(references=all shows it)")
        return render_record(row.stable_id, row.status, row.updated_at, data, self.base_url, selected,
                             type_name=resource.type, fields=resource.fields)

    async def list(self, path: str, params: ListParams) -> Page:
        """A page of collection ``path``."""
        resource = RESOURCES[path]
        return await self._page(resource, [*self._scope(resource), _SHOWN], params)

    async def list_related(self, relation: Relation, ids: Sequence[str], params: ListParams) -> Page:
        """A page of a nested collection; UnknownObject when a parent does not exist."""
        await self._check_parents(relation, ids, params.references)
        resource = relation.resource
        conds = [*self._scope(resource), _SHOWN, relation.condition(self.json, entities, ids, self.tenant_id)]
        return await self._page(resource, conds, params)

    async def _check_parents(self, relation: Relation, ids: Sequence[str], references: ReferencesMode) -> None:
        """UnknownObject unless every parent exists (and, with ``references="valid"``, is shown)."""
        async with self.db.connect() as conn:
            for index, ((res_path, _), sourced_id) in enumerate(zip(relation.parents, ids, strict=True)):
                parent = RESOURCES[res_path]
                conds = [*self._scope(parent), entities.c.stable_id == sourced_id]
                kept = kept_condition(self.json, entities, parent.type) if references == "valid" else None
                if kept is not None:
                    conds.append(kept)
                if index == len(ids) - 1 and index > 0 and relation.parent_link is not None:
                    conds.append(relation.parent_link(self.json, entities, ids, self.tenant_id))
                found = (await conn.execute(select(entities.c.id).where(*conds).limit(1))).first()
                if found is None:
                    raise UnknownObject(f"no {parent.singular} with sourcedId {sourced_id!r}")

    async def _page(self, resource: Resource, conds: list[ColumnElement[bool]], params: ListParams) -> Page:
        fields = resource.fields
        dialect = "postgresql" if self.json.pg else "sqlite"
        selected = parse_fields(params.fields, fields)
        kept = kept_condition(self.json, entities, resource.type) if params.references == "valid" else None
        if kept is not None:
            conds = [*conds, kept]
        if params.filter is not None:
            conds = [*conds, compile_filter(parse_filter(params.filter), entities, fields, dialect)]
        if params.sort:
            key = sort_key(params.sort, entities, fields, dialect)
            if params.order_by == "desc":
                order = [key.desc().nulls_last(), entities.c.id.desc()]
            else:
                order = [key.asc().nulls_last(), entities.c.id.asc()]
        else:
            order = [entities.c.id.desc() if params.order_by == "desc" else entities.c.id.asc()]
        count = select(func.count()).select_from(entities).where(*conds)
        page = select(*_COLUMNS).where(*conds).order_by(*order).limit(params.limit).offset(params.offset)
        # the change sequence is read first, on its own connection: never two connections at once
        seq = await self.tenant.last_seq() if hasattr(self.tenant, "last_seq") else None
        async with self.db.connect() as conn:
            total = await self._count(conn, count, seq)
            rows = (await conn.execute(page)).all() if params.offset < total else []
        shown = await emit_records(self.tenant, resource.type, [r.data for r in rows],
                                   statuses=[r.status for r in rows], references=params.references)
        records = [
            render_record(r.stable_id, r.status, r.updated_at, data, self.base_url, selected,
                          type_name=resource.type, fields=fields)
            for r, data in zip(rows, shown, strict=True) if data is not None
        ]
        return Page(total, records, params.limit, params.offset)


    async def _count(self, conn: Any, count: Any, seq: int | None) -> int:
        if seq is None:
            return int((await conn.execute(count)).scalar_one())
        compiled = count.compile(dialect=conn.dialect)
        key = (str(self.db.url), self.tenant_id, seq, str(compiled),
               tuple(sorted((k, repr(v)) for k, v in compiled.params.items())))
        total = _counts.get(key)
        if total is None:
            total = int((await conn.execute(count)).scalar_one())
            _counts.put(key, total)
        return total


def parse_references(raw: str | None) -> ReferencesMode:
    """The ``references`` query parameter: "valid" (default) or "all"; anything else is InvalidData."""
    if raw is None or raw == "":
        return "valid"
    if raw not in REFERENCE_MODES:
        raise InvalidData(f"references must be one of {', '.join(REFERENCE_MODES)}, not {raw!r}")
    return "all" if raw == "all" else "valid"


def find_relation(parents: Sequence[str], segment: str) -> Relation | None:
    """The nested collection with these parent collections and last segment, if any."""
    for relation in RELATIONS:
        if tuple(p for p, _ in relation.parents) == tuple(parents) and relation.segment == segment:
            return relation
    return None
