"""What an ``Authorization`` header carries: the one parser of its scheme and of HTTP Basic."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from hub.errors import AuthError

__all__ = ["parse_basic", "split_authorization"]


def split_authorization(header: str) -> tuple[str, str]:
    """``"Bearer abc"`` -> ``("bearer", "abc")``: the scheme lower-cased, the credentials stripped."""
    scheme, _, credentials = header.strip().partition(" ")
    return scheme.lower(), credentials.strip()


def parse_basic(credentials: str) -> tuple[str, str]:
    """The client id and secret of HTTP Basic credentials (RFC 7617: base64 of ``id:secret``).

    Each part is percent-decoded, as OAuth 2.0 asks of client credentials (RFC 6749 §2.3.1); the
    hub's own ids and secrets are URL-safe, so decoding leaves them unchanged. Raises
    :class:`~hub.errors.AuthError` when the value is not base64 of ``id:secret``.
    """
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise AuthError("malformed Basic credentials")
    return unquote(client_id), unquote(secret)
