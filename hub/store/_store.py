"""The store facade: tenants at the top, everything else through a tenant-scoped view.

:class:`TenantStore` binds one tenant id and adds it to every query it runs, so code that holds a
TenantStore cannot read or write another tenant's rows: an id of another tenant is simply
:class:`~hub.errors.NotFound`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from hub.crypto import SecretBox
from hub.errors import ConfigurationError, Conflict, NotFound
from hub.store._db import Database
from hub.store._options import SourceOptions
from hub.store._records import (
    ChangeRecord,
    EntityRecord,
    RunErrorRecord,
    RunRecord,
    SourceRecord,
    TenantRecord,
)
from hub.store._tables import changes, entities, run_errors, sources, sync_runs, tenants

__all__ = ["Store", "TenantStore", "validation_problems"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _now() -> datetime:
    return datetime.now(UTC)


def validation_problems(exc: ValidationError) -> str:
    """Pydantic errors as one line, naming fields, never echoing the input values."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in exc.errors())


def _source(row: Any) -> SourceRecord:
    return SourceRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        connector=row.connector,
        config={k: v for k, v in row.config.items() if k != "__secrets__"},
        secret_names=tuple(row.config.get("__secrets__", ())),
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        options=SourceOptions.model_validate(row.options or {}),
    )


def _run(row: Any) -> RunRecord:
    return RunRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        source_id=row.source_id,
        source=row.source_name,
        status=row.status,
        dry_run=row.dry_run,
        full_refresh=row.full_refresh,
        created=row.created,
        updated=row.updated,
        deleted=row.deleted,
        unchanged=row.unchanged,
        errors=row.errors,
        warnings=row.warnings,
        per_stream=row.per_stream or {},
        message=row.message,
        attempts=row.attempts,
        queued_at=row.queued_at,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        finished_at=row.finished_at,
    )


