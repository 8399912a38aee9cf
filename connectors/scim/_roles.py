"""SCIM ``userType`` to OneRoster role, and the small context object added to each user record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CONTEXT_KEY", "ROLE_MAP", "user_context"]

#: key of the object the SCIM connectors add to each record (not part of the SCIM payload)
CONTEXT_KEY = "_fediflow"

#: lower-cased ``userType`` -> OneRoster role (RFC 7643 §4.1.1: userType is free text, e.g. "Employee")
ROLE_MAP = {
    "student": "student",
    "pupil": "student",
    "learner": "student",
    "teacher": "teacher",
    "faculty": "teacher",
    "instructor": "teacher",
    "aide": "aide",
    "guardian": "guardian",
    "parent": "parent",
    "counselor": "counselor",
    "principal": "principal",
    "staff": "ext:staff",
    "employee": "ext:staff",
    "contractor": "ext:contractor",
    "intern": "ext:intern",
    "temp": "ext:temp",
    "external": "ext:external",
}


def _primary(values: Any) -> str | None:
    if not isinstance(values, list):
        return None
    items = [v for v in values if isinstance(v, Mapping) and v.get("value")]
    chosen = next((v for v in items if v.get("primary") is True), items[0] if items else None)
    return str(chosen["value"]) if chosen else None


def user_context(document: Mapping[str, Any], org: str, default_role: str) -> dict[str, Any]:
    """``{"org", "role", "email", "phone"}``: the role from ``userType``, the primary (else first) email and phone."""
    user_type = document.get("userType")
    role = ROLE_MAP.get(str(user_type).strip().lower(), default_role) if user_type else default_role
    return {"org": org, "role": role, "email": _primary(document.get("emails")),
            "phone": _primary(document.get("phoneNumbers"))}
