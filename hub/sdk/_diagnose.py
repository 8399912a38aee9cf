"""Turn the SDK's ConnectorError of a connection check into one sentence a school's IT person can act on."""

from __future__ import annotations

from hub.sdk import ConnectorError

__all__ = ["explain_check_failure"]

_DNS = (
    "name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "temporary failure in name resolution",
    "no address associated",
    "[errno -2]",
    "[errno -3]",
    "[errno -5]",
    "[errno 8]",
    "[errno 11001]",
)


def explain_check_failure(exc: ConnectorError, base_url: str, what: str, credential: str) -> str:
    """``what`` names the system (``Canvas``), ``credential`` the secret to check (``access token``)."""
    text = str(exc)
    lowered = text.lower()
    if exc.status in (401, 407):
        return f"{what} at {base_url} rejected the {credential} (HTTP {exc.status}); check it in the source's config"
    if exc.status == 403:
        return (
            f"{what} at {base_url} accepted the {credential} but refused the call (HTTP 403): "
            f"the {credential} lacks the permission or scope needed ({text})"
        )
    if exc.status == 404:
        return f"no {what} API found at {base_url} (HTTP 404); check the base URL ({text})"
    if "token endpoint" in lowered:  # the OAuth2 token endpoint (often another host) already says what failed
        return text
    if "unusable url" in lowered or "invalid url" in lowered:
        return f"the base URL {base_url!r} is not a usable http(s) URL ({text})"
    if "connecterror" in lowered and any(marker in lowered for marker in _DNS):
        return f"cannot resolve the host of {base_url} (DNS lookup failed); check the base URL ({text})"
    if "certificate" in lowered or "ssl" in lowered:
        return f"TLS failed talking to {base_url}: the server's certificate is not trusted ({text})"
    if "connecterror" in lowered:
        return f"cannot connect to {base_url} (refused or unreachable); check the URL and firewalls ({text})"
    if "timeout" in lowered or "timed out" in lowered:
        return f"{base_url} did not answer in time ({text})"
    return text
