"""Export a tenant's records from the store, streamed chunk by chunk into a synchronous writer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from hub.export.oneroster_csv import write_bundle
from hub.store import TenantStore

__all__ = ["export_tenant_oneroster_csv"]

_CHUNK = 2000


async def export_tenant_oneroster_csv(store: TenantStore, target: Path, *, include_deleted: bool = False,
                                      version: str = "1.2") -> dict[str, int]:
    """Write the tenant's canonical records as a OneRoster CSV bundle; returns rows per file.

    The CSV writer runs in a thread; it pulls records from the store on the event loop one chunk
    at a time (keyset pagination), so memory stays constant whatever the tenant's size.
    """
    loop = asyncio.get_running_loop()

    def records(type_name: str) -> Iterator[Mapping[str, Any]]:
        last = 0
        while True:
            future = asyncio.run_coroutine_threadsafe(
                store.entity_data_chunk(type_name, after_id=last, limit=_CHUNK, include_deleted=include_deleted), loop)
            rows, last = future.result()
            if not rows:
                return
            yield from rows

    result = await asyncio.to_thread(write_bundle, target, records, version)
    return dict(result.counts)
