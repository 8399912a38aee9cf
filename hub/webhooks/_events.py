"""Event types, subscription patterns and the Standard Webhooks payload ``{"type", "timestamp", "data"}``.

Change events are named after the canonical type and the operation: ``User`` is ``person``,
every other type is its lower-camel name (``Enrollment`` -> ``enrollment``, ``AcademicSession``
-> ``academicSession``), so a ``User`` update is ``person.updated``. System events
(the run lifecycle ``sync.run.started|finished|failed|held|approved`` of hub.webhooks._lifecycle,
``webhook.subscription.disabled``) come through :func:`hub.webhooks.emit_system_event`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from hub import jsonutil
from hub.errors import ConfigurationError

__all__ = [
    "SUBSCRIPTION_DISABLED",
    "change_body",
    "change_payload",
    "event_type_for",
    "iso_timestamp",
    "matches",
    "system_body",
    "validate_patterns",
]

SUBSCRIPTION_DISABLED = "webhook.subscription.disabled"

_SPECIAL = {"User": "person"}
_PATTERN = re.compile(r"^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*$")


def event_type_for(entity_type: str, op: str) -> str:
    """``("User", "created")`` -> ``"person.created"``."""
    name = _SPECIAL.get(entity_type) or (entity_type[:1].lower() + entity_type[1:])
    return f"{name}.{op}"


def validate_patterns(patterns: Iterable[str]) -> list[str]:
    """Check event type patterns (``*`` matches any run of characters, dots included)."""
    found = []
    for pattern in patterns:
        pattern = pattern.strip()
        if not pattern or len(pattern) > 128 or not _PATTERN.match(pattern):
            raise ConfigurationError(f"event type pattern {pattern!r} must be dotted names with optional '*' "
                                     "(person.*, enrollment.deleted, sync.run.finished, *)")
        if pattern not in found:
            found.append(pattern)
    if not found:
        raise ConfigurationError("a subscription needs at least one event type pattern")
    return found


def matches(patterns: Sequence[str], event_type: str) -> bool:
    return any(fnmatchcase(event_type, p) for p in patterns)


def iso_timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def change_payload(seq: int, entity_type: str, stable_id: str, op: str, version: int, run_id: int | None,
                   source: str | None, record: Mapping[str, Any]) -> dict[str, Any]:
    """The ``data`` of a change event (also the WebSocket stream's message, with type and timestamp)."""
    return {"seq": seq, "entity_type": entity_type, "stable_id": stable_id, "op": op, "version": version,
            "run_id": run_id, "source": source, "record": record}


def change_body(event_type: str, at: datetime, data: Mapping[str, Any]) -> str:
    return jsonutil.dumps({"type": event_type, "timestamp": iso_timestamp(at), "data": data})


def system_body(event_type: str, at: datetime, data: Mapping[str, Any]) -> str:
    return jsonutil.dumps({"type": event_type, "timestamp": iso_timestamp(at), "data": dict(data)})
