"""Authentication and authorization, free of any web framework.

API clients (OAuth 2.0 client credentials) belong to one tenant and have a role and scopes.
Secrets are generated server-side, shown once and stored as a salted scrypt hash. Access tokens
are short-lived HS256 JWTs. The API layer (hub.api) turns these into HTTP.
"""

from hub.auth._credentials import parse_basic, split_authorization
from hub.auth._model import (
    ALL_SCOPES,
    CORE_READ_SCOPES,
    DEFAULT_SCOPES,
    DEMOGRAPHICS_READ_SCOPES,
    READ_SCOPES,
    ROSTER_CORE_READONLY,
    ROSTER_DEMOGRAPHICS_READONLY,
    ROSTER_READONLY,
    Principal,
    Role,
    may_read,
    normalize_scopes,
    readable_types,
    scopes_to_read,
)
from hub.auth._secrets import VerifiedSecrets, generate_client_id, generate_secret, hash_secret, verify_secret
from hub.auth._service import ClientService, InvalidScope
from hub.auth._tokens import IssuedToken, TokenIssuer, jwt_key_from_settings

__all__ = [
    "ALL_SCOPES",
    "CORE_READ_SCOPES",
    "DEFAULT_SCOPES",
    "DEMOGRAPHICS_READ_SCOPES",
    "READ_SCOPES",
    "ROSTER_CORE_READONLY",
    "ROSTER_DEMOGRAPHICS_READONLY",
    "ROSTER_READONLY",
    "ClientService",
    "InvalidScope",
    "IssuedToken",
    "Principal",
    "Role",
    "TokenIssuer",
    "VerifiedSecrets",
    "client_service",
    "generate_client_id",
    "generate_secret",
    "hash_secret",
    "jwt_key_from_settings",
    "may_read",
    "normalize_scopes",
    "parse_basic",
    "readable_types",
    "scopes_to_read",
    "split_authorization",
    "verify_secret",
]


def client_service(hub: object) -> ClientService:
    """The client service of a :class:`hub.context.Hub` (its store, a token issuer from its settings)."""
    settings = hub.settings  # type: ignore[attr-defined]
    issuer = TokenIssuer(jwt_key_from_settings(settings), lifetime_seconds=settings.security.token_lifetime_seconds)
    return ClientService(hub.store, issuer)  # type: ignore[attr-defined]
