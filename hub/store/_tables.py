"""Table definitions (SQLAlchemy Core). Private to the store: nothing outside hub.store imports this.

Keys are integers (SQLite rowid, PostgreSQL identity); string identifiers (tenant slug, stable id)
are indexed columns, never primary keys, which keeps inserts fast on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    TypeDecorator,
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}
metadata = MetaData(naming_convention=NAMING)

#: JSON on SQLite, JSONB on PostgreSQL (indexable, filterable with ->> operators)
Json = JSON().with_variant(JSONB(), "postgresql")
#: integer key: INTEGER PRIMARY KEY (rowid alias) on SQLite, BIGINT IDENTITY on PostgreSQL
Key = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive, as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


tenants = Table(
    "tenants",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    #: last change sequence handed out; bumped under the row lock so sequences commit in order
    Column("change_seq", BigInteger, nullable=False, default=0),
    Column("created_at", UtcDateTime(), nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("connector", String(128), nullable=False),
    #: non-secret config fields (JSON)
    Column("config", Json, nullable=False),
    #: secret config fields, encrypted (Fernet token of a JSON object); never returned
    Column("secrets", Text, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "name"),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("source_id", Key, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    #: queued | running | succeeded | failed
    Column("status", String(16), nullable=False),
    Column("dry_run", Boolean, nullable=False, default=False),
    Column("full_refresh", Boolean, nullable=False, default=False),
    Column("created", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("deleted", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("per_stream", Json, nullable=False),
    Column("message", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=1),
    Column("queued_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("heartbeat_at", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    Index(None, "tenant_id", "source_id", "status"),
)

run_errors = Table(
    "run_errors",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("run_id", Key, ForeignKey("sync_runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("stream", String(128), nullable=False),
    Column("ref", String(512), nullable=False),
    Column("field", String(255), nullable=True),
    Column("message", Text, nullable=False),
)

stream_states = Table(
    "stream_states",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("source_id", Key, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("stream", String(128), nullable=False),
    #: connector-owned cursor of the last committed batch
    Column("cursor", Json, nullable=False),
    #: run that last wrote this state, and whether that run finished the stream
    Column("run_id", Key, nullable=True),
    Column("done", Boolean, nullable=False, default=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("source_id", "stream"),
)

entities = Table(
    "entities",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("stable_id", String(255), nullable=False),
    Column("source_id", Key, ForeignKey("sources.id", ondelete="SET NULL"), nullable=True),
    Column("data", Json, nullable=False),
    #: blake2b-128 of the canonical record (sorted-key JSON)
    Column("hash", LargeBinary(16), nullable=False),
    #: blake2b-128 of the raw upstream record and the mapping fingerprint: an unchanged raw record
    #: is recognised without mapping it again
    Column("raw_hash", LargeBinary(16), nullable=True),
    Column("version", Integer, nullable=False),
    #: active | tobedeleted (OneRoster status)
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "type", "stable_id"),
    Index(None, "source_id", "type"),
)

changes = Table(
    "changes",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    #: per-tenant sequence, gap-free and increasing in commit order
    Column("seq", BigInteger, nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("stable_id", String(255), nullable=False),
    #: created | updated | deleted
    Column("op", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source_id", Key, nullable=True),
    Column("run_id", Key, nullable=True),
    Column("data", Json, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "seq"),
)

api_clients = Table(
    "api_clients",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    #: public client identifier (``ff_...``), used as the OAuth client_id and the JWT ``sub``
    Column("client_id", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    #: admin | integrator | reader
    Column("role", String(16), nullable=False),
    #: granted scopes, space separated
    Column("scopes", Text, nullable=False),
    #: salted hash of the secret (``scrypt$n$r$p$salt$hash``); the secret itself is never stored
    Column("secret_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Index(None, "tenant_id"),
)
