"""Sources (CRUD, check, sync) and the connectors catalogue."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, SecretStr, ValidationError

from hub.api._problems import FieldProblem, ProblemException, problem_responses
from hub.api._runner import RunLauncher
from hub.api._shapes import (
    CheckOut,
    ConnectorOut,
    RunAccepted,
    SourceCreate,
    SourceOut,
    SourcePatch,
    SourcePut,
    StreamOut,
)
from hub.api.deps import HubDep, TenantStoreDep
from hub.api.guards import READ, WRITE
from hub.context import Hub
from hub.errors import NotFound
from hub.imports import Shield, TenantImports
from hub.sdk import Connector, secret_fields
from hub.store import SourceRecord, TenantStore, parse_source_options

__all__ = ["ConnectorController", "SourceController", "config_schema", "source_out"]

SECRET_MASK = "***"


def imports_of(hub: Hub, tenant_store: TenantStore) -> TenantImports:
    """The caller's tenant import directory (paths given through the API are relative to it)."""
    return TenantImports(hub.settings, tenant_store.tenant.slug)


def _model(hub: Hub, connector: str) -> type[BaseModel] | None:
    try:
        return hub.plugins.connector(connector).config_model
    except NotFound:
        return None


def source_out(source: SourceRecord, hub: Hub | None = None, tenant_store: TenantStore | None = None) -> SourceOut:
    """The API shape of a source: secrets masked, file paths inside the tenant's import directory relative to it."""
    config = dict(source.config)
    if hub is not None and tenant_store is not None:
        config = imports_of(hub, tenant_store).display_config(_model(hub, source.connector), config)
    config.update({name: SECRET_MASK for name in source.secret_names})
    return SourceOut(source.name, source.connector, source.enabled, config, sorted(source.secret_names),
                     source.created_at, source.updated_at, source.options.model_dump())


