"""RFC 9457 problem details: one translation of every error into ``application/problem+json``.

:func:`exception_handlers` is registered on the app. Litestar resolves exception handlers from
the innermost layer out (handler, controller, router, app), so a router that needs another error
body (the OneRoster API's ``imsx_StatusInfo``) registers its own handlers and they win for its
routes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from hub.errors import (
    AuthError,
    ConfigurationError,
    Conflict,
    ConnectorError,
    Forbidden,
    HubError,
    MappingError,
    NotFound,
    RecordError,
    SourceDataError,
    StoreError,
    UploadRefused,
    UploadTooLarge,
)
from hub.logging import request_id_var

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldProblem",
    "Problem",
    "ProblemException",
    "exception_handlers",
    "problem_response",
    "problem_responses",
    "status_for",
]

log = logging.getLogger("fediflow.api")
PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_PREFIX = "urn:fediflow:problem:"
#: (class, status) from the most specific to the least; the first isinstance match wins
_STATUS: tuple[tuple[type[HubError], int], ...] = (
    (Forbidden, 403),
    (AuthError, 401),
    (NotFound, 404),
    (Conflict, 409),
    (SourceDataError, 422),
    (ConnectorError, 502),
    (ConfigurationError, 422),
    (MappingError, 422),
    (RecordError, 422),
    (StoreError, 503),
    (UploadTooLarge, 413),
    (UploadRefused, 422),
)
_TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
}
_BEARER = 'Bearer realm="fediflow"'


@dataclass
class FieldProblem:
    """One invalid input: where (``field``: a dotted path; ``source``: body, query, path, header) and why."""

    field: str
    message: str
    source: str | None = None


@dataclass
class Problem:
    """RFC 9457 problem details, plus the request id and, for invalid input, the field errors."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None


class ProblemException(Exception):
    """Raise from a handler to answer with a specific problem (status, detail, field errors)."""

    def __init__(self, status: int, detail: str, *, code: str | None = None,
                 errors: list[FieldProblem] | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.errors = errors
        self.headers = dict(headers or {})


def status_for(exc: HubError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def problem_response(request: Request[Any, Any, Any] | None, status: int, detail: str | None, *,
                     code: str | None = None, errors: list[FieldProblem] | None = None,
                     headers: Mapping[str, str] | None = None) -> Response[Problem]:
    body = Problem(
        type=_TYPE_PREFIX + code if code else "about:blank",
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        request_id=request_id_var.get(),
        errors=errors,
    )
    hdrs = dict(headers or {})
    if status == 401 and "www-authenticate" not in {k.lower() for k in hdrs}:
        hdrs["WWW-Authenticate"] = f'{_BEARER}, error="invalid_token"' if code else _BEARER
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=hdrs)


def _hub_error(request: Request[Any, Any, Any], exc: HubError) -> Response[Problem]:
    status = status_for(exc)
    headers = {}
    if isinstance(exc, Forbidden):
        headers["WWW-Authenticate"] = f'{_BEARER}, error="insufficient_scope"'
    if status >= 500:
        log.warning("request failed", extra={"status": status, "error": exc.code, "detail": str(exc)})
    return problem_response(request, status, str(exc), code=exc.code, headers=headers)


def _problem(request: Request[Any, Any, Any], exc: ProblemException) -> Response[Problem]:
    return problem_response(request, exc.status, exc.detail, code=exc.code, errors=exc.errors, headers=exc.headers)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, Mapping):
            errors.append(FieldProblem(str(item.get("key") or ""), str(item.get("message") or "invalid"),
                                       str(item["source"]) if item.get("source") else None))
    return problem_response(request, 400, exc.detail or "invalid request", code="invalid-request",
                            errors=errors or None)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 429:
        reset = next((v for k, v in headers.items() if k.lower() == "ratelimit-reset"), None)
        headers["Retry-After"] = str(max(1, int(reset))) if reset and reset.lstrip("-").isdigit() else "60"
    detail = exc.detail if exc.detail and exc.detail != _TITLES.get(status) else None
    if status >= 500:
        log.error("server error", extra={"status": status, "detail": exc.detail})
        detail = None
    return problem_response(request, status, detail, headers=headers)


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.error("unhandled error", exc_info=(type(exc), exc, exc.__traceback__),
              extra={"path": request.url.path, "method": request.method})
    return problem_response(request, 500, "an unexpected error occurred; quote the request id when reporting it",
                            code="internal-error")


def exception_handlers() -> dict[type[Exception] | int, Any]:
    """The problem+json handlers for an app or router."""
    return {
        HubError: _hub_error,
        ProblemException: _problem,
        ValidationException: _validation,
        HTTPException: _http,
        Exception: _internal,
    }


_DESCRIPTIONS = {
    400: "Malformed request: bad JSON, unknown fields or invalid parameters (field errors listed)",
    401: "Missing, invalid or expired access token",
    403: "The client's role or scopes do not allow this",
    404: "No such resource in the caller's tenant",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Well-formed but invalid (connector config, mapping, name)",
    429: "Rate limit exceeded; see Retry-After",
    500: "Unexpected error (details are logged with the request id)",
    502: "The upstream system failed",
    503: "The database is unavailable",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response specs (problem+json) for ``statuses``."""
    return {
        status: ResponseSpec(data_container=Problem, description=_DESCRIPTIONS.get(status, _TITLES.get(status, "Error")),
                             media_type=PROBLEM_MEDIA_TYPE, generate_examples=False)
        for status in statuses
    }


