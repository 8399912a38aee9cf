"""Short-lived HS256 access tokens (JWT, signed with joserfc, the JOSE library of the authlib project).

Claims: ``iss``, ``sub`` (client id), ``tenant``, ``role``, ``scope`` (space separated), ``iat``,
``exp``, ``jti``. The key is ``security.jwt_key`` when set (at least 32 characters), otherwise
an HKDF-SHA256 derivation of the hub's secret key, so no extra key has to be managed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from hub.errors import AuthError, ConfigurationError
from hub.settings import Settings

__all__ = ["IssuedToken", "TokenIssuer", "jwt_key_from_settings"]

ISSUER = "fediflow"
_ALG = "HS256"
_LEEWAY = 5


def jwt_key_from_settings(settings: Settings) -> bytes:
    """The signing key: ``security.jwt_key``, or HKDF(secret key) when that is empty."""
    explicit = settings.security.jwt_key.get_secret_value()
    if explicit:
        if len(explicit) < 32:
            raise ConfigurationError("security.jwt_key must be at least 32 characters")
        return explicit.encode()
    secret = settings.security.secret_key.get_secret_value().encode()
    if not secret:
        path = settings.secret_key_file
        if not path.exists():
            raise ConfigurationError(
                f"no key to sign API tokens: set FEDIFLOW_SECURITY__SECRET_KEY (or __JWT_KEY) or run `fediflow init` (creates {path})"
            )
        secret = path.read_bytes().strip()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"fediflow", info=b"fediflow api access tokens").derive(secret)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


class TokenIssuer:
    """Issues and verifies access tokens with one key."""

    def __init__(self, key: bytes, *, lifetime_seconds: int, issuer: str = ISSUER) -> None:
        self._key = OctKey.import_key(key)
        self.lifetime = lifetime_seconds
        self.issuer = issuer

    def __repr__(self) -> str:
        return f"TokenIssuer(issuer={self.issuer!r}, lifetime={self.lifetime}, key=<hidden>)"

    def issue(self, *, client_id: str, tenant: str, role: str, scopes: Sequence[str]) -> IssuedToken:
        now = int(time.time())
        scope = " ".join(scopes)
        claims = {
            "iss": self.issuer,
            "sub": client_id,
            "tenant": tenant,
            "role": role,
            "scope": scope,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": secrets.token_urlsafe(12),
        }
        token = jwt.encode({"alg": _ALG, "typ": "JWT"}, claims, self._key, algorithms=[_ALG])
        return IssuedToken(token, self.lifetime, scope)

    def verify(self, token: str) -> Mapping[str, Any]:
        """The claims of a valid, unexpired token of this issuer; AuthError otherwise."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=[_ALG])
            registry = jwt.JWTClaimsRegistry(
                leeway=_LEEWAY,
                iss={"essential": True, "value": self.issuer},
                sub={"essential": True},
                exp={"essential": True},
                tenant={"essential": True},
                role={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise AuthError(f"invalid access token: {getattr(exc, 'description', None) or type(exc).__name__}") from None
        return decoded.claims
