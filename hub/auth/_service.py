"""API clients as a service: create (secret shown once), authenticate, revoke, resolve tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hub.auth._model import DEFAULT_SCOPES, Principal, Role, normalize_scopes
from hub.auth._secrets import generate_client_id, generate_secret, hash_secret, verify_secret
from hub.auth._tokens import IssuedToken, TokenIssuer
from hub.errors import AuthError, ConfigurationError, NotFound
from hub.store import ApiClientRecord, ApiClientStore, Store

__all__ = ["ClientService", "InvalidScope"]


class InvalidScope(AuthError):
    """A token request asked for a scope the client was not granted (OAuth ``invalid_scope``)."""

    code = "invalid-scope"


class ClientService:
    def __init__(self, store: Store, issuer: TokenIssuer) -> None:
        self.store = store
        self.clients = ApiClientStore(store.db)
        self.issuer = issuer

    async def create(self, tenant: str, role: str, *, name: str | None = None,
                     scopes: Iterable[str] | None = None) -> tuple[ApiClientRecord, str]:
        """A new client of ``tenant``; returns it with its secret (shown once, stored hashed)."""
        try:
            role_ = Role(role)
        except ValueError:
            raise ConfigurationError(f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}") from None
        granted = normalize_scopes(scopes) if scopes else DEFAULT_SCOPES[role_]
        record = await self.store.get_tenant(tenant)
        client_id = generate_client_id()
        secret = generate_secret()
        client = await self.clients.create(record, client_id=client_id, name=name or client_id, role=role_.value,
                                           scopes=granted, secret_hash=hash_secret(secret))
        return client, secret

    async def authenticate(self, client_id: str, secret: str) -> ApiClientRecord:
        """The active client with these credentials; AuthError (same message) for any mismatch."""
        try:
            client: ApiClientRecord | None = await self.clients.get(client_id)
        except NotFound:
            client = None
        stored = client.secret_hash if client is not None and client.active else None
        if not verify_secret(secret, stored) or client is None:
            raise AuthError("unknown client or wrong secret")
        return client

    def issue(self, client: ApiClientRecord, requested: Iterable[str] | None = None) -> IssuedToken:
        """A token for ``client``, its scopes narrowed to ``requested`` (InvalidScope if not granted)."""
        scopes = client.scopes
        if requested:
            try:
                wanted = normalize_scopes(requested)
            except ConfigurationError as exc:
                raise InvalidScope(str(exc)) from None
            extra = [s for s in wanted if s not in client.scopes]
            if extra:
                raise InvalidScope(f"scope not granted to this client: {' '.join(extra)}")
            scopes = wanted
        return self.issuer.issue(client_id=client.client_id, tenant=client.tenant.slug, role=client.role, scopes=scopes)

    async def principal(self, token: str) -> tuple[Principal, ApiClientRecord]:
        """The caller behind a bearer token: valid signature and expiry, and a still active client."""
        claims: Mapping[str, Any] = self.issuer.verify(token)
        try:
            client = await self.clients.get(str(claims["sub"]))
        except NotFound:
            raise AuthError("invalid access token: unknown client") from None
        if not client.active:
            raise AuthError("invalid access token: client revoked")
        if client.tenant.slug != claims["tenant"]:
            raise AuthError("invalid access token: tenant mismatch")
        scopes = frozenset(str(claims.get("scope", "")).split()) & frozenset(client.scopes)
        return Principal(client.client_id, client.tenant.slug, client.tenant.id, client.role, scopes), client
