"""Encryption of connector secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from hub import jsonutil
from hub.errors import ConfigurationError, StoreError
from hub.settings import Settings

__all__ = ["SecretBox", "ensure_key_file", "secret_box_from_settings"]


class SecretBox:
    """Encrypts and decrypts small JSON objects of secrets with one key."""

    def __init__(self, key: bytes | str) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise ConfigurationError(
                "security.secret_key must be 32 url-safe base64-encoded bytes (run `fediflow init` to create one)"
            ) from None

    def encrypt(self, secrets: dict[str, Any]) -> str:
        return self._fernet.encrypt(jsonutil.canonical_bytes(secrets)).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            return jsonutil.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise StoreError("cannot decrypt stored secrets: the secret key differs from the one they were written with") from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"


def ensure_key_file(path: Path) -> Path:
    """Create a new random key file (mode 0600) unless one exists."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    return path


def secret_box_from_settings(settings: Settings) -> SecretBox:
    """The configured key, else the key file in the data directory (created by `fediflow init`)."""
    key = settings.security.secret_key.get_secret_value()
    if key:
        return SecretBox(key)
    path = settings.secret_key_file
    if not path.exists():
        raise ConfigurationError(f"no secret key: set FEDIFLOW_SECURITY__SECRET_KEY or run `fediflow init` (creates {path})")
    return SecretBox(path.read_bytes().strip())
