"""The app factory: a Litestar app for one :class:`~hub.context.Hub`.

Layout::

    /oauth/token                 token endpoint (client credentials)
    /api/v1/...                  management API (tenants, sources, connectors, mappings, runs,
                                 changes, entities)
    /api/v1/plugins/...          routes of plugins (``register_api_routes``)
    /ims/oneroster/...           OneRoster 1.2 (hub.api.oneroster, when present)
    /scim/v2/{source}/...        SCIM 2.0 server of scim_push sources (hub.api._scim, own auth)
    /health/live /health/ready   health (no auth)
    /metrics                     Prometheus (no auth)
    /schema/openapi.json         OpenAPI 3.1

Every route except health, metrics, the token endpoint and the schema needs a bearer token.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, OAuthFlow, OAuthFlows, SecurityScheme
from litestar.routes import HTTPRoute

from hub.api._admin import MappingController, TenantController
from hub.api._data import ChangeController, EntityController, RunController
from hub.api._federation import federation_routes
from hub.api._observability import Metrics, RequestContext, live, metrics_endpoint, ready
from hub.api._openapi import HubOpenAPIRender
from hub.api._problems import exception_handlers, problem_responses
from hub.api._ratelimit import STORE_NAME, RateLimitMiddleware, rate_limit_store, rate_limiter
from hub.api._runner import RunLauncher
from hub.api._schedules import schedules_router
from hub.api._scim import scim_router, scim_shutdown
from hub.api._scim_errors import ScimErrorEnvelope
from hub.api._security import (
    BearerAuthMiddleware,
    provide_hub,
    provide_principal,
    provide_tenant_store,
    token_endpoint,
)
from hub.api._sources import ConnectorController, SourceController
from hub.api._stream import change_stream
from hub.api._uploads import UploadController
from hub.api._webhooks import webhooks_router
from hub.auth import ALL_SCOPES, client_service
from hub.context import Hub

__all__ = ["API_PREFIX", "create_app"]

log = logging.getLogger("fediflow.api")
API_PREFIX = "/api/v1"
_PROTECTED_DEFAULTS = (400, 401, 403, 404, 429, 500)
_PUBLIC_DEFAULTS = (400, 429, 500)


def _optional_oneroster() -> list[Any]:
    try:
        from hub.api.oneroster import oneroster_router  # type: ignore[attr-defined]
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("hub.api.oneroster"):
            return []
        raise
    except ImportError as exc:  # package there, router not yet
        log.warning("OneRoster API not mounted", extra={"error": str(exc)})
        return []
    return [oneroster_router]


def _exception_handlers() -> dict[Any, Any]:
    """problem+json everywhere, except under /ims/oneroster (unknown paths included): imsx bodies."""
    handlers = exception_handlers()
    if not _optional_oneroster():
        return handlers
    from hub.api.oneroster import imsx_for_oneroster_paths

    return imsx_for_oneroster_paths(handlers)


def _plugin_router(hub: Hub) -> list[Router]:
    handlers = [handler for _plugin, handler in hub.plugins.api_routes()]
    return [Router(path=f"{API_PREFIX}/plugins", route_handlers=handlers, tags=["plugins"])] if handlers else []


def _document_errors(app: Litestar) -> None:
    """Give every operation the problem responses it can return, unless it documents them itself."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            public = bool(handler.opt.get("exclude_from_auth"))
            defaults = problem_responses(*(_PUBLIC_DEFAULTS if public else _PROTECTED_DEFAULTS))
            handler.responses = {**defaults, **(handler.responses or {})}


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="FediFlow hub API",
        version="1",
        description="Management API, OneRoster 1.2 API and operations endpoints of a FediFlow hub. "
                    "Errors are RFC 9457 problem details (application/problem+json), except on the "
                    "OneRoster API (/ims/oneroster), whose errors are imsx_StatusInfo bodies (application/json).",
        path="/schema",
        render_plugins=[HubOpenAPIRender()],
        components=Components(
            security_schemes={
                "BearerAuth": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT",
                                             description="Access token from POST /oauth/token"),
                "OAuth2": SecurityScheme(
                    type="oauth2",
                    flows=OAuthFlows(client_credentials=OAuthFlow(
                        token_url="/oauth/token", scopes={s: s.rsplit("/", 1)[-1] for s in ALL_SCOPES})),
                ),
                "BasicClient": SecurityScheme(type="http", scheme="basic",
                                              description="client_id and client_secret (token endpoint only)"),
            }
        ),
        security=[{"BearerAuth": []}, {"OAuth2": []}],
    )


def create_app(hub: Hub, *, extra_routers: Sequence[Any] = (), run_syncs: bool = True) -> Litestar:
    """The API app for ``hub``.

    ``extra_routers`` are mounted as given (authenticated like everything else). ``run_syncs``:
    whether syncs queued through the API run in this process (role ``all``) or stay queued for a
    worker (role ``api``).
    """
    settings = hub.settings
    clients = client_service(hub)  # fails early (ConfigurationError) when there is no key to sign tokens
    metrics = Metrics()
    runner = RunLauncher(hub, execute=run_syncs)
    limit_store = rate_limit_store(settings.api)
    management = Router(
        path=API_PREFIX,
        route_handlers=[TenantController, SourceController, ConnectorController, MappingController,
                        RunController, ChangeController, EntityController, UploadController],
    )

    async def on_shutdown() -> None:
        await scim_shutdown(app.state)
        await runner.shutdown()
        await hub.db.dispose()  # close pooled connections on the loop that opened them

    app = Litestar(
        route_handlers=[
            token_endpoint, live, ready, metrics_endpoint, management, schedules_router,
            *_plugin_router(hub), *_optional_oneroster(), *federation_routes(hub), scim_router,
            webhooks_router, change_stream, *extra_routers,
        ],
        dependencies={
            "hub": Provide(provide_hub, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
            "tenant_store": Provide(provide_tenant_store, sync_to_thread=False),
        },
        middleware=[
            DefineMiddleware(BearerAuthMiddleware, exclude=["^/schema"]),
            RateLimitMiddleware(),
        ],
        exception_handlers=_exception_handlers(),
        stores={STORE_NAME: limit_store},
        request_max_body_size=settings.api.request_max_body_bytes,
        openapi_config=_openapi(),
        state=State({"hub": hub, "clients": clients, "metrics": metrics, "runner": runner,
                     "rate_limiter": rate_limiter(settings.api, limit_store)}),
        on_shutdown=[on_shutdown],
        logging_config=None,
        debug=False,
    )
    _document_errors(app)
    app.asgi_handler = RequestContext(ScimErrorEnvelope(app.asgi_handler), metrics)
    return app
