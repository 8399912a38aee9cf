"""Stored canonical records -> the OneRoster 1.2 REST/JSON binding.

GUIDRefs get ``href``, the store's columns fill the base fields, and the values the binding spells
differently from the canonical model are converted here, and only here (the store and the
management API keep the canonical values):

* booleans (``enabledUser``, ``Enrollment.primary``, the demographics flags) are the strings
  ``"true"`` / ``"false"``;
* ``userProfiles[].profileId`` and ``roles[].userProfile`` are URIs: a stored value that is not
  one is rendered as ``urn:fediflow:profile:<percent-encoded value>`` (the same value gives the
  same URI, so a role still names its profile);
* string fields the binding requires but the canonical model leaves optional (an org's
  ``identifier``, a course's ``courseCode``) are ``""`` when absent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from hub.oneroster._catalogue import REF_PATHS
from hub.oneroster._errors import InvalidSelection
from hub.oneroster._fields import FieldSpec

__all__ = ["PROFILE_URN", "REQUIRED_TEXT", "format_datetime", "parse_fields", "profile_uri", "render_record"]

#: prefix of the URI given to a profile id that is not a URI itself
PROFILE_URN = "urn:fediflow:profile:"
#: canonical type -> string fields the 1.2 binding requires and the canonical model may leave out
REQUIRED_TEXT: Mapping[str, tuple[str, ...]] = {"Org": ("identifier",), "Course": ("courseCode",)}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_URI_CHARS = ":/?#[]@!$&'()*+,;=%-._~"


def format_datetime(value: datetime) -> str:
    """OneRoster datetime text: UTC, milliseconds, ``Z``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_fields(text: str | None, fields: Mapping[str, FieldSpec]) -> tuple[str, ...] | None:
    """The ``fields`` parameter as a tuple of field names; None (every field) when absent or empty.
    An unknown name, or a blank one among others (``givenName,``), is an error."""
    if text is None or not text.strip():  # ``fields=`` (empty) is a valid request for every field
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


def profile_uri(value: str) -> str:
    """A profile id as a URI: itself when it is one, else ``urn:fediflow:profile:<percent-encoded>``."""
    if _SCHEME.match(value) and quote(value, safe=_URI_CHARS) == value:
        return value
    return PROFILE_URN + quote(value, safe="")


def _profiles(key: str, value: Any) -> Any:
    if key == "userProfiles" and isinstance(value, list):
        return [{**p, "profileId": profile_uri(p["profileId"])} if isinstance(p, dict) and "profileId" in p else p
                for p in value]
    if key == "roles" and isinstance(value, list):
        return [{**r, "userProfile": profile_uri(r["userProfile"])}
                if isinstance(r, dict) and isinstance(r.get("userProfile"), str) else r for r in value]
    return value


def _binding_value(key: str, value: Any, spec: FieldSpec | None) -> Any:
    if isinstance(value, bool) and (spec is None or spec.kind == "bool"):
        return "true" if value else "false"
    return _profiles(key, value)


def render_record(stable_id: str, status: str, updated_at: datetime, data: Mapping[str, Any], base_url: str,
                  selected: Collection[str] | None = None, *, type_name: str | None = None,
                  fields: Mapping[str, FieldSpec] | None = None) -> dict[str, Any]:
    """One record in the OneRoster 1.2 binding; ``selected`` keeps only those top-level fields.

    ``type_name`` (the canonical type) and ``fields`` (its field specs) drive the binding's
    conversions; without them a top-level boolean is still rendered as ``"true"`` / ``"false"``."""
    out: dict[str, Any] = {"sourcedId": stable_id, "status": status, "dateLastModified": format_datetime(updated_at)}
    for key, value in data.items():
        if key in out or key.startswith("_"):
            continue
        if selected is not None and key not in selected:
            continue
        out[key] = _binding_value(key, _with_hrefs(value, base_url), (fields or {}).get(key))
    for key in REQUIRED_TEXT.get(type_name or "", ()):
        if out.get(key) is None and (selected is None or key in selected):
            out[key] = ""
    if selected is not None:
        return {k: out[k] for k in selected if k in out}
    return out
