"""Guards: role and scope checks on top of the authenticated principal.

``require_role(*roles)`` and ``require_scopes(*any_of)`` return Litestar guards; attach them to a
route handler, controller or router (``guards=[require_scopes(ROSTER_CORE_READONLY)]``). Failing
a guard is a 403 problem; no principal at all (a route excluded from authentication) is a 401.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from hub.auth import Principal, Role, normalize_scopes
from hub.errors import AuthError, Forbidden

__all__ = ["READ", "WRITE", "ADMIN", "principal_of", "require_role", "require_scopes"]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise AuthError("authentication required")
    return user


def require_role(*roles: str) -> Guard:
    """Allow only clients whose role is one of ``roles``."""
    allowed = frozenset(Role(r).value for r in roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role!r} may not do this (needs {' or '.join(sorted(allowed))})")

    guard.__name__ = f"require_role({', '.join(sorted(allowed))})"
    return guard


def require_scopes(*any_of: str) -> Guard:
    """Allow only tokens holding at least one of ``any_of`` (short or full OneRoster scope names)."""
    wanted = normalize_scopes(any_of)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if not principal.scopes.intersection(wanted):
            raise Forbidden(f"insufficient scope: needs one of {' '.join(wanted)}")

    guard.__name__ = "require_scopes"
    return guard


#: any authenticated client (read-only management API)
READ = require_role(Role.ADMIN, Role.INTEGRATOR, Role.READER)
#: sources, syncs, mappings
WRITE = require_role(Role.ADMIN, Role.INTEGRATOR)
#: tenant management
ADMIN = require_role(Role.ADMIN)
