"""Roles, scopes and the authenticated caller (:class:`Principal`).

Roles decide what a client may do in the management API; scopes decide which records it may
read, whichever way they leave the hub (the OneRoster API, the changes feed, the entities API, the
WebSocket stream, webhooks): :func:`may_read` is that one rule. Scopes are kept in their full IMS
form; the short names (``roster.readonly``) are accepted wherever a scope is given and expanded.

The OneRoster 1.2 scopes, as 1EdTech's rostering OpenAPI document defines them:

* ``roster-core.readonly``: every rostering record type except demographics;
* ``roster.readonly``: "all of the read operations (excluding demographics)", the same types;
* ``roster-demographics.readonly``: demographics, and only them.

Types no OneRoster scope speaks of (catalogue types added by plugins ...) need no scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from hub.errors import ConfigurationError

__all__ = [
    "ALL_SCOPES",
    "CORE_READ_SCOPES",
    "DEFAULT_SCOPES",
    "DEMOGRAPHICS_READ_SCOPES",
    "READ_SCOPES",
    "ROSTER_CORE_READONLY",
    "ROSTER_DEMOGRAPHICS_READONLY",
    "ROSTER_READONLY",
    "Principal",
    "Role",
    "may_read",
    "normalize_scopes",
    "readable_types",
    "scopes_to_read",
]

_IMS = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ROSTER_READONLY = _IMS + "roster.readonly"
ROSTER_CORE_READONLY = _IMS + "roster-core.readonly"
ROSTER_DEMOGRAPHICS_READONLY = _IMS + "roster-demographics.readonly"
ALL_SCOPES: tuple[str, ...] = (ROSTER_READONLY, ROSTER_CORE_READONLY, ROSTER_DEMOGRAPHICS_READONLY)

#: any one of these lets a caller read the core rostering types
CORE_READ_SCOPES: tuple[str, ...] = (ROSTER_CORE_READONLY, ROSTER_READONLY)
#: the one scope that lets a caller read demographics (roster.readonly excludes them)
DEMOGRAPHICS_READ_SCOPES: tuple[str, ...] = (ROSTER_DEMOGRAPHICS_READONLY,)
#: canonical type -> the scopes of which a caller needs one to read its records
READ_SCOPES: Mapping[str, tuple[str, ...]] = {
    **{t: CORE_READ_SCOPES for t in ("AcademicSession", "Class", "Course", "Enrollment", "Org", "User")},
    "Demographics": DEMOGRAPHICS_READ_SCOPES,
}


def scopes_to_read(type_name: str) -> tuple[str, ...] | None:
    """The scopes of which one is needed to read records of ``type_name``; None: no scope needed."""
    return READ_SCOPES.get(type_name)


def may_read(scopes: Iterable[str], type_name: str) -> bool:
    """Whether a caller holding ``scopes`` (full IMS form) may see records of ``type_name``.

    The one scope rule of the hub: every way out (OneRoster API, changes feed, entities API,
    WebSocket stream, webhooks) asks it.
    """
    needed = READ_SCOPES.get(type_name)
    return needed is None or not set(needed).isdisjoint(scopes)


def readable_types(scopes: Iterable[str], known: Iterable[str], wanted: Iterable[str] | None = None
                   ) -> list[str] | None:
    """:func:`may_read` as a filter of entity types: the types of ``wanted`` (None: all ``known``
    types) a caller holding ``scopes`` may read; None when nothing is hidden (no filter needed)."""
    held = frozenset(scopes)
    if wanted is None:
        known = list(known)
        if all(may_read(held, t) for t in known):
            return None
        wanted = known
    return [t for t in wanted if may_read(held, t)]


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

    def may_read(self, type_name: str) -> bool:
        """Whether this caller may see records of ``type_name`` (:func:`may_read`)."""
        return may_read(self.scopes, type_name)
