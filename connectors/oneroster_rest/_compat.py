"""Differences between OneRoster 1.1 and 1.2 users, folded away so one mapping reads both.

A 1.1 user has one ``role`` and a list of ``orgs``; a 1.2 user has ``roles``, a list of
``{roleType, role, org}``. :func:`user_roles` builds the 1.2 list from the 1.1 fields: the first
org holds the user's primary role, the others a secondary one (1.1 says nothing more). The
original 1.1 fields stay in the record. A ``password`` (1.1 and 1.2 allow one) is dropped: the hub
never stores passwords.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["normalise_user", "user_roles"]


def user_roles(user: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The 1.2 ``roles`` of a 1.1 user, or None when it has no role or no org."""
    role = user.get("role")
    orgs = [org for org in user.get("orgs") or [] if isinstance(org, Mapping) and org.get("sourcedId")]
    if not role or not orgs:
        return None
    return [
        {"roleType": "primary" if index == 0 else "secondary", "role": role, "org": dict(org)}
        for index, org in enumerate(orgs)
    ]


def normalise_user(user: Mapping[str, Any], version: str) -> dict[str, Any]:
    data = {key: value for key, value in user.items() if key != "password"}
    if version == "1.1" and not data.get("roles"):
        roles = user_roles(user)
        if roles is not None:
            data["roles"] = roles
    return data
