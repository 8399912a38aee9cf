"""Export a tenant's records from the store, streamed chunk by chunk into a synchronous writer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from hub.export.oneroster_csv import write_bundle
from hub.oneroster import ReferencesMode, emit_records
from hub.store import TenantStore

__all__ = ["export_tenant_oneroster_csv"]

_CHUNK = 2000


async def export_tenant_oneroster_csv(store: TenantStore, target: Path, *, include_deleted: bool = False,
                                      version: str = "1.2", references: ReferencesMode = "valid") -> dict[str, int]:
    """Write the tenant's canonical records as a OneRoster CSV bundle; returns rows per file.

    The CSV writer runs in a thread; it pulls records from the store on the event loop one chunk
    at a time (keyset pagination), so memory stays constant whatever the tenant's size.

    Records are written as the OneRoster API shows them (hub.oneroster.emit_records): unless
    ``references="all"``, no record refers to a missing or tobedeleted object (a dangling optional
    reference is dropped, a record whose required reference dangles is left out).
    """
    loop = asyncio.get_running_loop()
    known: dict[tuple[str, str], bool] = {}  # reference targets looked up so far in this export

    async def chunk(type_name: str, after: int) -> tuple[list[Mapping[str, Any]], int]:
        rows, last = await store.entity_data_chunk(type_name, after_id=after, limit=_CHUNK,
                                                   include_deleted=include_deleted)
        # one record per linked group (hub.identity), references as the rule says (hub.oneroster._references)
        emitted = await emit_records(store, type_name, rows, references=references, known=known)
        return [data for data in emitted if data is not None], last

    def records(type_name: str) -> Iterator[Mapping[str, Any]]:
        last = 0
        while True:
            rows, after = asyncio.run_coroutine_threadsafe(chunk(type_name, last), loop).result()
            if after == last:  # no row after ``last``: done (a chunk can be empty when all were left out)
                return
            last = after
            yield from rows

    result = await asyncio.to_thread(write_bundle, target, records, version)
    return dict(result.counts)
