"""Client ids and secrets: generated server-side, secrets kept only as a salted scrypt hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["generate_client_id", "generate_secret", "hash_secret", "verify_secret"]

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
