"""The hub's OpenAPI document, completed where Litestar's generation cannot say what is served.

:class:`HubOpenAPIRender` serves ``/schema/openapi.json`` like Litestar's JSON plugin, then

* gives every public operation (``opt={"exclude_from_auth": True}``: health, metrics, the
  discovery routes ...) ``security: []``, so the document no longer claims they need a token
  (the token endpoint keeps its own ``BasicClient`` scheme, credentials may also come in the form);
* describes the OneRoster operations from :mod:`hub.oneroster._openapi`: response schemas generated
  from the canonical models in the 1.2 binding, the query parameters, errors as imsx
  ``application/json`` bodies (not problem+json), and the OAuth2 scopes each one needs.
"""

from __future__ import annotations

import copy
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

__all__ = ["HubOpenAPIRender", "complete_document"]

_TOKEN_PATH = "/oauth/token"


def _public_operations(request: Request[Any, Any, Any]) -> set[tuple[str, str]]:
    public: set[tuple[str, str]] = set()
    for route in request.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.opt.get("exclude_from_auth"):
                public.update((route.path_format, method.lower()) for method in handler.http_methods)
    return public


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


def complete_document(doc: dict[str, Any], public: set[tuple[str, str]]) -> dict[str, Any]:
    """A copy of Litestar's document with public operations and the OneRoster API described."""
    doc = copy.deepcopy(doc)
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if (path, method) in public and isinstance(op, dict):
                op["security"] = [{"BasicClient": []}, {}] if path == _TOKEN_PATH else []
    _oneroster(doc)
    return doc


class HubOpenAPIRender(JsonRenderPlugin):
    """``/schema/openapi.json``: Litestar's document, completed by :func:`complete_document`."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, complete_document(openapi_schema, _public_operations(request)))
