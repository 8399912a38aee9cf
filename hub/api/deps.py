"""Typed names of the dependencies every handler can ask for.

    async def handler(tenant_store: TenantStoreDep, principal: PrincipalDep, hub: HubDep) -> ...

``tenant_store`` is the caller's tenant-scoped store (the only door to tenant data),
``principal`` the authenticated client, ``hub`` the :class:`~hub.context.Hub`.
"""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency

from hub.auth import Principal
from hub.context import Hub
from hub.store import TenantStore

__all__ = ["HubDep", "PrincipalDep", "TenantStoreDep"]

HubDep: TypeAlias = NamedDependency[Hub]
PrincipalDep: TypeAlias = NamedDependency[Principal]
TenantStoreDep: TypeAlias = NamedDependency[TenantStore]
