"""Router-level exception handlers: every error on the OneRoster API is an ``imsx_StatusInfo`` body."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from hub.api._problems import ProblemException, status_for
from hub.errors import HubError
from hub.oneroster import OneRosterError, status_info

__all__ = ["ONEROSTER_ROOT", "imsx_exception_handlers", "imsx_for_oneroster_paths", "imsx_response"]

#: every path under it is OneRoster's: its errors, routed or not (an unknown path), are imsx bodies
ONEROSTER_ROOT = "/ims/oneroster"

log = logging.getLogger("fediflow.api.oneroster")

_MINOR_BY_STATUS = {400: "invaliddata", 401: "unauthorisedrequest", 403: "forbidden", 404: "unknownobject",
                    429: "server_busy", 503: "server_busy"}


def imsx_response(status: int, code_minor: str, description: str,
                  headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    hdrs = dict(headers or {})
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", 'Bearer realm="fediflow"')
    return Response(status_info(code_minor, description), status_code=status, headers=hdrs)


def _oneroster(_: Request[Any, Any, Any], exc: OneRosterError) -> Response[dict[str, Any]]:
    return imsx_response(exc.http_status, exc.code_minor, exc.message)


def _hub(_: Request[Any, Any, Any], exc: HubError) -> Response[dict[str, Any]]:
    """The hub's one error -> status map (hub.api._problems.status_for), as an imsx body."""
    status = status_for(exc)
    if status >= 500:
        log.warning("oneroster request failed", extra={"error": exc.code, "status": status, "detail": exc.message})
        minor = "server_busy" if status == 503 else "internal_server_error"
        return imsx_response(status, minor, "the request could not be served")
    return imsx_response(status, _MINOR_BY_STATUS.get(status, "invaliddata"), exc.message)


def _problem(_: Request[Any, Any, Any], exc: ProblemException) -> Response[dict[str, Any]]:
    return imsx_response(exc.status, _MINOR_BY_STATUS.get(exc.status, "invaliddata"), exc.detail,
                         headers=dict(exc.headers or {}))


def _invalid_parameters(exc: ValidationException) -> str:
    """Which parameters were refused, by name (never their values)."""
    names = sorted({str(item["key"]) for item in (exc.extra or []) if isinstance(item, dict) and item.get("key")})
    return f"invalid request parameters: {', '.join(names)}" if names else "invalid request parameters"


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        log.error("oneroster server error", extra={"status": status, "detail": exc.detail})
        return imsx_response(status, "internal_server_error", "the request could not be served")
    minor = _MINOR_BY_STATUS.get(status, "invaliddata")
    detail = _invalid_parameters(exc) if isinstance(exc, ValidationException) else str(exc.detail)
    return imsx_response(status, minor, detail, headers=dict(exc.headers or {}))


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("oneroster request crashed", exc_info=exc)
    return imsx_response(500, "internal_server_error", "the request could not be served")


def imsx_exception_handlers() -> dict[Any, Any]:
    return {
        OneRosterError: _oneroster,
        HubError: _hub,
        ProblemException: _problem,
        HTTPException: _http,
        Exception: _unexpected,
    }


def _is_oneroster(path: str) -> bool:
    return path == ONEROSTER_ROOT or path.startswith(ONEROSTER_ROOT + "/")


def imsx_for_oneroster_paths(app_handlers: dict[Any, Any]) -> dict[Any, Any]:
    """The app-level exception handlers, answering imsx bodies for paths under ``/ims/oneroster``.

    Router-level handlers only see requests that matched a route; an unknown path (404) or method
    (405) under the OneRoster root reaches the app's handlers, which would answer a problem+json.
    """
    imsx = imsx_exception_handlers()
    out: dict[Any, Any] = {}
    for key, handler in app_handlers.items():

        def chosen(request: Request[Any, Any, Any], exc: Exception, _app: Any = handler) -> Any:
            if _is_oneroster(request.url.path):
                for kind, fn in imsx.items():  # most specific first, as in imsx_exception_handlers
                    if isinstance(exc, kind):
                        return fn(request, exc)
            return _app(request, exc)

        out[key] = chosen
    return out
