"""The SCIM 2.0 server (RFC 7644): ``/scim/v2/{source}/...`` for identity providers pushing users.

Each ``scim_push`` source of a tenant has its own SCIM root, ``/scim/v2/<source name>``, that an
identity provider (Okta, Entra ID ...) is configured with. Routes::

    GET                    /scim/v2/{source}/ServiceProviderConfig | /ResourceTypes[/{name}] | /Schemas[/{id}]
    GET, POST              /scim/v2/{source}/Users | /Groups            (list + filter, create)
    GET, PUT, PATCH, DELETE /scim/v2/{source}/Users/{id} | /Groups/{id}

Authentication is done here rather than by the API's bearer middleware, so that IdPs that cannot
refresh OAuth tokens work and every error is a SCIM error: ``Bearer <access token>`` (as the rest
of the API), ``Bearer <client_id>.<client_secret>`` (a long-lived token to paste into the IdP) or
HTTP Basic with the client's id and secret. The client must be ``admin`` or ``integrator`` of the
tenant owning the source; another tenant's source is 404. Bodies are read as JSON whatever the
content type (``application/scim+json`` or ``application/json``); responses are
``application/scim+json``; every error is ``urn:ietf:params:scim:api:messages:2.0:Error``.

After each successful write a sync of the source is poked (:class:`~hub.scim.SyncTrigger`):
debounced by the source's ``sync_delay_seconds``, one at a time per source, run in this process
(``run_syncs``) or queued for a worker.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import time
from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from hub.auth import ClientService, Role
from hub.errors import AuthError, ConfigurationError, Forbidden, HubError, NotFound, StoreError
from hub.scim import (
    LIST_SCHEMA,
    ScimError,
    ScimRepository,
    ScimService,
    SyncTrigger,
    error_body,
    project,
    resource_types,
    schemas,
    service_provider_config,
)
from hub.store import ApiClientRecord, SourceRecord, TenantStore

__all__ = ["SCIM_MEDIA_TYPE", "SCIM_PREFIX", "scim_router", "scim_shutdown"]

log = logging.getLogger("fediflow.api.scim")
SCIM_PREFIX = "/scim/v2"
SCIM_MEDIA_TYPE = "application/scim+json"
PUSH_CONNECTOR = "scim_push"
_AUTH_CACHE_SECONDS = 60.0
_OPT = {"exclude_from_auth": True}
_WRITE_ROLES = frozenset({Role.ADMIN.value, Role.INTEGRATOR.value})


# --- responses and errors -------------------------------------------------------------------------


def scim_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    return Response(content, status_code=status, media_type=SCIM_MEDIA_TYPE, headers=headers or {})


def _error(status: int, detail: str | None, scim_type: str | None = None) -> Response[bytes]:
    headers = {"WWW-Authenticate": 'Bearer realm="fediflow-scim"'} if status == 401 else {}
    return scim_response(error_body(status, detail, scim_type), status, headers)


def _scim_error(_: Request[Any, Any, Any], exc: ScimError) -> Response[bytes]:
    return _error(exc.status, exc.message, exc.scim_type)


def _hub_error(_: Request[Any, Any, Any], exc: HubError) -> Response[bytes]:
    if isinstance(exc, Forbidden):
        return _error(403, str(exc))
    if isinstance(exc, AuthError):
        return _error(401, str(exc))
    if isinstance(exc, NotFound):
        return _error(404, str(exc))
    if isinstance(exc, StoreError):
        log.warning("scim request failed", extra={"error": str(exc)})
        return _error(503, "the database is unavailable; try again later")
    if isinstance(exc, ConfigurationError):
        return _error(400, str(exc), "invalidValue")
    log.warning("scim request failed", extra={"error": str(exc), "code": exc.code})
    return _error(500, str(exc))


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if status >= 500:
        log.error("scim server error", extra={"status": status, "detail": exc.detail})
        return _error(status, "an unexpected error occurred")
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "retry-after"}
    response = _error(status, exc.detail, "invalidValue" if status == 400 else None)
    response.headers.update(headers)
    return response


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.error("unhandled scim error", exc_info=(type(exc), exc, exc.__traceback__),
              extra={"path": request.url.path, "method": request.method})
    return _error(500, "an unexpected error occurred")


# --- authentication and the source ----------------------------------------------------------------


def _basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ScimError(401, "malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ScimError(401, "malformed Basic credentials")
    return client_id, secret


async def _by_secret(request: Request[Any, Any, Any], client_id: str, secret: str) -> ApiClientRecord:
    """Client id + secret, verified (scrypt) at most once a minute per pair in this process."""
    state = request.app.state
    cache: dict[tuple[str, str], tuple[float, ApiClientRecord]] | None = state.get("scim_auth_cache")
    if cache is None:
        cache = {}
        state["scim_auth_cache"] = cache
    key = (client_id, hashlib.sha256(secret.encode()).hexdigest())
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    service: ClientService = state.clients
    try:
        client = await service.authenticate(client_id, secret)
    except AuthError:
        raise ScimError(401, "unknown client or wrong secret") from None
    if len(cache) > 1000:
        cache.clear()
    cache[key] = (now + _AUTH_CACHE_SECONDS, client)
    return client


async def _client(request: Request[Any, Any, Any]) -> ApiClientRecord:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if not header:
        raise ScimError(401, "authentication required: Authorization: Bearer <token> or Basic")
    if scheme.lower() == "basic":
        client = await _by_secret(request, *_basic(credentials))
    elif scheme.lower() == "bearer" and credentials:
        if credentials.startswith("ff_") and credentials.count(".") == 1:
            client_id, _, secret = credentials.partition(".")
            client = await _by_secret(request, client_id, secret)
        else:
            service: ClientService = request.app.state.clients
            try:
                _principal, client = await service.principal(credentials)
            except AuthError as exc:
                raise ScimError(401, str(exc)) from None
    else:
        raise ScimError(401, "the Authorization header must be 'Bearer <token>' or 'Basic <credentials>'")
    if client.role not in _WRITE_ROLES:
        raise ScimError(403, f"role {client.role!r} may not provision users (needs admin or integrator)")
    return client


async def _context(request: Request[Any, Any, Any], source_name: str) -> tuple[TenantStore, SourceRecord, ScimService]:
    client = await _client(request)
    hub = request.app.state.hub
    tenant = TenantStore(hub.store, client.tenant)
    try:
        source = await tenant.get_source(source_name)
    except NotFound:
        raise ScimError(404, f"no SCIM source {source_name!r} in this tenant") from None
    if source.connector != PUSH_CONNECTOR:
        raise ScimError(404, f"no SCIM source {source_name!r} in this tenant (it is a {source.connector} source)")
    if not source.enabled:
        raise ScimError(403, f"source {source_name!r} is disabled")
    config = await tenant.source_config(source, hub.plugins.connector(PUSH_CONNECTOR).config_model)
    store_key = config.store_key.get_secret_value()  # type: ignore[attr-defined]
    base = str(request.base_url).rstrip("/") + f"{SCIM_PREFIX}/{source.name}"
    repo = ScimRepository(hub.db, tenant.tenant_id, source.id, store_key)
    return tenant, source, ScimService(repo, base)


async def _body(request: Request[Any, Any, Any]) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise ScimError(400, "the request needs a JSON body", "invalidSyntax")
    try:
        return json.loads(raw)
    except ValueError:
        raise ScimError(400, "the body is not valid JSON", "invalidSyntax") from None


def _int_param(request: Request[Any, Any, Any], name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ScimError(400, f"{name} must be an integer", "invalidValue") from None


# --- the sync after writes --------------------------------------------------------------------------


def _trigger(request: Request[Any, Any, Any]) -> SyncTrigger:
    state = request.app.state
    trigger: SyncTrigger | None = state.get("scim_trigger")
    if trigger is None:
        trigger = SyncTrigger()
        state["scim_trigger"] = trigger
    return trigger


async def _after_write(request: Request[Any, Any, Any], tenant: TenantStore, source: SourceRecord,
                       service: ScimService) -> None:
    await service.repo.rekey()  # the config was replaced: its rows follow the new store key
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


@get("/{source:str}/ServiceProviderConfig", opt=_OPT, summary="SCIM service provider configuration")
async def scim_service_provider_config(request: Request[Any, Any, Any], source: FromPath[str]) -> Response[bytes]:
    _tenant, _source, service = await _context(request, source)
    return scim_response(service_provider_config(service.base_url))


def _list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [LIST_SCHEMA], "totalResults": len(items), "startIndex": 1, "itemsPerPage": len(items),
            "Resources": items}


@get("/{source:str}/ResourceTypes", opt=_OPT, summary="SCIM resource types")
async def scim_resource_types(request: Request[Any, Any, Any], source: FromPath[str]) -> Response[bytes]:
    _tenant, _source, service = await _context(request, source)
    return scim_response(_list(resource_types(service.base_url)))


@get("/{source:str}/ResourceTypes/{name:str}", opt=_OPT, summary="One SCIM resource type")
async def scim_resource_type(request: Request[Any, Any, Any], source: FromPath[str], name: FromPath[str]) -> Response[bytes]:
    _tenant, _source, service = await _context(request, source)
    for item in resource_types(service.base_url):
        if item["id"] == name:
            return scim_response(item)
    raise ScimError(404, f"no resource type {name!r}")


@get("/{source:str}/Schemas", opt=_OPT, summary="SCIM schemas")
async def scim_schemas(request: Request[Any, Any, Any], source: FromPath[str]) -> Response[bytes]:
    _tenant, _source, service = await _context(request, source)
    return scim_response(_list(schemas(service.base_url)))


@get("/{source:str}/Schemas/{schema_id:str}", opt=_OPT, summary="One SCIM schema")
async def scim_schema(request: Request[Any, Any, Any], source: FromPath[str], schema_id: FromPath[str]) -> Response[bytes]:
    _tenant, _source, service = await _context(request, source)
    for item in schemas(service.base_url):
        if item["id"].lower() == schema_id.lower():
            return scim_response(item)
    raise ScimError(404, f"no schema {schema_id!r}")


def _with_etag(document: dict[str, Any], status: int = 200) -> Response[bytes]:
    headers = {"ETag": document["meta"]["version"]}
    if status == 201:
        headers["Location"] = document["meta"]["location"]
    return scim_response(document, status, headers)


@get(_RESOURCES, opt=_OPT, summary="List or filter SCIM users or groups")
async def scim_list(request: Request[Any, Any, Any], source: FromPath[str], endpoint: FromPath[str]) -> Response[bytes]:
    _tenant, _source, service = await _context(request, source)
    params = request.query_params
    body = await service.query(
        endpoint, filter=params.get("filter"), start_index=_int_param(request, "startIndex"),
        count=_int_param(request, "count"), attributes=params.get("attributes"),
        excluded_attributes=params.get("excludedAttributes"))
    return scim_response(body)


@post(_RESOURCES, opt=_OPT, summary="Create a SCIM user or group", status_code=201)
async def scim_create(request: Request[Any, Any, Any], source: FromPath[str], endpoint: FromPath[str]) -> Response[bytes]:
    tenant, record, service = await _context(request, source)
    service.kind(endpoint)
    document = await service.create(endpoint, await _body(request))
    await _after_write(request, tenant, record, service)
    return _with_etag(document, 201)


@get(_ONE, opt=_OPT, summary="One SCIM user or group")
async def scim_get(request: Request[Any, Any, Any], source: FromPath[str], endpoint: FromPath[str],
                   resource_id: FromPath[str]) -> Response[bytes]:
    _tenant, _source, service = await _context(request, source)
    document = await service.get(endpoint, resource_id)
    none_match = request.headers.get("if-none-match")
    if none_match and document["meta"]["version"].removeprefix("W/") in {
            t.strip().removeprefix("W/") for t in none_match.split(",")}:
        return Response(b"", status_code=304, headers={"ETag": document["meta"]["version"]})
    params = request.query_params
    projected = project(document, params.get("attributes"), params.get("excludedAttributes"))
    return scim_response(projected, 200, {"ETag": document["meta"]["version"]})


@put(_ONE, opt=_OPT, summary="Replace a SCIM user or group")
async def scim_replace(request: Request[Any, Any, Any], source: FromPath[str], endpoint: FromPath[str],
                       resource_id: FromPath[str]) -> Response[bytes]:
    tenant, record, service = await _context(request, source)
    service.kind(endpoint)
    document = await service.replace(endpoint, resource_id, await _body(request), request.headers.get("if-match"))
    await _after_write(request, tenant, record, service)
    return _with_etag(document)


@patch(_ONE, opt=_OPT, summary="Modify a SCIM user or group (PatchOp)")
async def scim_patch(request: Request[Any, Any, Any], source: FromPath[str], endpoint: FromPath[str],
                     resource_id: FromPath[str]) -> Response[bytes]:
    tenant, record, service = await _context(request, source)
    service.kind(endpoint)
    before = await service.get(endpoint, resource_id)
    document = await service.patch(endpoint, resource_id, await _body(request), request.headers.get("if-match"))
    if document["meta"]["version"] != before["meta"]["version"]:
        await _after_write(request, tenant, record, service)
    return _with_etag(document)


@delete(_ONE, opt=_OPT, summary="Delete a SCIM user or group", status_code=204)
async def scim_delete(request: Request[Any, Any, Any], source: FromPath[str], endpoint: FromPath[str],
                      resource_id: FromPath[str]) -> None:
    tenant, record, service = await _context(request, source)
    await service.delete(endpoint, resource_id, request.headers.get("if-match"))
    await _after_write(request, tenant, record, service)


scim_router = Router(
    path=SCIM_PREFIX,
    route_handlers=[scim_service_provider_config, scim_resource_types, scim_resource_type, scim_schemas,
                    scim_schema, scim_list, scim_create, scim_get, scim_replace, scim_patch, scim_delete],
    exception_handlers={ScimError: _scim_error, HubError: _hub_error, HTTPException: _http_error,
                        Exception: _internal},
    tags=["scim"],
)
