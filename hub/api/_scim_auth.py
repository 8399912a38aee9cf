"""Who calls the SCIM API, which source it pushes to, and that source's rate limit.

SCIM authenticates here rather than in the API's bearer middleware, so that identity providers
that cannot refresh OAuth tokens work and every error is a SCIM error. Accepted:
``Bearer <access token>`` (as the rest of the API), ``Bearer <client_id>.<client_secret>`` (a
long-lived token to paste into the IdP) or HTTP Basic with the client's id and secret. The
client must be ``admin`` or ``integrator`` of the tenant owning the source; another tenant's
source is 404.

Secrets are checked against the client's row on every request (scrypt is skipped for a pair this
process verified before, :class:`hub.auth.VerifiedSecrets`), so a revoked client or a rotated
secret stops working at once on every node. Failed logins count against the caller's address
(``auth-failures`` budget); the requests of a known caller count against its source (``scim``).
The authenticated client is put in the request scope (``user``), so access log lines name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from hub.api._ratelimit import AUTH_FAILURES, SCIM, Verdict, remote_address, request_limiter
from hub.api._scim_errors import SCIM_PREFIX
from hub.auth import ClientService, Principal, Role
from hub.errors import AuthError, NotFound
from hub.scim import ScimError, ScimRepository, ScimService
from hub.store import ApiClientRecord, SourceRecord, TenantStore

__all__ = ["PUSH_CONNECTOR", "ScimContext", "scim_context"]

PUSH_CONNECTOR = "scim_push"
_WRITE_ROLES = frozenset({Role.ADMIN.value, Role.INTEGRATOR.value})


@dataclass(frozen=True, slots=True)
class ScimContext:
    """One SCIM request's caller, tenant, source and the service over that source's resources."""

    client: ApiClientRecord
    tenant: TenantStore
    source: SourceRecord
    service: ScimService
    limit: Verdict


def _too_many(verdict: Verdict, who: str) -> ScimError:
    return ScimError(
        429,
        f"rate limit of {verdict.limit} requests per minute for {who} exceeded; retry in {verdict.reset} s",
        headers=verdict.headers(),
    )


async def _authenticate(request: Request[Any, Any, Any]) -> ApiClientRecord:
    """The caller, through the hub's one authentication (:meth:`hub.auth.ClientService.caller`)."""
    header = request.headers.get("authorization", "")
    if not header:
        raise ScimError(401, "authentication required: Authorization: Bearer <token> or Basic")
    service: ClientService = request.app.state.clients
    try:
        _principal, client = await service.caller(header, basic=True)
    except AuthError as exc:
        raise ScimError(401, str(exc)) from None
    return client


async def _client(request: Request[Any, Any, Any]) -> ApiClientRecord:
    limiter = request_limiter(request)
    address = remote_address(request.scope)
    failures = await limiter.peek(AUTH_FAILURES, address)
    if not failures.allowed:
        raise _too_many(failures, f"failed logins from {address}")
    try:
        client = await _authenticate(request)
    except ScimError:
        await limiter.hit(AUTH_FAILURES, address)
        raise
    request.scope["user"] = Principal(
        client.client_id, client.tenant.slug, client.tenant.id, client.role, frozenset(client.scopes)
    )
    if client.role not in _WRITE_ROLES:
        raise ScimError(403, f"role {client.role!r} may not provision users (needs admin or integrator)")
    return client


async def scim_context(request: Request[Any, Any, Any], source_name: str) -> ScimContext:
    """Authenticate, find the caller's ``scim_push`` source ``source_name`` and count the request."""
    client = await _client(request)
    hub = request.app.state.hub
    tenant = TenantStore(hub.store, client.tenant)
    try:
        source = await tenant.get_source(source_name)
    except NotFound:
        raise ScimError(404, f"no SCIM source {source_name!r} in this tenant") from None
    if source.connector != PUSH_CONNECTOR:
        raise ScimError(
            404, f"no SCIM source {source_name!r} in this tenant (it is a {source.connector} source)"
        )
    verdict = await request_limiter(request).hit(SCIM, f"{tenant.tenant_id}:{source.id}")
    if not verdict.allowed:
        raise _too_many(verdict, f"SCIM source {source.name!r}")
    if not source.enabled:
        raise ScimError(403, f"source {source_name!r} is disabled")
    config = await tenant.source_config(source, hub.plugins.connector(PUSH_CONNECTOR).config_model)
    store_key = config.store_key.get_secret_value()  # type: ignore[attr-defined]
    base = str(request.base_url).rstrip("/") + f"{SCIM_PREFIX}/{source.name}"
    repo = ScimRepository(hub.db, tenant.tenant_id, source.id, store_key)
    return ScimContext(client, tenant, source, ScimService(repo, base), verdict)