def _validate(cls: type[Connector], raw: dict[str, Any]) -> BaseModel:
    """The connector's config model applied to ``raw``; 422 naming each bad field, never echoing values."""
    try:
        return cls.config_model.model_validate(raw)
    except ValidationError as exc:
        errors = [
            FieldProblem(".".join(["config", *(str(p) for p in e["loc"])]), e["msg"], "body")
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise ProblemException(422, f"invalid config for connector {cls.name!r}", code="invalid-config",
                               errors=errors) from None


def _connector(hub: HubDep, name: str) -> type[Connector]:
    try:
        return hub.plugins.connector(name)
    except NotFound:
        raise ProblemException(422, f"no connector named {name!r}", code="unknown-connector",
                               errors=[FieldProblem("connector", "unknown connector (see GET /api/v1/connectors)",
                                                    "body")]) from None


async def _full_config(store: TenantStore, source: SourceRecord, cls: type[Connector]) -> dict[str, Any]:
    config = await store.source_config(source, cls.config_model)
    values: dict[str, Any] = {}
    for name in type(config).model_fields:
        value = getattr(config, name)
        values[name] = value.get_secret_value() if isinstance(value, SecretStr) else \
            config.model_dump(mode="json", include={name})[name]
    return values


_R = problem_responses(400, 401, 403, 404, 429, 500)


class SourceController(Controller):
    path = "/sources"
    tags = ["sources"]
    guards = [READ]

    @get("/", summary="List sources", responses=_R)
    async def list_sources(self, tenant_store: TenantStoreDep, hub: HubDep) -> list[SourceOut]:
        return [source_out(s, hub, tenant_store) for s in await tenant_store.list_sources()]

    @post("/", summary="Add a source", guards=[WRITE], responses=problem_responses(409, 413, 422))
    async def create_source(self, data: JSONBody[SourceCreate], tenant_store: TenantStoreDep, hub: HubDep) -> SourceOut:
        """The config is validated by the connector's own model; secret fields are encrypted at rest.

        File paths (``x-fediflow-file`` fields, such as ``oneroster_csv``'s ``path``) are relative to the
        tenant's import directory; absolute paths, ``..`` and symlinks leading out are refused (422).
        """
        cls = _connector(hub, data.connector)
        config = imports_of(hub, tenant_store).confine_config(_validate(cls, data.config))
        options = None
        if data.options is not None and data.options.given():
            first = not await tenant_store.list_sources()
            options = parse_source_options({"id_prefix": "" if first else f"{data.name}:", **data.options.given()})
        source = await tenant_store.add_source(data.name, data.connector, config, options)
        if not data.enabled:
            source = await tenant_store.update_source(source.name, config, enabled=False)
        return source_out(source, hub, tenant_store)

    @get("/{name:str}", summary="Show a source", responses=_R)
    async def get_source(self, name: FromPath[str], tenant_store: TenantStoreDep, hub: HubDep) -> SourceOut:
        return source_out(await tenant_store.get_source(name), hub, tenant_store)

    @put("/{name:str}", summary="Replace a source's config", guards=[WRITE], responses=problem_responses(413, 422))
    async def replace_source(self, name: FromPath[str], data: JSONBody[SourcePut], tenant_store: TenantStoreDep, hub: HubDep) -> SourceOut:
        source = await tenant_store.get_source(name)
        config = imports_of(hub, tenant_store).confine_config(_validate(_connector(hub, source.connector), data.config))
        return source_out(await tenant_store.update_source(name, config, enabled=data.enabled), hub, tenant_store)

    @patch("/{name:str}", summary="Change some config fields", guards=[WRITE], responses=problem_responses(413, 422))
    async def patch_source(self, name: FromPath[str], data: JSONBody[SourcePatch], tenant_store: TenantStoreDep, hub: HubDep) -> SourceOut:
        source = await tenant_store.get_source(name)
        cls = _connector(hub, source.connector)
        stored = await _full_config(tenant_store, source, cls)
        values = {**stored, **(data.config or {})}
        # file fields the patch leaves alone keep their stored (already checked, or host-set) value
        config = imports_of(hub, tenant_store).confine_config(_validate(cls, values), keep=stored)
        if data.options is not None and data.options.given():
            await tenant_store.set_source_options(name, parse_source_options(data.options.given(), source.options))
        return source_out(await tenant_store.update_source(name, config, enabled=data.enabled), hub, tenant_store)

    @delete("/{name:str}", summary="Remove a source", guards=[WRITE], status_code=204, responses=_R)
    async def delete_source(self, name: FromPath[str], tenant_store: TenantStoreDep) -> None:
        await tenant_store.delete_source(name)

    @post("/{name:str}/check", summary="Test a source's connection", guards=[WRITE], status_code=200,
          responses=problem_responses(422, 502))
    async def check_source(self, name: FromPath[str], tenant_store: TenantStoreDep, hub: HubDep) -> CheckOut:
        source = await tenant_store.get_source(name)
        cls = hub.plugins.connector(source.connector)
        config = await tenant_store.source_config(source, cls.config_model)
        shield = Shield(imports_of(hub, tenant_store), cls.config_model, config)
        connector = cls(config)
        try:
            with shield:
                result = await connector.check()
        finally:
            await connector.aclose()
        if result.ok and shield.outside:  # a path the host set through the CLI, and it works
            return CheckOut(True, result.message, dict(result.details))
        # inside: precise, relative messages; outside: one message whatever is wrong (no oracle)
        return CheckOut(result.ok, shield.message(result.message), shield.details(dict(result.details)))

    @post("/{name:str}/sync", summary="Start a sync (or a dry run)", guards=[WRITE], status_code=202,
          responses=problem_responses(409))
    async def sync_source(
        self,
        name: FromPath[str],
        tenant_store: TenantStoreDep,
        request: Request[Any, Any, Any],
        dry_run: Annotated[bool, QueryParameter(description="Compute what would change, write nothing")] = False,
        full_refresh: Annotated[bool, QueryParameter(description="Ignore cursors and read everything")] = False,
    ) -> Response[RunAccepted]:
        """Queue a run and return at once (202); follow it at ``href``."""
        source = await tenant_store.get_source(name)
        run = await tenant_store.queue_run(source, dry_run=dry_run, full_refresh=full_refresh)
        launcher: RunLauncher = request.app.state.runner
        launcher.launch(tenant_store, run)
        href = f"/api/v1/runs/{run.id}"
        return Response(RunAccepted(run.id, run.status, run.dry_run, href), status_code=202,
                        headers={"Location": href})


def config_schema(cls: type[Connector]) -> dict[str, Any]:
    """The JSON Schema of a connector's config, secret fields marked ``writeOnly`` (and ``format: password``)."""
    schema = cls.config_model.model_json_schema()
    for name in secret_fields(cls.config_model):
        prop = schema.get("properties", {}).get(name)
        if isinstance(prop, dict):
            prop["writeOnly"] = True
            prop.setdefault("format", "password")
    return schema


def _streams(hub: HubDep, cls: type[Connector]) -> list[StreamOut]:
    """Streams from the connector (when it lists them without a config) or else from its mappings."""
    mapped = set(hub.mappings.available(cls.name))
    try:
        specs = list(cls.streams(object.__new__(cls)))  # streams() of most connectors ignores the config
    except (AttributeError, TypeError, ValueError):
        return [StreamOut(s, "", "", [], True) for s in sorted(mapped)]
    return [StreamOut(s.name, s.target, s.description, list(s.depends_on), s.name in mapped) for s in specs]


def _connector_out(hub: HubDep, cls: type[Connector]) -> ConnectorOut:
    return ConnectorOut(cls.name, str(cls.kind), cls.title or cls.name, _streams(hub, cls), config_schema(cls))


class ConnectorController(Controller):
    path = "/connectors"
    tags = ["connectors"]
    guards = [READ]

    @get("/", summary="The connectors catalogue, with their config JSON Schemas", responses=_R)
    async def list_connectors(self, hub: HubDep) -> list[ConnectorOut]:
        return [_connector_out(hub, cls) for _, cls in sorted(hub.plugins.connectors().items())]

    @get("/{name:str}", summary="One connector", responses=_R)
    async def get_connector(self, name: FromPath[str], hub: HubDep) -> ConnectorOut:
        return _connector_out(hub, hub.plugins.connector(name))
