"""The hub's OpenAPI document, completed where Litestar's generation cannot say what is served.

:class:`HubOpenAPIRender` serves ``/schema/openapi.json`` like Litestar's JSON plugin, then

* gives every public operation (``opt={"exclude_from_auth": True}``: health, metrics, the
  discovery routes ...) ``security: []``, so the document no longer claims they need a token
  (the token endpoint keeps its own ``BasicClient`` scheme, credentials may also come in the form);
* describes JSON request bodies with pydantic's own schema of the handler's ``data`` model (Litestar's
  drops ``pattern``, ``additionalProperties: false`` of ``extra="forbid"`` and the bounds of optional fields);
* describes the NodeInfo documents (served as bytes) by the NodeInfo 2.1 schema;
* describes the OneRoster operations from :mod:`hub.oneroster._openapi`: response schemas generated
  from the canonical models in the 1.2 binding, the query parameters, errors as imsx
  ``application/json`` bodies (not problem+json), and the OAuth2 scopes each one needs.
"""

from __future__ import annotations

import copy
import types
import typing
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute
from pydantic import BaseModel

__all__ = ["NODEINFO_SCHEMAS", "HubOpenAPIRender", "complete_document"]

_TOKEN_PATH = "/oauth/token"
_REF = "#/components/schemas/{model}"
_COUNT = {"type": "integer", "minimum": 0}
#: NodeInfo 2.1 (http://nodeinfo.diaspora.software/ns/schema/2.1), as hub.federation serves it
NODEINFO_SCHEMAS: dict[str, dict[str, Any]] = {
    "/.well-known/nodeinfo": {
        "type": "object", "required": ["links"],
        "properties": {"links": {"type": "array", "items": {
            "type": "object", "required": ["rel", "href"],
            "properties": {"rel": {"type": "string"}, "href": {"type": "string"}}}}},
    },
    "/nodeinfo/2.1": {
        "type": "object",
        "required": ["version", "software", "protocols", "services", "openRegistrations", "usage", "metadata"],
        "properties": {
            "version": {"type": "string", "enum": ["2.1"]},
            "software": {"type": "object", "required": ["name", "version"], "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9-]+$"}, "version": {"type": "string"},
                "repository": {"type": "string"}, "homepage": {"type": "string"}}},
            "protocols": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "services": {"type": "object", "required": ["inbound", "outbound"], "properties": {
                "inbound": {"type": "array", "items": {"type": "string"}},
                "outbound": {"type": "array", "items": {"type": "string"}}}},
            "openRegistrations": {"type": "boolean"},
            "usage": {"type": "object", "required": ["users"], "properties": {
                "users": {"type": "object", "properties": {
                    "total": _COUNT, "activeHalfyear": _COUNT, "activeMonth": _COUNT}},
                "localPosts": _COUNT, "localComments": _COUNT}},
            "metadata": {"type": "object"},
        },
    },
}


def _public_operations(request: Request[Any, Any, Any]) -> set[tuple[str, str]]:
    public: set[tuple[str, str]] = set()
    for route in request.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.opt.get("exclude_from_auth"):
                public.update((route.path_format, method.lower()) for method in handler.http_methods)
    return public


def _optional_of(annotation: Any) -> Any:
    """``X`` of an optional body ``X | None``; the annotation itself otherwise."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _request_models(request: Request[Any, Any, Any]) -> dict[tuple[str, str], type[BaseModel]]:
    """(path, method) -> the pydantic model of the handler's ``data``."""
    models: dict[tuple[str, str], type[BaseModel]] = {}
    for route in request.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            model = _optional_of(data.annotation) if data is not None else None
            if isinstance(model, type) and issubclass(model, BaseModel):
                models.update(((route.path_format, method.lower()), model) for method in handler.http_methods)
    return models


def _request_bodies(doc: dict[str, Any], models: dict[tuple[str, str], type[BaseModel]]) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for (path, method), model in models.items():
        op = doc.get("paths", {}).get(path, {}).get(method)
        content = op.get("requestBody", {}).get("content", {}).get("application/json") if op else None
        if content is None:  # a form (the token endpoint) keeps Litestar's description
            continue
        schema = model.model_json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        content["schema"] = {"$ref": _REF.format(model=model.__name__)}


def _nodeinfo(doc: dict[str, Any]) -> None:
    for path, schema in NODEINFO_SCHEMAS.items():
        ok = doc.get("paths", {}).get(path, {}).get("get", {}).get("responses", {}).get("200")
        if ok is not None:
            ok["content"] = {"application/json": {"schema": schema}}


def _oneroster(doc: dict[str, Any]) -> None:
    try:
        from hub.api.oneroster import ONEROSTER_PREFIX
    except ImportError:  # the OneRoster API is not mounted
        return
    from hub.oneroster import openapi_components, openapi_operation, openapi_operations

    doc.setdefault("components", {}).setdefault("schemas", {}).update(openapi_components())
    for path, (resource, collection) in openapi_operations().items():
        op = doc.get("paths", {}).get(ONEROSTER_PREFIX + path, {}).get("get")
        if op is None:
            continue
        described = openapi_operation(resource, collection=collection)
        names = {p["name"] for p in described["parameters"]}
        op["parameters"] = [p for p in op.get("parameters", []) if p.get("name") not in names] + described[
            "parameters"]
        op["responses"] = described["responses"]
        # any one of the scopes will do: one requirement each
        op["security"] = [*({"OAuth2": [scope]} for scope in described["scopes"]), {"BearerAuth": []}]


def complete_document(doc: dict[str, Any], public: set[tuple[str, str]],
                      models: dict[tuple[str, str], type[BaseModel]] | None = None) -> dict[str, Any]:
    """A copy of Litestar's document with public operations, request bodies (``models``: (path, method)
    -> the body's model), NodeInfo and the OneRoster API described."""
    doc = copy.deepcopy(doc)
    _request_bodies(doc, models or {})
    _nodeinfo(doc)
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if (path, method) in public and isinstance(op, dict):
                op["security"] = [{"BasicClient": []}, {}] if path == _TOKEN_PATH else []
    _oneroster(doc)
    return doc


class HubOpenAPIRender(JsonRenderPlugin):
    """``/schema/openapi.json``: Litestar's document, completed by :func:`complete_document`."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, complete_document(openapi_schema, _public_operations(request),
                                                           _request_models(request)))
