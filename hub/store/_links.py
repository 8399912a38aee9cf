"""Cross-source links between entities of one tenant (``entities.linked_to``), as a repository
built from a :class:`~hub.store.TenantStore`: every query it runs carries that tenant's id.

The grouping itself (which records are the same person) is decided by :mod:`hub.identity`; this
module only reads what grouping needs and writes its outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, select, update

from hub.store._tables import entities, sources

if TYPE_CHECKING:
    from hub.store._store import TenantStore

__all__ = ["EntityLinks", "LinkCandidate", "LinkedRecord"]

_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class LinkCandidate:
    """An active entity with the values of the fields its type is matched on (None when empty)."""

    id: int
    source_id: int | None
    linked_to: int | None
    keys: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class LinkedRecord:
    """A record of a link group, as the API shows it."""

    type: str
    sourcedId: str
    source: str | None
    primary: bool


class EntityLinks:
    """Reads and writes ``linked_to`` for one tenant."""

    def __init__(self, tenant: TenantStore) -> None:
        self._db = tenant.db
        self._tenant_id = tenant.tenant_id

    async def sources_with(self, type_: str) -> int:
        """How many sources hold active entities of ``type_``."""
        async with self._db.connect() as conn:
            return (await conn.execute(
                select(func.count(func.distinct(entities.c.source_id))).where(
                    entities.c.tenant_id == self._tenant_id, entities.c.type == type_,
                    entities.c.status == "active", entities.c.source_id.is_not(None))
            )).scalar_one()

    async def candidates(self, type_: str, fields: Sequence[str]) -> list[LinkCandidate]:
        """Every active entity of ``type_`` with its match fields, and every currently linked one."""
        columns = [entities.c.data[name].as_string() for name in fields]
        query = select(entities.c.id, entities.c.source_id, entities.c.linked_to, entities.c.status, *columns).where(
            entities.c.tenant_id == self._tenant_id, entities.c.type == type_)
        found: list[LinkCandidate] = []
        async with self._db.connect() as conn:
            for row in await conn.execute(query):
                keys = tuple(value.strip().casefold() or None if isinstance(value, str) else None for value in row[4:])
                if row.status != "active":
                    keys = (None,) * len(fields)  # a record marked for deletion links nothing
                if row.linked_to is not None or any(keys):
                    found.append(LinkCandidate(row.id, row.source_id, row.linked_to, keys))
        return found

    async def set_links(self, type_: str, links: Mapping[int, int | None]) -> None:
        """Set ``linked_to`` of the given entity ids (of ``type_``)."""
        items = [{"eid": entity_id, "target": target} for entity_id, target in links.items()]
        statement = update(entities).where(
            entities.c.tenant_id == self._tenant_id, entities.c.type == type_, entities.c.id == bindparam("eid")
        ).values(linked_to=bindparam("target"))
        for start in range(0, len(items), _CHUNK):
            async with self._db.begin() as conn:
                await conn.execute(statement, items[start : start + _CHUNK])

    async def group_of(self, type_: str, stable_id: str) -> list[LinkedRecord]:
        """The records linked with ``stable_id`` (itself included), the shown one first; [] when unlinked."""
        async with self._db.connect() as conn:
            row = (await conn.execute(select(entities.c.id, entities.c.linked_to).where(
                entities.c.tenant_id == self._tenant_id, entities.c.type == type_,
                entities.c.stable_id == stable_id))).first()
            if row is None:
                return []
            primary = row.linked_to or row.id
            rows = (await conn.execute(
                select(entities.c.id, entities.c.stable_id, sources.c.name)
                .select_from(entities.outerjoin(sources, sources.c.id == entities.c.source_id))
                .where(entities.c.tenant_id == self._tenant_id, entities.c.type == type_,
                       (entities.c.id == primary) | (entities.c.linked_to == primary))
                .order_by(entities.c.id)
            )).all()
        if len(rows) < 2:
            return []
        records = [LinkedRecord(type_, r.stable_id, r.name, r.id == primary) for r in rows]
        return sorted(records, key=lambda record: not record.primary)

    async def primaries(self, type_: str, stable_ids: Iterable[str]) -> dict[str, str]:
        """For each of ``stable_ids`` that is linked to another record: that record's sourcedId."""
        wanted = list(dict.fromkeys(stable_ids))
        shown = entities.alias("shown")
        found: dict[str, str] = {}
        async with self._db.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                rows = await conn.execute(
                    select(entities.c.stable_id, shown.c.stable_id)
                    .join(shown, shown.c.id == entities.c.linked_to)
                    .where(entities.c.tenant_id == self._tenant_id, entities.c.type == type_,
                           entities.c.stable_id.in_(wanted[start : start + _CHUNK]),
                           shown.c.tenant_id == self._tenant_id)
                )
                found.update({own: primary for own, primary in rows})
        return found

    async def has_links(self, type_: str | None = None) -> bool:
        """Whether the tenant has any linked entity (of ``type_``): renderers skip the rewrite when not."""
        query = select(entities.c.id).where(entities.c.tenant_id == self._tenant_id, entities.c.linked_to.is_not(None))
        if type_ is not None:
            query = query.where(entities.c.type == type_)
        async with self._db.connect() as conn:
            return (await conn.execute(query.limit(1))).first() is not None
