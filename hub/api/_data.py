"""Runs and their errors, the change log feed and entities: everything read through the caller's tenant."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, PathParameter, QueryParameter

from hub.api._problems import problem_responses
from hub.api._shapes import (
    ChangeOut,
    ChangesPage,
    EntityOut,
    EntityPage,
    RunErrorOut,
    RunErrorPage,
    RunOut,
)
from hub.api.deps import HubDep, TenantStoreDep
from hub.api.guards import READ
from hub.context import Hub
from hub.errors import NotFound
from hub.store import EntityRecord, RunRecord

__all__ = ["ChangeController", "EntityController", "RunController", "cap"]

#: the largest page any endpoint accepts at all; settings.api.max_page_size lowers it
_HARD_MAX = 10000
_MAX_OFFSET = 2**31 - 1
Limit = Annotated[int, QueryParameter(ge=1, le=_HARD_MAX, description="Page size (capped at the hub's max_page_size)")]
Offset = Annotated[int, QueryParameter(ge=0, le=_MAX_OFFSET)]
RunId = Annotated[int, PathParameter(ge=1, le=2**62)]
_R = problem_responses(400, 401, 403, 404, 429, 500)


def cap(hub: HubDep, limit: int) -> int:
    return min(limit, hub.settings.api.max_page_size)


def run_out(run: RunRecord) -> RunOut:
    return RunOut(run.id, run.source, run.status, run.dry_run, run.full_refresh, run.created, run.updated,
                  run.deleted, run.unchanged, run.errors, {k: dict(v) for k, v in run.per_stream.items()},
                  run.message, run.attempts, run.queued_at, run.started_at, run.finished_at, run.duration_seconds)


class RunController(Controller):
    path = "/runs"
    tags = ["runs"]
    guards = [READ]

    @get("/", summary="Sync runs, newest first", responses=_R)
    async def list_runs(self, tenant_store: TenantStoreDep, hub: HubDep, source: FromQuery[str | None] = None,
                        offset: Offset = 0, limit: Limit = 50) -> list[RunOut]:
        return [run_out(r) for r in await tenant_store.list_runs(source=source, limit=cap(hub, limit), offset=offset)]

    @get("/{run_id:int}", summary="One run with its counts", responses=_R)
    async def get_run(self, run_id: RunId, tenant_store: TenantStoreDep) -> RunOut:
        return run_out(await tenant_store.get_run(run_id))

    @get("/{run_id:int}/errors", summary="A run's per-record errors (paged)", responses=_R)
    async def run_errors(self, run_id: RunId, tenant_store: TenantStoreDep,
                         hub: HubDep, offset: Offset = 0, limit: Limit = 100) -> RunErrorPage:
        limit = cap(hub, limit)
        total, rows = await tenant_store.run_errors(run_id, limit=limit, offset=offset)
        return RunErrorPage(run_id, total, offset, limit, [RunErrorOut(e.stream, e.ref, e.field, e.message) for e in rows])


class ChangeController(Controller):
    path = "/changes"
    tags = ["changes"]
    guards = [READ]

    @get("/", summary="The change log feed", responses=_R)
    async def changes(
        self,
        tenant_store: TenantStoreDep,
        hub: HubDep,
        after: Annotated[int, QueryParameter(ge=0, le=2**62, description="Return changes with seq > after")] = 0,
        limit: Limit = 100,
        types: Annotated[str | None, QueryParameter(description="Comma-separated entity types (User,Org)",
                                                max_length=1000)] = None,
    ) -> ChangesPage:
        """Changes in sequence order. Poll with ``after=<next>`` of the previous page."""
        wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
        rows = await tenant_store.changes_after(after, limit=cap(hub, limit), types=wanted)
        items = [ChangeOut(c.seq, c.entity_type, c.stable_id, c.op, c.version, c.at, c.run_id, dict(c.data))
                 for c in rows]
        return ChangesPage(after, items[-1].seq if items else after, items)


def _entity_out(entity: EntityRecord) -> EntityOut:
    return EntityOut(entity.type, entity.stable_id, entity.version, entity.status, dict(entity.data),
                     entity.created_at, entity.updated_at)


def _known_type(hub: HubDep, type_: str) -> str:
    if type_ not in hub.types:
        raise NotFound(f"no entity type {type_!r}")
    return type_


class EntityController(Controller):
    path = "/entities"
    tags = ["entities"]
    guards = [READ]

    @get("/{type_name:str}", summary="Entities of one canonical type (paged)", responses=_R)
    async def list_entities(self, type_name: FromPath[str], tenant_store: TenantStoreDep, hub: HubDep,
                            offset: Offset = 0, limit: Limit = 100) -> EntityPage:
        type_ = _known_type(hub, type_name)
        limit = cap(hub, limit)
        total = await tenant_store.count_entities(type_)
        rows = await tenant_store.list_entities(type_, limit=limit, offset=offset)
        return EntityPage(type_, total, offset, limit, [_entity_out(e) for e in rows])

    @get("/{type_name:str}/{stable_id:str}", summary="One entity by its stable id", responses=_R)
    async def get_entity(self, type_name: FromPath[str], stable_id: FromPath[str], tenant_store: TenantStoreDep, hub: HubDep) -> EntityOut:
        return _entity_out(await tenant_store.get_entity(_known_type(hub, type_name), stable_id))


