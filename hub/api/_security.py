"""Authentication: the bearer-token middleware, the per-request dependencies and the token endpoint.

Every route is authenticated unless its handler sets ``opt={"exclude_from_auth": True}``
(health, metrics, the token endpoint) or it is the OpenAPI document. The middleware resolves the
token to a :class:`~hub.auth.Principal` (``request.user``) and the client record
(``request.auth``, which carries the tenant). ``provide_tenant_store`` is the one place where a
request gets its tenant-scoped store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import URLEncodedBody

from hub.api._problems import ProblemException, problem_responses
from hub.auth import ClientService, InvalidScope, Principal, parse_basic, split_authorization
from hub.context import Hub
from hub.errors import AuthError
from hub.store import ApiClientRecord, TenantStore

__all__ = ["BearerAuthMiddleware", "provide_hub", "provide_principal", "provide_tenant_store", "token_endpoint"]


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        if not header:
            raise ProblemException(401, "this endpoint needs a bearer access token (POST /oauth/token)")
        service: ClientService = connection.app.state.clients
        principal, client = await service.caller(header)
        return AuthenticationResult(user=principal, auth=client)


def provide_hub(state: State) -> Hub:
    return state.hub  # type: ignore[no-any-return]


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise AuthError("authentication required")
    return user


def provide_tenant_store(request: Request[Any, Any, Any], hub: NamedDependency[Hub]) -> TenantStore:
    """The caller's tenant-scoped store: the only way handlers reach tenant data."""
    client = request.scope.get("auth")
    if not isinstance(client, ApiClientRecord):
        raise AuthError("authentication required")
    return TenantStore(hub.store, client.tenant)


# --- OAuth 2.0 token endpoint (RFC 6749 §4.4, errors §5.2) ---------------------------------


@dataclass
class TokenRequest:
    """Form fields of a client credentials token request (client credentials may come by HTTP Basic)."""

    grant_type: str | None = None
    scope: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


@dataclass
class TokenResponse:
    access_token: str
    token_type: str
    expires_in: int
    scope: str


@dataclass
class OAuthError:
    error: str
    error_description: str | None = None


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(error: str, description: str, status: int = 400) -> Response[OAuthError]:
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="fediflow"'
    return Response(OAuthError(error, description), status_code=status, headers=headers)


def _bad_form(_: Request[Any, Any, Any], exc: ValidationException) -> Response[OAuthError]:
    return _oauth_error("invalid_request", "the body must be application/x-www-form-urlencoded token request fields")


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, credentials = split_authorization(header)
    return parse_basic(credentials) if scheme == "basic" else None


@post(
    "/oauth/token",
    tags=["auth"],
    summary="Get an access token (OAuth 2.0 client credentials)",
    status_code=200,
    opt={"exclude_from_auth": True},
    security=[{"BasicClient": []}],
    request_max_body_size=16 * 1024,
    exception_handlers={ValidationException: _bad_form},
    responses={
        400: ResponseSpec(OAuthError, description="invalid_request, unsupported_grant_type or invalid_scope",
                          generate_examples=False),
        401: ResponseSpec(OAuthError, description="invalid_client: unknown client or wrong secret",
                          generate_examples=False),
        **problem_responses(413, 429, 500),
    },
)
async def token_endpoint(
    request: Request[Any, Any, Any],
    data: URLEncodedBody[TokenRequest],
) -> Response[TokenResponse | OAuthError]:
    """Exchange client credentials (HTTP Basic, or ``client_id``/``client_secret`` form fields) for a
    short-lived bearer token. ``scope`` may narrow the client's granted scopes."""
    try:
        basic = _basic_credentials(request.headers.get("authorization", ""))
    except AuthError as exc:
        return _oauth_error("invalid_client", str(exc), 401)
    if basic is not None and (data.client_id or data.client_secret):
        return _oauth_error("invalid_request", "send the client credentials one way only (Basic or form fields)")
    client_id, secret = basic or (data.client_id, data.client_secret)
    if not data.grant_type:
        return _oauth_error("invalid_request", "grant_type is required")
    if data.grant_type != "client_credentials":
        return _oauth_error("unsupported_grant_type", "only grant_type=client_credentials is supported")
    if not client_id or not secret:
        return _oauth_error("invalid_client", "client authentication is required", 401)
    service: ClientService = request.app.state.clients
    try:
        client = await service.authenticate(client_id, secret)
    except AuthError:
        return _oauth_error("invalid_client", "unknown client or wrong secret", 401)
    try:
        issued = service.issue(client, data.scope.split() if data.scope else None)
    except InvalidScope as exc:
        return _oauth_error("invalid_scope", str(exc))
    return Response(TokenResponse(issued.access_token, "Bearer", issued.expires_in, issued.scope), headers=_NO_STORE)
