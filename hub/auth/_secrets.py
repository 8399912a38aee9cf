"""Client ids and secrets: generated server-side, secrets kept only as a salted scrypt hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["VerifiedSecrets", "generate_client_id", "generate_secret", "hash_secret", "verify_secret"]

_N, _R, _P = 2**14, 8, 1
_DUMMY: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_client_id() -> str:
    return "ff_" + secrets.token_urlsafe(12)


def generate_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``secret`` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Whether ``secret`` matches ``stored`` (constant-time compare). ``None`` still costs one hash,
    so an unknown client id takes as long as a wrong secret."""
    global _DUMMY
    if stored is None:
        _DUMMY = _DUMMY or hash_secret("dummy")
        stored, secret = _DUMMY, secret + "x"
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(secret.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


class VerifiedSecrets:
    """Which (client id, secret, stored hash) triples this process has verified, to skip scrypt.

    Remembers a keyed digest of the secret (never the secret), and the stored hash it matched: the
    caller still reads the client's row on every request, so a revoked client (no hash) or a
    rotated secret (another hash) misses the cache at once, on every node. At most ``size``
    entries; when full, the oldest half is forgotten.
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._key = secrets.token_bytes(32)
        self._seen: dict[tuple[str, bytes], str] = {}

    def _digest(self, secret: str) -> bytes:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).digest()

    def known(self, client_id: str, secret: str, stored: str) -> bool:
        found = self._seen.get((client_id, self._digest(secret)))
        return found is not None and hmac.compare_digest(found, stored)

    def remember(self, client_id: str, secret: str, stored: str) -> None:
        if len(self._seen) >= self.size:
            for old in list(self._seen)[: self.size // 2]:
                del self._seen[old]
        self._seen[(client_id, self._digest(secret))] = stored

    def forget(self, client_id: str) -> None:
        for key in [k for k in self._seen if k[0] == client_id]:
            del self._seen[key]
