"""The SCIM resources of one ``scim_push`` source, in the ``scim_resources`` table.

:class:`ScimRepository` is bound to one tenant, one source and that source's store key, and adds
all three to every query, so a caller holding it cannot touch another tenant's or source's
resources. :class:`PushedReader` is the read side the ``scim_push`` connector uses (by store key).
Database errors become :class:`~hub.errors.StoreError` (through ``Database.begin``); a duplicate
``userName`` becomes a SCIM 409 ``uniqueness``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from hub.scim._errors import ScimError
from hub.store import Database
from hub.store._tables import scim_resources

__all__ = ["PushedReader", "ScimRecord", "ScimRepository", "open_pushed_reader"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ScimRecord:
    resource_type: str
    resource_id: str
    external_id: str | None
    user_name: str | None
    document: Mapping[str, Any]
    version: int
    deleted: bool
    created_at: datetime
    updated_at: datetime


def _record(row: Any) -> ScimRecord:
    return ScimRecord(row.resource_type, row.resource_id, row.external_id, row.user_name, row.document,
                      row.version, row.deleted, row.created_at, row.updated_at)


def _unique_key(resource_type: str, user_name: str | None) -> str | None:
    return user_name.casefold() if resource_type == "User" and user_name else None


class ScimRepository:
    def __init__(self, db: Database, tenant_id: int, source_id: int, store_key: str) -> None:
        self.db = db
        self.tenant_id = tenant_id
        self.source_id = source_id
        self.store_key = store_key

    def _scope(self, resource_type: str) -> list[Any]:
        c = scim_resources.c
        return [c.tenant_id == self.tenant_id, c.source_id == self.source_id, c.resource_type == resource_type]

    async def rekey(self) -> None:
        """Give every row of this source the source's current store key (after its config was replaced)."""
        c = scim_resources.c
        async with self.db.begin() as conn:
            await conn.execute(
                update(scim_resources)
                .where(c.tenant_id == self.tenant_id, c.source_id == self.source_id, c.store_key != self.store_key)
                .values(store_key=self.store_key)
            )

    async def insert(self, resource_type: str, resource_id: str, document: Mapping[str, Any],
                     external_id: str | None, user_name: str | None) -> ScimRecord:
        now = _now()
        try:
            async with self.db.begin() as conn:
                await conn.execute(scim_resources.insert().values(
                    tenant_id=self.tenant_id, source_id=self.source_id, store_key=self.store_key,
                    resource_type=resource_type, resource_id=resource_id, external_id=external_id,
                    user_name=user_name, unique_key=_unique_key(resource_type, user_name),
                    document=dict(document), version=1, deleted=False, created_at=now, updated_at=now))
        except IntegrityError:
            raise ScimError(409, f"a {resource_type} with userName {user_name!r} already exists", "uniqueness") from None
        return ScimRecord(resource_type, resource_id, external_id, user_name, document, 1, False, now, now)

    async def get(self, resource_type: str, resource_id: str) -> ScimRecord | None:
        c = scim_resources.c
        async with self.db.connect() as conn:
            row = (await conn.execute(select(scim_resources).where(
                *self._scope(resource_type), c.resource_id == resource_id, c.deleted.is_(False)))).first()
        return _record(row) if row else None

    async def update(self, current: ScimRecord, document: Mapping[str, Any], external_id: str | None,
                     user_name: str | None) -> ScimRecord:
        """Write a new version of ``current``; 412 when someone else wrote it in between."""
        c = scim_resources.c
        now = _now()
        try:
            async with self.db.begin() as conn:
                result = await conn.execute(
                    update(scim_resources)
                    .where(*self._scope(current.resource_type), c.resource_id == current.resource_id,
                           c.version == current.version, c.deleted.is_(False))
                    .values(document=dict(document), external_id=external_id, user_name=user_name,
                            unique_key=_unique_key(current.resource_type, user_name), version=current.version + 1,
                            updated_at=now, store_key=self.store_key))
        except IntegrityError:
            raise ScimError(409, f"a {current.resource_type} with userName {user_name!r} already exists",
                            "uniqueness") from None
        if result.rowcount != 1:
            raise ScimError(412, f"{current.resource_type} {current.resource_id} was modified concurrently; "
                                 "read it again")
        return ScimRecord(current.resource_type, current.resource_id, external_id, user_name, document,
                          current.version + 1, False, current.created_at, now)

    async def delete(self, current: ScimRecord) -> None:
        c = scim_resources.c
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(scim_resources)
                .where(*self._scope(current.resource_type), c.resource_id == current.resource_id,
                       c.version == current.version, c.deleted.is_(False))
                .values(deleted=True, unique_key=None, version=current.version + 1, updated_at=_now()))
        if result.rowcount != 1:
            raise ScimError(412, f"{current.resource_type} {current.resource_id} was modified concurrently")

    async def find(self, resource_type: str, *, resource_id: str | None = None, external_id: str | None = None,
                   user_name: str | None = None, limit: int | None = None) -> list[ScimRecord]:
        """Live resources of a type, narrowed by the indexed columns given, in creation order."""
        c = scim_resources.c
        query = select(scim_resources).where(*self._scope(resource_type), c.deleted.is_(False))
        if resource_id is not None:
            query = query.where(c.resource_id == resource_id)
        if external_id is not None:
            query = query.where(c.external_id == external_id)
        if user_name is not None:
            column = c.unique_key if resource_type == "User" else func.lower(c.user_name)
            query = query.where(column == user_name.casefold())
        query = query.order_by(c.id)
        if limit is not None:
            query = query.limit(limit)
        async with self.db.connect() as conn:
            return [_record(r) for r in await conn.execute(query)]

    async def count(self, resource_type: str) -> int:
        async with self.db.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(scim_resources).where(
                *self._scope(resource_type), scim_resources.c.deleted.is_(False)))).scalar_one()


class PushedReader:
    """The live resources stored under one store key, streamed in creation order (the connector's read)."""

    def __init__(self, db: Database, store_key: str, *, chunk: int = 1000) -> None:
        self.db = db
        self.store_key = store_key
        self.chunk = chunk

    async def records(self, resource_type: str) -> AsyncIterator[ScimRecord]:
        c = scim_resources.c
        last = 0
        while True:
            query = (select(scim_resources)
                     .where(c.store_key == self.store_key, c.resource_type == resource_type,
                            c.deleted.is_(False), c.id > last)
                     .order_by(c.id).limit(self.chunk))
            async with self.db.connect() as conn:
                rows = (await conn.execute(query)).all()
            if not rows:
                return
            for row in rows:
                yield _record(row)
            last = rows[-1].id

    async def aclose(self) -> None:
        await self.db.dispose()

    async def counts(self) -> dict[str, int]:
        c = scim_resources.c
        """Live resources per type, and under ``"stored"`` every row of this key (deleted ones too)."""
        query = (select(c.resource_type, c.deleted, func.count()).where(c.store_key == self.store_key)
                 .group_by(c.resource_type, c.deleted))
        found: dict[str, int] = {"stored": 0}
        async with self.db.connect() as conn:
            for resource_type, deleted, count in await conn.execute(query):
                found["stored"] += count
                if not deleted:
                    found[resource_type] = found.get(resource_type, 0) + count
        return found


async def open_pushed_reader(store_key: str) -> PushedReader:
    """A reader on the hub's database as the settings (environment) name it; ``aclose`` disposes it."""
    from hub.settings import load_settings

    settings = load_settings()
    return PushedReader(Database(settings.database_url), store_key)
