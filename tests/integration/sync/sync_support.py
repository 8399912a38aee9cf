"""Helpers shared by the sync tests (imported by module name: test folders are not packages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select


async def add_csv_source(hub: Any, name: str, path: Path, tenant: str = "default") -> Any:
    store = await hub.store.tenant(tenant)
    cls = hub.plugins.connector("oneroster_csv")
    await store.add_source(name, "oneroster_csv", store.validate_config(cls.config_model, {"path": str(path)}))
    return store


async def table_count(hub: Any, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for key, value in where.items():
        query = query.where(table.c[key] == value)
    async with hub.db.connect() as conn:
        return (await conn.execute(query)).scalar_one()
