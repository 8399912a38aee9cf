"""Helpers shared by the sync tests (imported by module name: test folders are not packages)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import func, select


async def add_csv_source(hub: Any, name: str, path: Path, tenant: str = "default") -> Any:
    store = await hub.store.tenant(tenant)
    cls = hub.plugins.connector("oneroster_csv")
    await store.add_source(name, "oneroster_csv", store.validate_config(cls.config_model, {"path": str(path)}))
    return store


def bundle_with_bad_users(src: Path, dst: Path, *, extra_cell: bool = False) -> Path:
    """A copy of bundle ``src`` whose first user has enabledUser "perhaps" (users.csv:2) and, with
    ``extra_cell``, whose second user has one cell too many (users.csv:3)."""
    shutil.copytree(src, dst)
    users = (dst / "users.csv").read_text(encoding="utf-8").splitlines()
    header = users[0].split(",")
    broken = users[1].split(",")
    broken[header.index("enabledUser")] = "perhaps"
    lines = [users[0], ",".join(broken), *users[2:]]
    if extra_cell:
        lines[2] += ",unexpected-cell"
    (dst / "users.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dst


async def table_count(hub: Any, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for key, value in where.items():
        query = query.where(table.c[key] == value)
    async with hub.db.connect() as conn:
        return (await conn.execute(query)).scalar_one()
