"""Keeping secrets out of httpx's own INFO log line (it logs every request URL)."""

from __future__ import annotations

import logging
import weakref
from typing import Protocol

import httpx

from hub.sdk._auth import redact_text, redact_url

__all__ = ["forget_secrets", "watch_secrets"]


class _HasSecrets(Protocol):
    def secrets(self) -> tuple[str, ...]: ...


_LIVE_CLIENTS: weakref.WeakSet[_HasSecrets] = weakref.WeakSet()


class _RedactHttpxLog(logging.Filter):
    """httpx logs every request URL at INFO; redact query secrets and known secrets from it."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [s for client in list(_LIVE_CLIENTS) for s in client.secrets()]
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(a, secrets)
                if isinstance(a, httpx.URL)
                else redact_text(a, secrets)
                if isinstance(a, str)
                else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg, secrets)
        return True


_HTTPX_FILTER = _RedactHttpxLog()


def watch_secrets(client: _HasSecrets) -> None:
    """Redact ``client.secrets()`` from httpx's log lines while the client lives (installs the filter)."""
    logger = logging.getLogger("httpx")
    if _HTTPX_FILTER not in logger.filters:
        logger.addFilter(_HTTPX_FILTER)
    _LIVE_CLIENTS.add(client)


def forget_secrets(client: _HasSecrets) -> None:
    _LIVE_CLIENTS.discard(client)
