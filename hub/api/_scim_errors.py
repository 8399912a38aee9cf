"""Every SCIM answer's envelope: ``application/scim+json`` bodies and SCIM Error documents.

Errors raised by the SCIM handlers are translated by :func:`scim_exception_handlers` (the SCIM
router's handlers). What Litestar answers before a SCIM handler runs (an unknown path under
``/scim/v2``: 404, a method a path does not take: 405, a body over the size limit: 413) is a
problem detail of the app's handler; :class:`ScimErrorEnvelope`, wrapped around the app, turns
those into the same SCIM Error (RFC 7644 §3.12: ``urn:ietf:params:scim:api:messages:2.0:Error``,
``status`` as a string, ``scimType`` where the RFC defines one), keeping ``Retry-After``,
``Allow`` and ``WWW-Authenticate``. Nothing under ``/scim/v2`` answers ``application/problem+json``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from hub.api._problems import status_for
from hub.errors import HubError, StoreError
from hub.scim import ScimError, error_body

__all__ = [
    "SCIM_MEDIA_TYPE",
    "SCIM_PREFIX",
    "ScimErrorDocument",
    "ScimErrorEnvelope",
    "scim_error",
    "scim_error_responses",
    "scim_exception_handlers",
    "scim_response",
]

log = logging.getLogger("fediflow.api.scim")
SCIM_PREFIX = "/scim/v2"
SCIM_MEDIA_TYPE = "application/scim+json"
_KEPT_HEADERS = ("retry-after", "allow", "www-authenticate")


@dataclass
class ScimErrorDocument:
    """RFC 7644 §3.12 error (for the OpenAPI document; bodies are built by :func:`hub.scim.error_body`)."""

    schemas: list[str]
    status: str
    scimType: str | None = None  # the RFC's attribute name
    detail: str | None = None


_DESCRIPTIONS = {
    400: "invalidFilter, invalidSyntax, invalidPath, invalidValue, noTarget, mutability",
    401: "no, bad or revoked credentials",
    403: "the client's role may not provision, or the source is disabled",
    404: "no such source, resource type or resource in the caller's tenant",
    405: "method not allowed here",
    409: "uniqueness",
    412: "If-Match does not match the resource's version",
    413: "body too large",
    429: "the SCIM source's rate limit (or the address's failed logins); see Retry-After",
    500: "unexpected error",
    501: "not implemented (/Bulk, /Me)",
}


def scim_error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response specs (SCIM Error, ``application/scim+json``) for ``statuses``."""
    return {
        status: ResponseSpec(
            data_container=ScimErrorDocument,
            description=_DESCRIPTIONS.get(status, "error"),
            media_type=SCIM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


def scim_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    return Response(content, status_code=status, media_type=SCIM_MEDIA_TYPE, headers=headers or {})


def scim_error(
    status: int, detail: str | None, scim_type: str | None = None, headers: dict[str, str] | None = None
) -> Response[bytes]:
    extra = dict(headers or {})
    if status == 401:
        extra.setdefault("WWW-Authenticate", 'Bearer realm="fediflow-scim"')
    return scim_response(error_body(status, detail, scim_type), status, extra)


def _scim_error(_: Request[Any, Any, Any], exc: ScimError) -> Response[bytes]:
    return scim_error(exc.status, exc.message, exc.scim_type, exc.headers)


def _hub_error(_: Request[Any, Any, Any], exc: HubError) -> Response[bytes]:
    """The hub's one error -> status map (:func:`hub.api._problems.status_for`), as a SCIM Error.

    RFC 7644 §3.12 has no 422: invalid input is ``400`` with ``scimType: invalidValue``.
    """
    status = status_for(exc)
    if status == 422:
        return scim_error(400, str(exc), "invalidValue")
    if status >= 500:
        log.warning("scim request failed", extra={"error": str(exc), "code": exc.code, "status": status})
    if isinstance(exc, StoreError):
        return scim_error(status, "the database is unavailable; try again later")
    return scim_error(status, str(exc))


def _kept(headers: Any) -> dict[str, str]:
    return {k: v for k, v in dict(headers or {}).items() if k.lower() in _KEPT_HEADERS}


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if status >= 500:
        log.error("scim server error", extra={"status": status, "detail": exc.detail})
        return scim_error(status, "an unexpected error occurred")
    return scim_error(status, exc.detail, "invalidValue" if status == 400 else None, _kept(exc.headers))


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.error(
        "unhandled scim error",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"path": request.url.path, "method": request.method},
    )
    return scim_error(500, "an unexpected error occurred")


def scim_exception_handlers() -> dict[type[Exception] | int, Any]:
    """The SCIM router's handlers: every error a SCIM Error document."""
    return {ScimError: _scim_error, HubError: _hub_error, HTTPException: _http_error, Exception: _internal}


class ScimErrorEnvelope:
    """ASGI wrapper: a problem-details answer to a request under ``/scim/v2`` becomes a SCIM Error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != SCIM_PREFIX and not path.startswith(SCIM_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                content_type = next(
                    (v for k, v in message.get("headers", []) if k.lower() == b"content-type"), b""
                )
                if content_type.startswith(b"application/problem+json"):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await self._rewrite(held, b"".join(chunks), send)
                return
            await send(message)

        await self.app(scope, receive, wrapped)

    @staticmethod
    async def _rewrite(start: Message, body: bytes, send: Send) -> None:
        status = int(start["status"])
        try:
            problem = json.loads(body)
        except ValueError:
            problem = {}
        detail = problem.get("detail") if isinstance(problem, dict) else None
        if status == 404 and not detail:
            detail = "no such SCIM endpoint"
        elif status == 405 and not detail:
            detail = "this SCIM endpoint does not take that method"
        content = json.dumps(error_body(status, detail, "invalidValue" if status == 400 else None)).encode()
        headers = [
            (k, v)
            for k, v in start.get("headers", [])
            if k.lower().decode("latin-1") in (*_KEPT_HEADERS, "x-request-id")
            or k.lower().startswith(b"ratelimit-")
        ]
        headers += [
            (b"content-type", SCIM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(content)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content, "more_body": False})
