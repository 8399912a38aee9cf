"""The HTTP edge of hub.oneroster: one GET handler per OneRoster 1.2 rostering endpoint.

Handlers are generated from the endpoint catalogue (:data:`hub.oneroster.RESOURCES` and
:data:`hub.oneroster.RELATIONS`), so the catalogue is the single list of what is served. Each
handler reads its tenant through the ``tenant_store`` dependency only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from litestar import Request, Response, Router, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import QueryParameter

from hub.api.deps import HubDep, TenantStoreDep
from hub.api.guards import require_scopes
from hub.api.oneroster._errors import imsx_exception_handlers
from hub.context import Hub
from hub.oneroster import (
    RELATIONS,
    RESOURCES,
    ListParams,
    Page,
    Relation,
    Resource,
    RosterQuery,
    parse_references,
)

__all__ = ["ONEROSTER_PREFIX", "oneroster_router"]

ONEROSTER_PREFIX = "/ims/oneroster/rostering/v1p2"
_PASSTHROUGH = ("filter", "sort", "orderBy", "fields", "references")

#: documents the ``references`` parameter (parsed with the others by hub.oneroster.ListParams)
References = Annotated[Literal["valid", "all"] | None, QueryParameter(
    description="'valid' (default): no record refers to an object that is not there - a dangling optional "
                "reference is dropped, a record whose required reference (an enrollment's class or user ...) "
                "is missing or tobedeleted is left out; 'all': records as stored.",
    required=False)]


def _service_root(request: Request[Any, Any, Any], hub: Hub) -> str:
    """The service root in hrefs: the configured public URL, else the URL the request came to."""
    return (hub.settings.api.public_url.rstrip("/") or str(request.base_url).rstrip("/")) + ONEROSTER_PREFIX


def _params(request: Request[Any, Any, Any], hub: Hub) -> ListParams:
    return ListParams.from_query(_query(request), max_limit=hub.settings.api.max_page_size)


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    params = request.query_params
    return {key: params.get(key) for key in params}  # first value of each


def _links(request: Request[Any, Any, Any], page: Page) -> str:
    """RFC 8288 ``Link`` header: first, prev, next and last pages of the same query."""
    base = str(request.base_url).rstrip("/") + request.url.path
    kept = {k: v for k, v in _query(request).items() if k in _PASSTHROUGH}

    def url(offset: int) -> str:
        return f"{base}?{urlencode({**kept, 'limit': page.limit, 'offset': offset})}"

    last = max(0, ((page.total - 1) // page.limit) * page.limit) if page.total else 0
    links = [f'<{url(0)}>; rel="first"']
    if page.offset > 0:  # past the end, "prev" is the last page (never another empty one)
        links.append(f'<{url(min(max(0, page.offset - page.limit), last))}>; rel="prev"')
    if page.offset + page.limit < page.total:
        links.append(f'<{url(page.offset + page.limit)}>; rel="next"')
    links.append(f'<{url(last)}>; rel="last"')
    return ", ".join(links)


def _page_response(request: Request[Any, Any, Any], resource: Resource, page: Page) -> Response[Any]:
    return Response(
        {resource.plural: page.records},
        headers={"X-Total-Count": str(page.total), "Link": _links(request, page)},
    )


def _op_name(text: str) -> str:
    return text[:1].upper() + text[1:]


def _collection_handler(resource: Resource) -> HTTPRouteHandler:
    async def handler(request: Request[Any, Any, Any], tenant_store: TenantStoreDep, hub: HubDep,
                      references: References = None) -> Response[Any]:
        params = _params(request, hub)
        page = await RosterQuery(tenant_store, _service_root(request, hub)).list(resource.path, params)
        return _page_response(request, resource, page)

    handler.__name__ = f"get_all_{resource.path}"
    return get(
        f"/{resource.path}",
        guards=[require_scopes(*resource.scopes)],
        operation_id=f"getAll{_op_name(resource.path)}",
        summary=f"All {resource.path}",
        description=f"A page of {resource.path} (envelope `{resource.plural}`), with filter, sort, orderBy, "
                    "fields, limit and offset; X-Total-Count and Link headers.",
        tags=["OneRoster"],
    )(handler)


def _single_handler(resource: Resource) -> HTTPRouteHandler:
    async def handler(request: Request[Any, Any, Any], tenant_store: TenantStoreDep, hub: HubDep,
                      references: References = None) -> Response[Any]:
        sourced_id = request.path_params["sourced_id"]
        query = RosterQuery(tenant_store, _service_root(request, hub))
        record = await query.get(resource.path, sourced_id, request.query_params.get("fields"),
                                 parse_references(references))
        return Response({resource.singular: record})

    handler.__name__ = f"get_{resource.path}_one"
    return get(
        f"/{resource.path}/{{sourced_id:str}}",
        guards=[require_scopes(*resource.scopes)],
        operation_id=f"get{_op_name(resource.singular)}From{_op_name(resource.path)}",
        summary=f"One record of {resource.path}",
        description=f"Envelope `{resource.singular}`; 404 imsx `unknownobject` when absent.",
        tags=["OneRoster"],
    )(handler)


def _relation_handler(relation: Relation) -> HTTPRouteHandler:
    resource = relation.resource
    param_names = [name for _, name in relation.parents]

    async def handler(request: Request[Any, Any, Any], tenant_store: TenantStoreDep, hub: HubDep,
                      references: References = None) -> Response[Any]:
        ids = [request.path_params[name] for name in param_names]
        params = _params(request, hub)
        page = await RosterQuery(tenant_store, _service_root(request, hub)).list_related(relation, ids, params)
        return _page_response(request, resource, page)

    path = "/" + "/".join(f"{res}/{{{name}:str}}" for res, name in relation.parents) + "/" + relation.segment
    name = "_".join([*(res for res, _ in relation.parents), relation.segment])
    handler.__name__ = f"get_{name}"
    parents = "".join(_op_name(res) for res, _ in relation.parents)
    return get(
        path,
        guards=[require_scopes(*resource.scopes)],
        operation_id=f"get{_op_name(relation.segment)}For{parents}",
        summary=f"{relation.segment} of {' / '.join(res for res, _ in relation.parents)}",
        description=f"Envelope `{resource.plural}`; 404 imsx `unknownobject` when a parent does not exist.",
        tags=["OneRoster"],
    )(handler)


def _handlers() -> list[HTTPRouteHandler]:
    handlers: list[HTTPRouteHandler] = []
    for resource in RESOURCES.values():
        handlers += [_collection_handler(resource), _single_handler(resource)]
    handlers += [_relation_handler(relation) for relation in RELATIONS]
    return handlers


oneroster_router = Router(
    path=ONEROSTER_PREFIX,
    route_handlers=_handlers(),
    exception_handlers=imsx_exception_handlers(),
    tags=["OneRoster"],
)
