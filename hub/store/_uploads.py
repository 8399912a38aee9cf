"""Delivered files and SFTP accounts: the upload log of a tenant, and the hub's SFTP logins.

:class:`UploadLog` is made from a :class:`~hub.store.TenantStore` and cannot leave its tenant.
:class:`SftpAccounts` is hub-wide for the login lookup (a username names its tenant) and
tenant-scoped for everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hub.errors import ConfigurationError, Conflict, NotFound
from hub.store._store import Store, TenantStore
from hub.store._tables import file_uploads, sftp_accounts, sources, tenants

__all__ = ["SftpAccount", "SftpAccounts", "UploadLog", "UploadRecord"]

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class UploadRecord:
    id: int
    source: str | None
    path: str
    file_name: str | None
    size: int
    sha256: str
    channel: str
    uploaded_by: str
    run_id: int | None
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class SftpAccount:
    """An SFTP login. ``password_hash`` never leaves the hub's process (and is never logged)."""

    id: int
    tenant: str
    username: str
    password_hash: str | None
    public_keys: tuple[str, ...]
    enabled: bool
    created_at: datetime

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(m for m, on in (("password", self.password_hash), ("publickey", self.public_keys)) if on)


class UploadLog:
    """The uploads of one tenant."""

    def __init__(self, tenant: TenantStore) -> None:
        self.tenant = tenant
        self.db = tenant.db

    def _query(self) -> Any:
        return (select(file_uploads, sources.c.name.label("source_name"))
                .outerjoin(sources, sources.c.id == file_uploads.c.source_id)
                .where(file_uploads.c.tenant_id == self.tenant.tenant_id))

    @staticmethod
    def _record(row: Any) -> UploadRecord:
        return UploadRecord(row.id, row.source_name, row.path, row.file_name, row.size, row.sha256, row.channel,
                            row.uploaded_by, row.run_id, row.uploaded_at)

    async def add(self, *, source_id: int | None, path: str, file_name: str | None, size: int, sha256: str,
                  channel: str, uploaded_by: str, run_id: int | None) -> UploadRecord:
        async with self.db.begin() as conn:
            result = await conn.execute(file_uploads.insert().values(
                tenant_id=self.tenant.tenant_id, source_id=source_id, path=path[:1024],
                file_name=file_name[:255] if file_name else None, size=size, sha256=sha256, channel=channel,
                uploaded_by=uploaded_by[:255], run_id=run_id, uploaded_at=_now()))
            upload_id = result.inserted_primary_key[0]
        return await self.get(upload_id)

    async def get(self, upload_id: int) -> UploadRecord:
        async with self.db.connect() as conn:
            row = (await conn.execute(self._query().where(file_uploads.c.id == upload_id))).first()
        if row is None:
            raise NotFound(f"no upload {upload_id} in tenant {self.tenant.tenant.slug!r}")
        return self._record(row)

    async def list(self, *, source: str | None = None, limit: int = 50, offset: int = 0) -> list[UploadRecord]:
        query = self._query()
        if source is not None:
            query = query.where(sources.c.name == source)
        query = query.order_by(file_uploads.c.id.desc()).limit(limit).offset(offset)
        async with self.db.connect() as conn:
            return [self._record(r) for r in await conn.execute(query)]


class SftpAccounts:
    """SFTP logins of the hub."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    @staticmethod
    def _record(row: Any) -> SftpAccount:
        keys = tuple(line for line in (row.public_keys or "").splitlines() if line.strip())
        return SftpAccount(row.id, row.slug, row.username, row.password_hash, keys, row.enabled, row.created_at)

    def _query(self) -> Any:
        return select(sftp_accounts, tenants.c.slug).join(tenants, tenants.c.id == sftp_accounts.c.tenant_id)

    async def add(self, tenant: TenantStore, username: str, *, password_hash: str | None,
                  public_keys: tuple[str, ...]) -> SftpAccount:
        if not _USERNAME.match(username):
            raise ConfigurationError(f"SFTP username {username!r} must be 1-64 lowercase letters, digits, '.', '_' "
                                     "or '-'")
        if password_hash is None and not public_keys:
            raise ConfigurationError("an SFTP account needs a password or a public key")
        now = _now()
        try:
            async with self.db.begin() as conn:
                await conn.execute(sftp_accounts.insert().values(
                    tenant_id=tenant.tenant_id, username=username, password_hash=password_hash,
                    public_keys="\n".join(public_keys) or None, enabled=True, created_at=now, updated_at=now))
        except IntegrityError:
            raise Conflict(f"SFTP user {username!r} already exists") from None
        return await self.login(username)  # type: ignore[return-value]

    async def login(self, username: str) -> SftpAccount | None:
        """The enabled account ``username`` (any tenant), or None."""
        async with self.db.connect() as conn:
            row = (await conn.execute(self._query().where(sftp_accounts.c.username == username,
                                                           sftp_accounts.c.enabled.is_(True)))).first()
        return self._record(row) if row is not None else None

    async def list(self, tenant: TenantStore) -> list[SftpAccount]:
        async with self.db.connect() as conn:
            rows = await conn.execute(self._query().where(sftp_accounts.c.tenant_id == tenant.tenant_id)
                                      .order_by(sftp_accounts.c.username))
            return [self._record(r) for r in rows]

    async def remove(self, tenant: TenantStore, username: str) -> None:
        async with self.db.begin() as conn:
            result = await conn.execute(sftp_accounts.delete().where(
                sftp_accounts.c.tenant_id == tenant.tenant_id, sftp_accounts.c.username == username))
        if result.rowcount == 0:
            raise NotFound(f"no SFTP user {username!r} in tenant {tenant.tenant.slug!r}")

    async def set_enabled(self, tenant: TenantStore, username: str, enabled: bool) -> None:
        async with self.db.begin() as conn:
            result = await conn.execute(update(sftp_accounts).where(
                sftp_accounts.c.tenant_id == tenant.tenant_id, sftp_accounts.c.username == username)
                .values(enabled=enabled, updated_at=_now()))
        if result.rowcount == 0:
            raise NotFound(f"no SFTP user {username!r} in tenant {tenant.tenant.slug!r}")
