"""API clients as a service: create (secret shown once), authenticate, revoke, resolve tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hub.auth._credentials import parse_basic, split_authorization
from hub.auth._model import DEFAULT_SCOPES, Principal, Role, normalize_scopes
from hub.auth._secrets import VerifiedSecrets, generate_client_id, generate_secret, hash_secret, verify_secret
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
        #: secrets verified by this process (scrypt skipped on a repeat; see authenticate)
        self.verified = VerifiedSecrets()

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

    async def authenticate(self, client_id: str, secret: str, *, remember: bool = False) -> ApiClientRecord:
        """The active client with these credentials; AuthError (same message) for any mismatch.

        The client's row is read every time, so a revoked client or a rotated secret fails at once
        on every node. ``remember``: skip scrypt for a (client, secret, stored hash) this process
        has verified before (for callers that send the secret on every request: SCIM's Basic and
        static tokens); a changed stored hash never matches what was remembered.
        """
        try:
            client: ApiClientRecord | None = await self.clients.get(client_id)
        except NotFound:
            client = None
        stored = client.secret_hash if client is not None and client.active else None
        if remember and client is not None and stored is not None and self.verified.known(client_id, secret, stored):
            return client
        if not verify_secret(secret, stored) or client is None or stored is None:
            self.verified.forget(client_id)
            raise AuthError("unknown client or wrong secret")
        if remember:
            self.verified.remember(client_id, secret, stored)
        return client

    async def revoke(self, client_id: str, *, tenant_id: int | None = None) -> ApiClientRecord:
        """Revoke a client: its secret and tokens stop working at once (every node reads the row)."""
        client = await self.clients.revoke(client_id, tenant_id=tenant_id)
        self.verified.forget(client_id)
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

    async def caller(self, authorization: str, *, basic: bool = False) -> tuple[Principal, ApiClientRecord]:
        """The caller behind an ``Authorization`` header: the one way every interface authenticates.

        ``Bearer <access token>`` (a JWT from the token endpoint) always. With ``basic`` (SCIM, whose
        identity providers keep one credential): also ``Basic <id:secret>`` and the static token
        ``Bearer ff_<id>.<secret>``, both checked with :meth:`authenticate` (``remember=True``);
        the principal then has all the client's scopes. Raises AuthError.
        """
        scheme, credentials = split_authorization(authorization)
        if basic and scheme == "basic":
            client = await self.authenticate(*parse_basic(credentials), remember=True)
            return _principal_of(client), client
        if scheme == "bearer" and credentials:
            if basic and credentials.startswith("ff_") and credentials.count(".") == 1:
                client_id, _, secret = credentials.partition(".")
                client = await self.authenticate(client_id, secret, remember=True)
                return _principal_of(client), client
            return await self.principal(credentials)
        if basic:
            raise AuthError("the Authorization header must be 'Bearer <token>' or 'Basic <credentials>'")
        raise AuthError("the Authorization header must be 'Bearer <access token>'")

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


def _principal_of(client: ApiClientRecord) -> Principal:
    return Principal(client.client_id, client.tenant.slug, client.tenant.id, client.role, frozenset(client.scopes))
