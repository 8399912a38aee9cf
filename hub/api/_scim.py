"""The SCIM 2.0 server (RFC 7644): ``/scim/v2/{source}/...`` for identity providers pushing users.

Each ``scim_push`` source of a tenant has its own SCIM root, ``/scim/v2/<source name>``, that an
identity provider (Okta, Entra ID ...) is configured with. Routes::

    GET                    /scim/v2/{source}/ServiceProviderConfig | /ResourceTypes[/{name}] | /Schemas[/{id}]
    GET, POST              /scim/v2/{source}/Users | /Groups            (list + filter + sort, create)
    POST                   /scim/v2/{source}/Users/.search | /Groups/.search | /.search   (SearchRequest)
    GET, PUT, PATCH, DELETE /scim/v2/{source}/Users/{id} | /Groups/{id}

Who may call and the source's rate limit: :mod:`hub.api._scim_auth`. Bodies are read as JSON
whatever the content type (``application/scim+json`` or ``application/json``); responses are
``application/scim+json``; every error is ``urn:ietf:params:scim:api:messages:2.0:Error``
(:mod:`hub.api._scim_errors`).

After each successful write a sync of the source is poked (:class:`~hub.scim.SyncTrigger`):
debounced by the source's ``sync_delay_seconds``, one at a time per source, run in this process
(``run_syncs``) or queued for a worker.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from litestar import HttpMethod, Request, Response, Router, delete, get, patch, post, put, route
from litestar.params import FromPath

from hub.api._scim_auth import ScimContext, scim_context
from hub.api._scim_errors import (
    SCIM_MEDIA_TYPE,
    SCIM_PREFIX,
    scim_error_responses,
    scim_exception_handlers,
    scim_response,
)
from hub.scim import (
    LIST_SCHEMA,
    ScimError,
    SyncTrigger,
    project,
    query_from_params,
    query_from_search,
    resource_types,
    schemas,
    service_provider_config,
)

__all__ = ["SCIM_MEDIA_TYPE", "SCIM_PREFIX", "scim_router", "scim_shutdown"]

log = logging.getLogger("fediflow.api.scim")
#: no bearer middleware (SCIM authenticates itself), and the SCIM source's own rate limit
_OPT = {"exclude_from_auth": True, "rate_limit": "self"}
#: what the OpenAPI document says every SCIM operation may answer (SCIM Errors, not problem details)
_ERRORS = scim_error_responses(400, 401, 403, 404, 409, 412, 413, 429, 500, 501)


def _answer(
    ctx: ScimContext, body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return scim_response(body, status, {**ctx.limit.headers(), **(headers or {})})


async def _body(request: Request[Any, Any, Any]) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise ScimError(400, "the request needs a JSON body", "invalidSyntax")
    try:
        return json.loads(raw)
    except ValueError:
        raise ScimError(400, "the body is not valid JSON", "invalidSyntax") from None


# --- the sync after writes --------------------------------------------------------------------------


def _trigger(request: Request[Any, Any, Any]) -> SyncTrigger:
    state = request.app.state
    trigger: SyncTrigger | None = state.get("scim_trigger")
    if trigger is None:
        trigger = SyncTrigger()
        state["scim_trigger"] = trigger
    return trigger


async def _after_write(request: Request[Any, Any, Any], ctx: ScimContext) -> None:
    tenant, source = ctx.tenant, ctx.source
    await ctx.service.repo.rekey()  # the config was replaced: its rows follow the new store key
    if not source.config.get("sync_after_push", True):
        return
    hub = request.app.state.hub
    runner = request.app.state.get("runner")
    execute = getattr(runner, "execute", True)
    delay = float(source.config.get("sync_delay_seconds", 2.0))

    async def job() -> None:
        from hub.sync import SyncEngine

        if execute:
            await SyncEngine(hub).sync(tenant, source.name)
        elif await tenant.unfinished_run(source) is None:
            await tenant.create_run(source)  # queued: a worker runs it

    _trigger(request).poke((tenant.tenant_id, source.id), job, delay)


async def scim_shutdown(state: Any) -> None:
    """Cancel pending SCIM-triggered syncs (the app's on_shutdown calls this)."""
    trigger: SyncTrigger | None = state.get("scim_trigger")
    if trigger is not None:
        await trigger.shutdown()


# --- handlers ---------------------------------------------------------------------------------------

_RESOURCES = "/{source:str}/{endpoint:str}"
_ONE = "/{source:str}/{endpoint:str}/{resource_id:str}"


@get(
    "/{source:str}/ServiceProviderConfig",
    opt=_OPT,
    responses=_ERRORS,
    summary="SCIM service provider configuration",
)
async def scim_service_provider_config(
    request: Request[Any, Any, Any], source: FromPath[str]
) -> Response[bytes]:
    ctx = await scim_context(request, source)
    return _answer(ctx, service_provider_config(ctx.service.base_url))


def _list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }


