"""Roles, scopes and the authenticated caller (:class:`Principal`).

Roles decide what a client may do in the management API; scopes decide which OneRoster 1.2
endpoints it may read. Scopes are kept in their full IMS form; the short names
(``roster.readonly``) are accepted wherever a scope is given and expanded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hub.errors import ConfigurationError

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_SCOPES",
    "ROSTER_CORE_READONLY",
    "ROSTER_DEMOGRAPHICS_READONLY",
    "ROSTER_READONLY",
    "Principal",
    "Role",
    "normalize_scopes",
]

_IMS = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ROSTER_READONLY = _IMS + "roster.readonly"
ROSTER_CORE_READONLY = _IMS + "roster-core.readonly"
ROSTER_DEMOGRAPHICS_READONLY = _IMS + "roster-demographics.readonly"
ALL_SCOPES: tuple[str, ...] = (ROSTER_READONLY, ROSTER_CORE_READONLY, ROSTER_DEMOGRAPHICS_READONLY)


class Role(StrEnum):
    """What a client may do in the management API.

    - ``admin``: everything, including tenant management;
    - ``integrator``: manage sources, run syncs, check mappings, read everything;
    - ``reader``: read-only management API.
    """

    ADMIN = "admin"
    INTEGRATOR = "integrator"
    READER = "reader"


#: scopes a new client of each role gets when none are given
DEFAULT_SCOPES: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: ALL_SCOPES,
    Role.INTEGRATOR: ALL_SCOPES,
    Role.READER: (ROSTER_CORE_READONLY,),
}


def normalize_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Expand short names, drop duplicates (order kept); an unknown scope raises ConfigurationError."""
    found: list[str] = []
    for scope in scopes:
        full = scope if scope.startswith(_IMS) else _IMS + scope
        if full not in ALL_SCOPES:
            raise ConfigurationError(f"unknown scope {scope!r}; known: {', '.join(s.removeprefix(_IMS) for s in ALL_SCOPES)}")
        if full not in found:
            found.append(full)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated API client a request runs as."""

    client_id: str
    tenant: str
    tenant_id: int
    role: str
    scopes: frozenset[str]

    def has_any_scope(self, *scopes: str) -> bool:
        return bool(self.scopes.intersection(normalize_scopes(scopes)))
