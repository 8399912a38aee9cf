"""Tenants (hub-wide, admin role) and mappings (list, check, preview)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from hub.api._problems import problem_responses
from hub.api._shapes import (
    MappingCheckOut,
    MappingOut,
    PreviewOut,
    PreviewRowOut,
    TenantCreate,
    TenantOut,
)
from hub.api.deps import HubDep, TenantStoreDep
from hub.api.guards import ADMIN, READ, WRITE
from hub.context import Hub  # noqa: F401
from hub.errors import NotFound
from hub.imports import Shield, TenantImports
from hub.sdk import StreamState
from hub.store import TenantRecord

__all__ = ["MappingController", "TenantController"]

_R = problem_responses(400, 401, 403, 404, 429, 500)


def _tenant_out(t: TenantRecord) -> TenantOut:
    return TenantOut(t.slug, t.name, t.created_at)


class TenantController(Controller):
    """Tenant management is hub-wide: only ``admin`` clients, who operate the hub, reach it."""

    path = "/tenants"
    tags = ["tenants"]
    guards = [ADMIN]

    @get("/", summary="List tenants", responses=_R)
    async def list_tenants(self, hub: HubDep) -> list[TenantOut]:
        return [_tenant_out(t) for t in await hub.store.list_tenants()]

    @post("/", summary="Create a tenant", responses=problem_responses(409, 413, 422))
    async def create_tenant(self, data: JSONBody[TenantCreate], hub: HubDep) -> TenantOut:
        return _tenant_out(await hub.store.create_tenant(data.slug, data.name))

    @get("/{slug:str}", summary="One tenant", responses=_R)
    async def get_tenant(self, slug: FromPath[str], hub: HubDep) -> TenantOut:
        return _tenant_out(await hub.store.get_tenant(slug))


class MappingController(Controller):
    path = "/mappings"
    tags = ["mappings"]
    guards = [READ]

    @get("/", summary="Mapping files known to the hub", responses=_R)
    async def list_mappings(self, hub: HubDep, tenant_store: TenantStoreDep) -> list[MappingOut]:
        """Shipped mappings and the caller's tenant overrides (other tenants' overrides are not listed)."""
        own = tenant_store.tenant.slug
        rows = []
        for info in hub.mappings.describe():
            if info.tenant is not None and info.tenant != own:
                continue
            overridden = [o for o in info.overridden_by if not o.startswith("tenant:") or o == f"tenant:{own}"]
            rows.append(MappingOut(info.connector, info.stream, info.target, info.path.name, info.tenant,
                                   [o.rsplit("/", 1)[-1] for o in overridden], info.error))
        return rows

    @post("/check", summary="Compile every mapping and list the problems", guards=[WRITE], status_code=200,
          responses=_R)
    async def check_mappings(self, hub: HubDep) -> MappingCheckOut:
        hub.mappings.clear()
        problems = [str(p) for p in hub.mappings.check_all()]
        return MappingCheckOut(not problems, len(hub.mappings.describe()), problems)

    @get("/{connector:str}/{stream:str}/preview", summary="A mapping's result on a source's first records",
         guards=[WRITE], responses=problem_responses(400, 401, 403, 404, 422, 429, 500, 502))
    async def preview_mapping(
        self,
        connector: FromPath[str],
        stream: FromPath[str],
        source: Annotated[str, QueryParameter(description="Source (of this connector) to read from", max_length=128)],
        hub: HubDep,
        tenant_store: TenantStoreDep,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 5,
    ) -> PreviewOut:
        from hub.mapping import preview
        from hub.sync import build_lookup_tables

        record = await tenant_store.get_source(source)
        if record.connector != connector:
            raise NotFound(f"source {source!r} does not use connector {connector!r}")
        cls = hub.plugins.connector(record.connector)
        mapping = hub.mappings.get(connector, stream, tenant_store.tenant.slug)
        config = await tenant_store.source_config(record, cls.config_model)
        instance = cls(config)
        try:
            # file sources: no oracle on server paths outside the tenant's import directory (hub.imports)
            with Shield(TenantImports(hub.settings, tenant_store.tenant.slug), cls.config_model, config):
                tables = await build_lookup_tables(instance, mapping, {}) if mapping.lookups else None
                rows = await preview(mapping, instance.read(stream, StreamState(full_refresh=True)), limit, tables)
        finally:
            await instance.aclose()
        return PreviewOut(connector, stream, source, mapping.target,
                          [PreviewRowOut(r.ref, r.ok, dict(r.data) if r.data is not None else None, r.field, r.error)
                           for r in rows])