@get("/{source:str}/ResourceTypes", opt=_OPT, responses=_ERRORS, summary="SCIM resource types")
async def scim_resource_types(request: Request[Any, Any, Any], source: FromPath[str]) -> Response[bytes]:
    ctx = await scim_context(request, source)
    return _answer(ctx, _list(resource_types(ctx.service.base_url)))


@get("/{source:str}/ResourceTypes/{name:str}", opt=_OPT, responses=_ERRORS, summary="One SCIM resource type")
async def scim_resource_type(
    request: Request[Any, Any, Any], source: FromPath[str], name: FromPath[str]
) -> Response[bytes]:
    ctx = await scim_context(request, source)
    for item in resource_types(ctx.service.base_url):
        if item["id"] == name:
            return _answer(ctx, item)
    raise ScimError(404, f"no resource type {name!r}")


@get("/{source:str}/Schemas", opt=_OPT, responses=_ERRORS, summary="SCIM schemas")
async def scim_schemas(request: Request[Any, Any, Any], source: FromPath[str]) -> Response[bytes]:
    ctx = await scim_context(request, source)
    return _answer(ctx, _list(schemas(ctx.service.base_url)))


@get("/{source:str}/Schemas/{schema_id:str}", opt=_OPT, responses=_ERRORS, summary="One SCIM schema")
async def scim_schema(
    request: Request[Any, Any, Any], source: FromPath[str], schema_id: FromPath[str]
) -> Response[bytes]:
    ctx = await scim_context(request, source)
    for item in schemas(ctx.service.base_url):
        if item["id"].lower() == schema_id.lower():
            return _answer(ctx, item)
    raise ScimError(404, f"no schema {schema_id!r}")


def _with_etag(ctx: ScimContext, document: dict[str, Any], status: int = 200) -> Response[bytes]:
    headers = {"ETag": document["meta"]["version"]}
    if status == 201:
        headers["Location"] = document["meta"]["location"]
    return _answer(ctx, document, status, headers)


@get(_RESOURCES, opt=_OPT, responses=_ERRORS, summary="List, filter and sort SCIM users or groups")
async def scim_list(
    request: Request[Any, Any, Any], source: FromPath[str], endpoint: FromPath[str]
) -> Response[bytes]:
    ctx = await scim_context(request, source)
    return _answer(ctx, await ctx.service.query(endpoint, query_from_params(request.query_params)))


@post(
    _RESOURCES + "/.search",
    opt=_OPT,
    responses=_ERRORS,
    summary="Search SCIM users or groups (SearchRequest)",
    status_code=200,
)
async def scim_search(
    request: Request[Any, Any, Any], source: FromPath[str], endpoint: FromPath[str]
) -> Response[bytes]:
    ctx = await scim_context(request, source)
    ctx.service.kind(endpoint)
    return _answer(ctx, await ctx.service.query(endpoint, query_from_search(await _body(request))))


@post(
    "/{source:str}/.search",
    opt=_OPT,
    responses=_ERRORS,
    summary="Search every SCIM resource type (SearchRequest)",
    status_code=200,
)
async def scim_search_all(request: Request[Any, Any, Any], source: FromPath[str]) -> Response[bytes]:
    ctx = await scim_context(request, source)
    return _answer(ctx, await ctx.service.search(query_from_search(await _body(request))))


