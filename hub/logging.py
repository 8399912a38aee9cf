"""Structured logging: one JSON object per line for services, readable lines for the terminal."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from hub.settings import Settings

__all__ = ["JsonFormatter", "configure_logging", "request_id_var"]

#: id of the HTTP request being served (set by the API middleware); added to every log line
request_id_var: ContextVar[str | None] = ContextVar("fediflow_request_id", default=None)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_REDACT = ("password", "secret", "token", "authorization", "key")


def _clean(key: str, value: Any) -> Any:
    if any(word in key.lower() for word in _REDACT) and key.lower() not in {"tokens", "key_id"}:
        return "***"
    return value


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line with its ``extra`` fields; secret-looking keys are redacted."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = _clean(key, value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={_clean(k, v)}" for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")
        )
        return f"{record.levelname.lower():7} {record.name}: {record.getMessage()} {extras}".rstrip()


def configure_logging(settings: Settings, *, stream: IO[str] | None = None, quiet: bool = False) -> None:
    """Configure the ``fediflow`` loggers once per process (``quiet``: warnings and up only)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else ConsoleFormatter())
    root = logging.getLogger("fediflow")
    root.handlers[:] = [handler]
    root.setLevel("WARNING" if quiet else settings.log_level)
    root.propagate = False
