"""vcrpy settings that keep secrets out of cassettes.

Headers carrying credentials are dropped, secret-looking query and form parameters removed,
token fields in JSON response bodies replaced, and every literal secret the test names replaced
wherever it appears (URI, request body, response body, response headers).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "FILTER_HEADERS",
    "FILTER_POST_DATA",
    "FILTER_QUERY",
    "REDACTED",
    "SCRUB_JSON_KEYS",
    "make_vcr",
    "vcr_config_for",
]

REDACTED = "REDACTED"
FILTER_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-auth-token")
FILTER_QUERY = (
    "token",
    "access_token",
    "key",
    "api_key",
    "apikey",
    "secret",
    "client_secret",
    "password",
    "signature",
    "sig",
)
FILTER_POST_DATA = ("client_secret", "password", "refresh_token", "client_assertion", "assertion", "code")
SCRUB_JSON_KEYS = frozenset(
    {"access_token", "refresh_token", "id_token", "client_secret", "password", "api_key"}
)
_DROP_RESPONSE_HEADERS = frozenset({"set-cookie", "www-authenticate"})


def _scrub_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k in SCRUB_JSON_KEYS and v else _scrub_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    return value


def _replace(data: Any, secrets: list[str]) -> Any:
    if isinstance(data, bytes):
        for secret in secrets:
            data = data.replace(secret.encode(), REDACTED.encode())
    elif isinstance(data, str):
        for secret in secrets:
            data = data.replace(secret, REDACTED)
    return data


def _secrets(secrets: Iterable[str]) -> list[str]:
    return sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)


def before_record_request_for(secrets: Iterable[str]) -> Callable[[Any], Any]:
    known = _secrets(secrets)

    def scrub(request: Any) -> Any:
        request.uri = _replace(request.uri, known)
        if request.body:
            request.body = _replace(request.body, known)
        return request

    return scrub


def before_record_response_for(secrets: Iterable[str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    known = _secrets(secrets)

    def scrub(response: dict[str, Any]) -> dict[str, Any]:
        headers = {
            name: [_replace(v, known) for v in values]
            for name, values in response.get("headers", {}).items()
            if name.lower() not in _DROP_RESPONSE_HEADERS
        }
        body = response.get("body", {}).get("string", b"")
        if body:
            try:
                document = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                pass
            else:
                if isinstance(document, dict | list):
                    scrubbed = _scrub_json(document)
                    if scrubbed != document:
                        body = json.dumps(scrubbed).encode()
            body = _replace(body, known)
            for name in headers:
                if name.lower() == "content-length":
                    headers[name] = [str(len(body))]
        response["headers"] = headers
        response["body"] = {**response.get("body", {}), "string": body}
        return response

    return scrub


def vcr_config_for(secrets: Iterable[str] = (), record_mode: str = "none") -> dict[str, Any]:
    """The keyword arguments of ``vcr.VCR`` for FediFlow connector tests.

    ``record_mode="none"`` (the default) replays only: a request missing from the cassette fails
    the test instead of reaching the network.
    """
    known = list(secrets)
    return {
        "record_mode": record_mode,
        "filter_headers": list(FILTER_HEADERS),
        "filter_query_parameters": list(FILTER_QUERY),
        "filter_post_data_parameters": list(FILTER_POST_DATA),
        "before_record_request": before_record_request_for(known),
        "before_record_response": before_record_response_for(known),
        "decode_compressed_response": True,
        "match_on": ["method", "scheme", "host", "port", "path", "query"],
    }


def make_vcr(config: dict[str, Any], cassette_dir: Path) -> Any:
    """A ``vcr.VCR`` storing cassettes (YAML) in ``cassette_dir``."""
    import vcr  # test-only dependency: imported when a cassette is used

    return vcr.VCR(
        cassette_library_dir=str(cassette_dir), path_transformer=vcr.VCR.ensure_suffix(".yaml"), **config
    )
