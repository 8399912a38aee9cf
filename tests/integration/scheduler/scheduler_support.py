"""Helpers of the scheduler tests (imported by module name: test folders are not packages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from hub.store._tables import sync_runs
from scheduler import SchedulerSettings

#: short timings so tests do not wait
FAST = SchedulerSettings(lease_seconds=2, heartbeat_seconds=0.5, poll_seconds=0.1, concurrency=2,
                         shutdown_grace_seconds=5, reload_seconds=1, catchup_seconds=0)


async def add_source(hub: Any, name: str, path: Path, tenant: str = "default") -> Any:
    store = await hub.store.tenant(tenant)
    cls = hub.plugins.connector("oneroster_csv")
    await store.add_source(name, "oneroster_csv", store.validate_config(cls.config_model, {"path": str(path)}))
    return store


async def point_source(store: Any, hub: Any, name: str, path: Path) -> None:
    cls = hub.plugins.connector("oneroster_csv")
    await store.update_source(name, store.validate_config(cls.config_model, {"path": str(path)}))


async def run_row(hub: Any, run_id: int) -> Any:
    async with hub.db.connect() as conn:
        return (await conn.execute(select(sync_runs).where(sync_runs.c.id == run_id))).one()


async def set_run(hub: Any, run_id: int, **values: Any) -> None:
    async with hub.db.begin() as conn:
        await conn.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(**values))