@post(_RESOURCES, opt=_OPT, responses=_ERRORS, summary="Create a SCIM user or group", status_code=201)
async def scim_create(
    request: Request[Any, Any, Any], source: FromPath[str], endpoint: FromPath[str]
) -> Response[bytes]:
    ctx = await scim_context(request, source)
    ctx.service.kind(endpoint)
    document = await ctx.service.create(endpoint, await _body(request))
    await _after_write(request, ctx)
    return _with_etag(ctx, document, 201)


@get(_ONE, opt=_OPT, responses=_ERRORS, summary="One SCIM user or group")
async def scim_get(
    request: Request[Any, Any, Any],
    source: FromPath[str],
    endpoint: FromPath[str],
    resource_id: FromPath[str],
) -> Response[bytes]:
    ctx = await scim_context(request, source)
    document = await ctx.service.get(endpoint, resource_id)
    none_match = request.headers.get("if-none-match")
    if none_match and document["meta"]["version"].removeprefix("W/") in {
        t.strip().removeprefix("W/") for t in none_match.split(",")
    }:
        return Response(
            b"", status_code=304, headers={"ETag": document["meta"]["version"], **ctx.limit.headers()}
        )
    params = request.query_params
    projected = project(document, params.get("attributes"), params.get("excludedAttributes"))
    return _answer(ctx, projected, 200, {"ETag": document["meta"]["version"]})


@put(_ONE, opt=_OPT, responses=_ERRORS, summary="Replace a SCIM user or group")
async def scim_replace(
    request: Request[Any, Any, Any],
    source: FromPath[str],
    endpoint: FromPath[str],
    resource_id: FromPath[str],
) -> Response[bytes]:
    ctx = await scim_context(request, source)
    ctx.service.kind(endpoint)
    document = await ctx.service.replace(
        endpoint, resource_id, await _body(request), request.headers.get("if-match")
    )
    await _after_write(request, ctx)
    return _with_etag(ctx, document)


@patch(_ONE, opt=_OPT, responses=_ERRORS, summary="Modify a SCIM user or group (PatchOp)")
async def scim_patch(
    request: Request[Any, Any, Any],
    source: FromPath[str],
    endpoint: FromPath[str],
    resource_id: FromPath[str],
) -> Response[bytes]:
    ctx = await scim_context(request, source)
    ctx.service.kind(endpoint)
    before = await ctx.service.get(endpoint, resource_id)
    document = await ctx.service.patch(
        endpoint, resource_id, await _body(request), request.headers.get("if-match")
    )
    if document["meta"]["version"] != before["meta"]["version"]:
        await _after_write(request, ctx)
    return _with_etag(ctx, document)


@delete(_ONE, opt=_OPT, responses=_ERRORS, summary="Delete a SCIM user or group", status_code=204)
async def scim_delete(
    request: Request[Any, Any, Any],
    source: FromPath[str],
    endpoint: FromPath[str],
    resource_id: FromPath[str],
) -> Response[None]:
    ctx = await scim_context(request, source)
    await ctx.service.delete(endpoint, resource_id, request.headers.get("if-match"))
    await _after_write(request, ctx)
    return Response(None, status_code=204, headers=ctx.limit.headers())


def _options(path: str, methods: str) -> Any:
    """An OPTIONS answer whose ``Allow`` lists exactly ``methods``: the one Litestar generates for a path
    served by several handlers lists only the methods of the first handler registered there."""

    @route(path, http_method=[HttpMethod.OPTIONS], opt=_OPT, include_in_schema=False, status_code=204)
    async def options() -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": methods})

    return options


scim_router = Router(
    path=SCIM_PREFIX,
    route_handlers=[
        # first: a path's OPTIONS handler is made with its first route, before the others join it
        _options(_RESOURCES, "GET, OPTIONS, POST"),
        _options(_ONE, "DELETE, GET, OPTIONS, PATCH, PUT"),
        scim_service_provider_config,
        scim_resource_types,
        scim_resource_type,
        scim_schemas,
        scim_schema,
        scim_list,
        scim_search,
        scim_search_all,
        scim_create,
        scim_get,
        scim_replace,
        scim_patch,
        scim_delete,
    ],
    exception_handlers=scim_exception_handlers(),
    tags=["scim"],
)
