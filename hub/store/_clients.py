"""API clients (OAuth client credentials) and the hub-wide counters the metrics endpoint reads.

Clients belong to one tenant. Lookups by ``client_id`` are hub-wide on purpose: the token
endpoint does not know the tenant until it has found the client. Listing and revoking take the
tenant and filter by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from hub.errors import Conflict, NotFound
from hub.store._db import Database
from hub.store._records import TenantRecord
from hub.store._tables import api_clients, sync_runs, tenants

__all__ = ["ApiClientRecord", "ApiClientStore", "HubStats", "hub_stats"]


@dataclass(frozen=True, slots=True)
class ApiClientRecord:
    """An API client. ``secret_hash`` is the salted hash; the secret itself is never stored."""

    id: int
    client_id: str
    name: str
    role: str
    scopes: tuple[str, ...]
    secret_hash: str
    tenant: TenantRecord
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _client(row: Any) -> ApiClientRecord:
    return ApiClientRecord(
        id=row.id,
        client_id=row.client_id,
        name=row.name,
        role=row.role,
        scopes=tuple(row.scopes.split()),
        secret_hash=row.secret_hash,
        tenant=TenantRecord(row.tenant_id, row.tenant_slug, row.tenant_name, row.tenant_created_at),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class ApiClientStore:
    """Create, find, list and revoke API clients."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _query() -> Any:
        return select(
            api_clients,
            tenants.c.slug.label("tenant_slug"),
            tenants.c.name.label("tenant_name"),
            tenants.c.created_at.label("tenant_created_at"),
        ).join(tenants, tenants.c.id == api_clients.c.tenant_id)

    async def create(self, tenant: TenantRecord, *, client_id: str, name: str, role: str,
                     scopes: Sequence[str], secret_hash: str) -> ApiClientRecord:
        try:
            async with self.db.begin() as conn:
                await conn.execute(
                    api_clients.insert().values(
                        tenant_id=tenant.id, client_id=client_id, name=name, role=role,
                        scopes=" ".join(scopes), secret_hash=secret_hash, created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            raise Conflict(f"API client {client_id!r} already exists") from None
        return await self.get(client_id)

    async def get(self, client_id: str) -> ApiClientRecord:
        """The client with ``client_id`` (revoked ones too); NotFound when there is none."""
        async with self.db.connect() as conn:
            row = (await conn.execute(self._query().where(api_clients.c.client_id == client_id))).first()
        if row is None:
            raise NotFound(f"no API client {client_id!r}")
        return _client(row)

    async def list(self, tenant_id: int | None = None, *, include_revoked: bool = False) -> list[ApiClientRecord]:
        query = self._query().order_by(api_clients.c.id)
        if tenant_id is not None:
            query = query.where(api_clients.c.tenant_id == tenant_id)
        if not include_revoked:
            query = query.where(api_clients.c.revoked_at.is_(None))
        async with self.db.connect() as conn:
            return [_client(r) for r in await conn.execute(query)]

    async def revoke(self, client_id: str, *, tenant_id: int | None = None) -> ApiClientRecord:
        """Revoke a client (its tokens stop working at once); ``tenant_id`` restricts to one tenant."""
        cond = [api_clients.c.client_id == client_id, api_clients.c.revoked_at.is_(None)]
        if tenant_id is not None:
            cond.append(api_clients.c.tenant_id == tenant_id)
        async with self.db.begin() as conn:
            result = await conn.execute(update(api_clients).where(*cond).values(revoked_at=datetime.now(UTC)))
        if result.rowcount == 0:
            raise NotFound(f"no active API client {client_id!r}")
        return await self.get(client_id)


@dataclass(frozen=True, slots=True)
class HubStats:
    """Hub-wide counters for the metrics endpoint (all tenants)."""

    runs_by_status: dict[str, int]
    records_written: dict[str, int]
    record_errors: int
    queued_runs: int


async def hub_stats(db: Database) -> HubStats:
    """Run counts by status, records created/updated/deleted, record errors and queued runs."""
    async with db.connect() as conn:
        by_status = {
            status: count
            for status, count in await conn.execute(
                select(sync_runs.c.status, func.count()).group_by(sync_runs.c.status)
            )
        }
        totals = (
            await conn.execute(
                select(
                    func.coalesce(func.sum(sync_runs.c.created), 0),
                    func.coalesce(func.sum(sync_runs.c.updated), 0),
                    func.coalesce(func.sum(sync_runs.c.deleted), 0),
                    func.coalesce(func.sum(sync_runs.c.errors), 0),
                ).where(sync_runs.c.dry_run.is_(False))
            )
        ).one()
    return HubStats(
        runs_by_status=by_status,
        records_written={"created": int(totals[0]), "updated": int(totals[1]), "deleted": int(totals[2])},
        record_errors=int(totals[3]),
        queued_runs=by_status.get("queued", 0),
    )
