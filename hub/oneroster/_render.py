"""Stored canonical records -> OneRoster JSON: GUIDRefs get ``href``, columns fill the base fields."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from hub.oneroster._catalogue import REF_PATHS
from hub.oneroster._errors import InvalidSelection
from hub.oneroster._fields import FieldSpec

__all__ = ["format_datetime", "parse_fields", "render_record"]


def format_datetime(value: datetime) -> str:
    """OneRoster datetime text: UTC, milliseconds, ``Z``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_fields(text: str | None, fields: Mapping[str, FieldSpec]) -> tuple[str, ...] | None:
    """The ``fields`` parameter as a tuple of field names; unknown or blank names are an error."""
    if text is None:
        return None
    names = tuple(name.strip() for name in text.split(","))
    for name in names:
        if not name:
            raise InvalidSelection("blank field name in 'fields'")
        if name not in fields:
            raise InvalidSelection(f"unknown field {name!r} in 'fields'")
    return tuple(dict.fromkeys(names))


def _with_hrefs(value: Any, base: str) -> Any:
    if isinstance(value, dict):
        if len(value) == 2 and "sourcedId" in value and "type" in value:
            path = REF_PATHS.get(value["type"])
            if path is not None:
                return {"href": f"{base}/{path}/{value['sourcedId']}", "sourcedId": value["sourcedId"],
                        "type": value["type"]}
            return dict(value)
        return {k: _with_hrefs(v, base) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_with_hrefs(v, base) for v in value]
    return value


def render_record(stable_id: str, status: str, updated_at: datetime, data: Mapping[str, Any], base_url: str,
                  selected: Collection[str] | None = None) -> dict[str, Any]:
    """One record as the API returns it; ``selected`` keeps only those top-level fields."""
    out: dict[str, Any] = {"sourcedId": stable_id, "status": status, "dateLastModified": format_datetime(updated_at)}
    for key, value in data.items():
        if key in out or key.startswith("_"):
            continue
        if selected is not None and key not in selected:
            continue
        out[key] = _with_hrefs(value, base_url)
    if selected is not None:
        return {k: out[k] for k in selected if k in out}
    return out