def _entity(row: Any) -> EntityRecord:
    return EntityRecord(
        id=row.id,
        type=row.type,
        stable_id=row.stable_id,
        source_id=row.source_id,
        data=row.data,
        version=row.version,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class Store:
    """Tenants, and the door to each tenant's :class:`TenantStore`."""

    def __init__(self, db: Database, box: SecretBox | None = None) -> None:
        self.db = db
        self.box = box

    async def create_tenant(self, slug: str, name: str | None = None) -> TenantRecord:
        if not _SLUG.match(slug):
            raise ConfigurationError(f"tenant slug {slug!r} must be 1-63 lowercase letters, digits or dashes")
        now = _now()
        try:
            async with self.db.begin() as conn:
                result = await conn.execute(
                    tenants.insert().values(slug=slug, name=name or slug, change_seq=0, created_at=now)
                )
                tenant_id = result.inserted_primary_key[0]
        except IntegrityError:
            raise Conflict(f"tenant {slug!r} already exists") from None
        return TenantRecord(id=tenant_id, slug=slug, name=name or slug, created_at=now)

    async def list_tenants(self) -> list[TenantRecord]:
        async with self.db.connect() as conn:
            rows = await conn.execute(select(tenants).order_by(tenants.c.slug))
            return [TenantRecord(r.id, r.slug, r.name, r.created_at) for r in rows]

    async def get_tenant(self, slug: str) -> TenantRecord:
        async with self.db.connect() as conn:
            row = (await conn.execute(select(tenants).where(tenants.c.slug == slug))).first()
        if row is None:
            raise NotFound(f"no tenant {slug!r}")
        return TenantRecord(row.id, row.slug, row.name, row.created_at)

    async def ensure_tenant(self, slug: str, name: str | None = None) -> TenantRecord:
        try:
            return await self.get_tenant(slug)
        except NotFound:
            try:
                return await self.create_tenant(slug, name)
            except Conflict:  # created concurrently
                return await self.get_tenant(slug)

    async def tenant(self, slug: str) -> TenantStore:
        record = await self.get_tenant(slug)
        return TenantStore(self, record)

    async def tenant_by_id(self, tenant_id: int) -> TenantStore:
        async with self.db.connect() as conn:
            row = (await conn.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
        if row is None:
            raise NotFound(f"no tenant with id {tenant_id}")
        return TenantStore(self, TenantRecord(row.id, row.slug, row.name, row.created_at))


class TenantStore:
    """Every read and write of one tenant. The tenant id is added to each query here, and only here."""

    def __init__(self, store: Store, tenant: TenantRecord) -> None:
        self.store = store
        self.db = store.db
        self.tenant = tenant
        self.tenant_id = tenant.id

    # --- sources ----------------------------------------------------------------------------

    def _split_config(self, config: BaseModel) -> tuple[dict[str, Any], str | None]:
        plain: dict[str, Any] = {}
        secret: dict[str, Any] = {}
        for name in type(config).model_fields:
            value = getattr(config, name)
            if isinstance(value, SecretStr):
                secret[name] = value.get_secret_value()
            else:
                plain[name] = config.model_dump(mode="json", include={name})[name]
        if secret and self.store.box is None:
            raise ConfigurationError("this store has no secret key, so it cannot keep connector secrets")
        plain["__secrets__"] = sorted(secret)
        token = self.store.box.encrypt(secret) if secret and self.store.box else None
        return plain, token

    @staticmethod
    def validate_config(model: type[BaseModel], raw: Mapping[str, Any]) -> BaseModel:
        try:
            return model.model_validate(dict(raw))
        except ValidationError as exc:
            raise ConfigurationError(f"invalid connector config: {validation_problems(exc)}") from None

    async def add_source(self, name: str, connector: str, config: BaseModel,
                         options: SourceOptions | None = None) -> SourceRecord:
        """Add a source. Without ``options``, its id prefix is ``""`` when it is the tenant's first
        source and ``"<name>:"`` otherwise (see :mod:`hub.store._options`)."""
        if not _SOURCE_NAME.match(name):
            raise ConfigurationError(f"source name {name!r} must be letters, digits, '_', '.' or '-' (max 128)")
        plain, token = self._split_config(config)
        now = _now()
        try:
            async with self.db.begin() as conn:
                if options is None:
                    others = (await conn.execute(select(func.count()).select_from(sources)
                                                 .where(sources.c.tenant_id == self.tenant_id))).scalar_one()
                    options = SourceOptions(id_prefix=f"{name}:" if others else "")
                await conn.execute(
                    sources.insert().values(
                        tenant_id=self.tenant_id,
                        name=name,
                        connector=connector,
                        config=plain,
                        secrets=token,
                        enabled=True,
                        created_at=now,
                        updated_at=now,
                        options=options.model_dump(),
                    )
                )
        except IntegrityError:
            raise Conflict(f"source {name!r} already exists in tenant {self.tenant.slug!r}") from None
        return await self.get_source(name)

    async def update_source(self, name: str, config: BaseModel, *, enabled: bool | None = None) -> SourceRecord:
        source = await self.get_source(name)
        plain, token = self._split_config(config)
        values: dict[str, Any] = {"config": plain, "secrets": token, "updated_at": _now()}
        if enabled is not None:
            values["enabled"] = enabled
        async with self.db.begin() as conn:
            await conn.execute(
                update(sources).where(sources.c.tenant_id == self.tenant_id, sources.c.id == source.id).values(**values)
            )
        return await self.get_source(name)

    async def set_source_options(self, name: str, options: SourceOptions) -> SourceRecord:
        """Replace the hub-level options of a source."""
        source = await self.get_source(name)
        async with self.db.begin() as conn:
            await conn.execute(
                update(sources).where(sources.c.tenant_id == self.tenant_id, sources.c.id == source.id)
                .values(options=options.model_dump(), updated_at=_now())
            )
        return await self.get_source(name)

    async def delete_source(self, name: str) -> None:
        source = await self.get_source(name)
        async with self.db.begin() as conn:
            await conn.execute(sources.delete().where(sources.c.tenant_id == self.tenant_id, sources.c.id == source.id))

    async def list_sources(self) -> list[SourceRecord]:
        async with self.db.connect() as conn:
            rows = await conn.execute(select(sources).where(sources.c.tenant_id == self.tenant_id).order_by(sources.c.name))
            return [_source(r) for r in rows]

    async def get_source(self, name_or_id: str | int) -> SourceRecord:
        cond = sources.c.id == name_or_id if isinstance(name_or_id, int) else sources.c.name == name_or_id
        async with self.db.connect() as conn:
            row = (await conn.execute(select(sources).where(sources.c.tenant_id == self.tenant_id, cond))).first()
        if row is None:
            raise NotFound(f"no source {name_or_id!r} in tenant {self.tenant.slug!r}")
        return _source(row)

    async def source_config(self, source: SourceRecord, model: type[BaseModel]) -> BaseModel:
        """The full config of ``source`` (secrets decrypted), validated by the connector's model."""
        async with self.db.connect() as conn:
            token = (
                await conn.execute(
                    select(sources.c.secrets).where(sources.c.tenant_id == self.tenant_id, sources.c.id == source.id)
                )
            ).scalar_one()
        values = {k: v for k, v in source.config.items() if k != "__secrets__"}
        if token:
            if self.store.box is None:
                raise ConfigurationError("this store has no secret key, so it cannot read connector secrets")
            values.update(self.store.box.decrypt(token))
        return self.validate_config(model, values)

    # --- runs ---------------------------------------------------------------------------------

    def _runs_query(self) -> Select[Any]:
        return (
            select(sync_runs, sources.c.name.label("source_name"))
            .join(sources, sources.c.id == sync_runs.c.source_id)
            .where(sync_runs.c.tenant_id == self.tenant_id)
        )

    async def create_run(self, source: SourceRecord, *, dry_run: bool = False, full_refresh: bool = False,
                         status: str = "queued") -> RunRecord:
        now = _now()
        async with self.db.begin() as conn:
            result = await conn.execute(
                sync_runs.insert().values(
                    tenant_id=self.tenant_id,
                    source_id=source.id,
                    status=status,
                    dry_run=dry_run,
                    full_refresh=full_refresh,
                    created=0,
                    updated=0,
                    deleted=0,
                    unchanged=0,
                    errors=0,
                    warnings=0,
                    per_stream={},
                    attempts=1,
                    queued_at=now,
                    started_at=now if status == "running" else None,
                    heartbeat_at=now if status == "running" else None,
                )
            )
            run_id = result.inserted_primary_key[0]
        return await self.get_run(run_id)

    async def queue_run(self, source: SourceRecord, *, dry_run: bool = False,
                        full_refresh: bool = False) -> RunRecord:
        """A queued run of ``source`` for a worker, after :meth:`check_queue`."""
        await self.check_queue(source, dry_run=dry_run)
        return await self.create_run(source, dry_run=dry_run, full_refresh=full_refresh, status="queued")

    async def check_queue(self, source: SourceRecord, *, dry_run: bool = False) -> None:
        """Conflict when a run of ``source`` may not be queued: the source is disabled, or (not a dry
        run) it already has a run queued or running. The one check for every way a run is asked for."""
        if not source.enabled:
            raise Conflict(f"source {source.name!r} is disabled")
        if not dry_run:
            active = await self.unfinished_run(source)
            if active is not None:
                raise Conflict(f"run {active.id} of source {source.name!r} is {active.status}")

    async def get_run(self, run_id: int) -> RunRecord:
        async with self.db.connect() as conn:
            row = (await conn.execute(self._runs_query().where(sync_runs.c.id == run_id))).first()
        if row is None:
            raise NotFound(f"no run {run_id} in tenant {self.tenant.slug!r}")
        return _run(row)

    async def list_runs(self, *, source: str | None = None, limit: int = 50, offset: int = 0) -> list[RunRecord]:
        query = self._runs_query()
        if source is not None:
            query = query.where(sources.c.name == source)
        query = query.order_by(sync_runs.c.id.desc()).limit(limit).offset(offset)
        async with self.db.connect() as conn:
            return [_run(r) for r in await conn.execute(query)]

    async def unfinished_run(self, source: SourceRecord) -> RunRecord | None:
        """The latest run of ``source`` left running or queued (crashed or waiting), if any."""
        query = (
            self._runs_query()
            .where(sync_runs.c.source_id == source.id, sync_runs.c.status.in_(("running", "queued")),
                   sync_runs.c.dry_run.is_(False))
            .order_by(sync_runs.c.id.desc())
            .limit(1)
        )
        async with self.db.connect() as conn:
            row = (await conn.execute(query)).first()
        return _run(row) if row else None

    async def run_errors(self, run_id: int, *, limit: int = 100, offset: int = 0,
                         severity: str | None = None) -> tuple[int, list[RunErrorRecord]]:
        """The kept problems of a run (oldest first) and how many match; ``severity`` is ``"error"``
        or ``"warning"`` to list only those (None: both)."""
        await self.get_run(run_id)  # tenant check
        where = [run_errors.c.run_id == run_id]
        if severity is not None:
            where.append(run_errors.c.severity == severity)
        async with self.db.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(run_errors).where(*where))).scalar_one()
            rows = await conn.execute(
                select(run_errors).where(*where).order_by(run_errors.c.id).limit(limit).offset(offset)
            )
            return total, [RunErrorRecord(r.id, r.run_id, r.stream, r.ref, r.field, r.message, r.severity)
                           for r in rows]

    # --- entities and changes ----------------------------------------------------------------

    async def get_entity(self, type_: str, stable_id: str) -> EntityRecord:
        async with self.db.connect() as conn:
            row = (
                await conn.execute(
                    select(entities).where(
                        entities.c.tenant_id == self.tenant_id, entities.c.type == type_, entities.c.stable_id == stable_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound(f"no {type_} {stable_id!r}")
        return _entity(row)

    async def count_entities(self, type_: str | None = None, *, status: str | None = None) -> int:
        query = select(func.count()).select_from(entities).where(entities.c.tenant_id == self.tenant_id)
        if type_:
            query = query.where(entities.c.type == type_)
        if status:
            query = query.where(entities.c.status == status)
        async with self.db.connect() as conn:
            return (await conn.execute(query)).scalar_one()

    async def list_entities(self, type_: str, *, limit: int = 100, offset: int = 0) -> list[EntityRecord]:
        query = (
            select(entities)
            .where(entities.c.tenant_id == self.tenant_id, entities.c.type == type_)
            .order_by(entities.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with self.db.connect() as conn:
            return [_entity(r) for r in await conn.execute(query)]

    async def entity_data_chunk(self, type_: str, *, after_id: int = 0, limit: int = 2000,
                                include_deleted: bool = False) -> tuple[list[Mapping[str, Any]], int]:
        """One chunk of canonical records of a type after entity id ``after_id``: (records, last id).

        Of records linked across sources (hub.identity) only the shown one of each group is included.
        """
        query = (
            select(entities.c.id, entities.c.data)
            .where(entities.c.tenant_id == self.tenant_id, entities.c.type == type_, entities.c.id > after_id,
                   entities.c.linked_to.is_(None))
            .order_by(entities.c.id)
            .limit(limit)
        )
        if not include_deleted:
            query = query.where(entities.c.status == "active")
        async with self.db.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [row.data for row in rows], (rows[-1].id if rows else after_id)

    async def iter_entity_data(self, type_: str, *, include_deleted: bool = False,
                               chunk: int = 2000) -> AsyncIterator[Mapping[str, Any]]:
        """Stream the canonical records of one type (keyset pagination, constant memory)."""
        last = 0
        while True:
            rows, last = await self.entity_data_chunk(type_, after_id=last, limit=chunk,
                                                      include_deleted=include_deleted)
            if not rows:
                return
            for row in rows:
                yield row

    async def changes_after(self, after: int = 0, *, limit: int = 100,
                            types: Sequence[str] | None = None) -> list[ChangeRecord]:
        query = select(changes).where(changes.c.tenant_id == self.tenant_id, changes.c.seq > after)
        if types:
            query = query.where(changes.c.entity_type.in_(list(types)))
        query = query.order_by(changes.c.seq).limit(limit)
        async with self.db.connect() as conn:
            return [
                ChangeRecord(r.seq, r.entity_type, r.stable_id, r.op, r.version, r.source_id, r.run_id, r.at, r.data)
                for r in await conn.execute(query)
            ]

    async def last_seq(self) -> int:
        async with self.db.connect() as conn:
            return (
                await conn.execute(select(tenants.c.change_seq).where(tenants.c.id == self.tenant_id))
            ).scalar_one()
