"""Runs and their errors, the change log feed and entities: everything read through the caller's tenant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, PathParameter, QueryParameter

from hub.api._problems import problem_responses
from hub.api._shapes import (
    ChangeOut,
    ChangesPage,
    EntityOut,
    EntityPage,
    LinkedOut,
    RunErrorOut,
    RunErrorPage,
    RunOut,
)
from hub.api.deps import HubDep, PrincipalDep, TenantStoreDep
from hub.api.guards import READ
from hub.auth import Principal, readable_types, scopes_to_read
from hub.errors import Forbidden, NotFound
from hub.store import EntityLinks, EntityRecord, LinkedRecord, RunRecord, TenantStore

__all__ = ["ChangeController", "EntityController", "RunController", "cap"]

#: the largest page any endpoint accepts at all; settings.api.max_page_size lowers it
_HARD_MAX = 10000
_MAX_OFFSET = 2**31 - 1
Limit = Annotated[int, QueryParameter(ge=1, le=_HARD_MAX, description="Page size (capped at the hub's max_page_size)")]
Offset = Annotated[int, QueryParameter(ge=0, le=_MAX_OFFSET)]
#: ids and sequences stop at 2**53 - 1: a bigint column holds them, and a JSON number above it is not exact
#: (a client comparing as doubles would call 2**62 + 1 valid)
RunId = Annotated[int, PathParameter(ge=1, le=2**53 - 1)]
Severity = Annotated[Literal["error", "warning"] | None, QueryParameter(
    description="Only entries of this severity: 'error' (the record was not kept) or 'warning' (kept, with "
                "a problem such as a reference to a missing or tobedeleted object); both when absent")]
_R = problem_responses(400, 401, 403, 404, 429, 500)


def cap(hub: HubDep, limit: int) -> int:
    return min(limit, hub.settings.api.max_page_size)


def run_out(run: RunRecord) -> RunOut:
    return RunOut(run.id, run.source, run.status, run.dry_run, run.full_refresh, run.created, run.updated,
                  run.deleted, run.unchanged, run.errors, run.warnings,
                  {k: dict(v) for k, v in run.per_stream.items()},
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

    @get("/{run_id:int}/errors", summary="A run's per-record errors and warnings (paged)", responses=_R)
    async def run_errors(self, run_id: RunId, tenant_store: TenantStoreDep, hub: HubDep, offset: Offset = 0,
                         limit: Limit = 100, severity: Severity = None) -> RunErrorPage:
        limit = cap(hub, limit)
        total, rows = await tenant_store.run_errors(run_id, limit=limit, offset=offset, severity=severity)
        items = [RunErrorOut(e.stream, e.ref, e.field, e.message, "warning" if e.severity == "warning" else "error")
                 for e in rows]
        return RunErrorPage(run_id, total, offset, limit, items)


class ChangeController(Controller):
    path = "/changes"
    tags = ["changes"]
    guards = [READ]

    @get("/", summary="The change log feed", responses=_R)
    async def changes(
        self,
        tenant_store: TenantStoreDep,
        hub: HubDep,
        principal: PrincipalDep,
        after: Annotated[int, QueryParameter(ge=0, le=2**53 - 1, description="Return changes with seq > after")] = 0,
        limit: Limit = 100,
        types: Annotated[str | None, QueryParameter(description="Comma-separated entity types (User,Org)",
                                                max_length=1000)] = None,
    ) -> ChangesPage:
        """Changes in sequence order. Poll with ``after=<next>`` of the previous page. Changes of types
        the caller's scopes do not cover (Demographics without roster-demographics.readonly) are left out."""
        asked = [t.strip() for t in types.split(",") if t.strip()] if types else None
        wanted = readable_types(principal.scopes, hub.types, asked)
        if wanted is not None and not wanted:
            return ChangesPage(after, after, [])
        rows = await tenant_store.changes_after(after, limit=cap(hub, limit), types=wanted)
        items = [ChangeOut(c.seq, c.entity_type, c.stable_id, c.op, c.version, c.at, c.run_id, dict(c.data))
                 for c in rows]
        return ChangesPage(after, items[-1].seq if items else after, items)


def _entity_out(entity: EntityRecord, source_names: Mapping[int, str],
                links: Sequence[LinkedRecord] = ()) -> EntityOut:
    return EntityOut(entity.type, entity.stable_id, entity.version, entity.status, dict(entity.data),
                     entity.created_at, entity.updated_at,
                     source_names.get(entity.source_id) if entity.source_id is not None else None,
                     [LinkedOut(r.type, r.sourcedId, r.source, r.primary) for r in links])


async def _source_names(tenant_store: TenantStore) -> dict[int, str]:
    return {s.id: s.name for s in await tenant_store.list_sources()}


def _known_type(hub: HubDep, type_: str, principal: Principal) -> str:
    if type_ not in hub.types:
        raise NotFound(f"no entity type {type_!r}")
    if not principal.may_read(type_):
        raise Forbidden(f"insufficient scope to read {type_}: needs one of {' '.join(scopes_to_read(type_) or ())}")
    return type_


class EntityController(Controller):
    path = "/entities"
    tags = ["entities"]
    guards = [READ]

    @get("/{type_name:str}", summary="Entities of one canonical type (paged)", responses=_R)
    async def list_entities(self, type_name: FromPath[str], tenant_store: TenantStoreDep, hub: HubDep,
                            principal: PrincipalDep, offset: Offset = 0, limit: Limit = 100) -> EntityPage:
        type_ = _known_type(hub, type_name, principal)
        limit = cap(hub, limit)
        total = await tenant_store.count_entities(type_)
        rows = await tenant_store.list_entities(type_, limit=limit, offset=offset)
        names = await _source_names(tenant_store)
        return EntityPage(type_, total, offset, limit, [_entity_out(e, names) for e in rows])

    @get("/{type_name:str}/{stable_id:str}", summary="One entity by its stable id", responses=_R)
    async def get_entity(self, type_name: FromPath[str], stable_id: FromPath[str], tenant_store: TenantStoreDep,
                         hub: HubDep, principal: PrincipalDep) -> EntityOut:
        """With the record's source and, when records of several sources are linked as one, that group."""
        entity = await tenant_store.get_entity(_known_type(hub, type_name, principal), stable_id)
        links = await EntityLinks(tenant_store).group_of(entity.type, entity.stable_id)
        return _entity_out(entity, await _source_names(tenant_store), links)


