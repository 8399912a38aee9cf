"""Source-scoped ids: a source's id prefix applied to a mapped record's sourcedId and references."""

from __future__ import annotations

from typing import Any

__all__ = ["prefix_ids"]


def _prefixed(value: Any, prefix: str) -> Any:
    """``value`` with ``prefix`` before the sourcedId of every GUIDRef (``{"sourcedId", "type"}``)
    in it, at any depth (a user's roles carry their org as a reference)."""
    if value.__class__ is dict:
        if "sourcedId" in value and "type" in value and len(value) == 2:
            ref = value["sourcedId"]
            return {**value, "sourcedId": prefix + ref} if ref.__class__ is str and ref else value
        return {key: _prefixed(item, prefix) for key, item in value.items()}
    if value.__class__ is list:
        return [_prefixed(item, prefix) for item in value]
    return value


def prefix_ids(mapped: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``mapped`` (a mapping's output, changed in place) with ``prefix`` before its sourcedId and
    before the sourcedId of every reference it carries; ``metadata`` is free-form and left alone.

    References a mapping builds (``ref:``) point at records of the same source, so they get the
    same prefix; an empty prefix changes nothing.
    """
    if not prefix:
        return mapped
    for key, value in mapped.items():
        if key == "sourcedId":
            if value.__class__ is str and value:
                mapped[key] = prefix + value
        elif key != "metadata" and value.__class__ in (dict, list):
            mapped[key] = _prefixed(value, prefix)
    return mapped
