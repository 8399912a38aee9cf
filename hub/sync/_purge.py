"""The one hard delete of entities: ``tobedeleted`` rows, only when asked for (``fediflow purge``)."""

from __future__ import annotations

import logging

from sqlalchemy import delete

from hub.store import TenantStore
from hub.store._tables import entities

__all__ = ["purge_deleted"]

log = logging.getLogger("fediflow.sync.safeguards")


async def purge_deleted(tenant: TenantStore, *, source: str | None = None, type_name: str | None = None) -> int:
    """Hard-delete the ``tobedeleted`` entities of the tenant (of one source, of one type). Returns how many.

    The change log keeps their history (append-only); nothing else ever deletes an entity row.
    """
    cond = [entities.c.tenant_id == tenant.tenant_id, entities.c.status == "tobedeleted"]
    if source is not None:
        cond.append(entities.c.source_id == (await tenant.get_source(source)).id)
    if type_name is not None:
        cond.append(entities.c.type == type_name)
    async with tenant.db.begin() as conn:
        result = await conn.execute(delete(entities).where(*cond))
    log.warning("purged tobedeleted entities", extra={"tenant": tenant.tenant.slug, "source": source,
                                                      "type": type_name, "count": result.rowcount})
    return int(result.rowcount)
