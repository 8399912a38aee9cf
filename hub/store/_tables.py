"""Table definitions (SQLAlchemy Core). Private to the store: nothing outside hub.store imports this.

Keys are integers (SQLite rowid, PostgreSQL identity); string identifiers (tenant slug, stable id)
are indexed columns, never primary keys, which keeps inserts fast on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
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
    #: hub-level options (hub.store.SourceOptions: id prefix, precedence, reference policy; migration 0008)
    Column("options", Json, nullable=False, default=dict),
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
    #: record warnings (kept records with a problem: dangling references, tolerated values; migration 0009)
    Column("warnings", Integer, nullable=False, default=0, server_default="0"),
    Column("per_stream", Json, nullable=False),
    Column("message", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=1),
    Column("queued_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("heartbeat_at", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    Index(None, "tenant_id", "source_id", "status"),
    #: the worker (host:pid) that claimed the run; NULL when unclaimed (migration 0006)
    Column("worker", String(128), nullable=True),
    Index(None, "status"),
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
    #: "error" (the record was not kept) | "warning" (kept, with a problem) (migration 0009)
    Column("severity", String(16), nullable=False, default="error", server_default="error"),
    Index(None, "run_id", "severity"),
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
    #: the entity shown for this one's group of linked records (hub.identity), NULL when this is it
    #: or it is not linked (migration 0008)
    Column("linked_to", Key, nullable=True),
    UniqueConstraint("tenant_id", "type", "stable_id"),
    #: the linked records of a tenant (few): a partial index keeps "has this tenant links?" cheap
    Index("ix_entities_linked", "tenant_id", "type", "linked_to", sqlite_where=text("linked_to IS NOT NULL"),
          postgresql_where=text("linked_to IS NOT NULL")),
    #: the API's default order (pages are index ranges); more indexes on PostgreSQL only (migration 0003)
    Index(None, "tenant_id", "type", "id"),
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

# --- federation (hub.federation) ----------------------------------------------------------------

#: local ActivityPub actors, created on first use, each with its RSA key (private key encrypted)
federation_actors = Table(
    "federation_actors",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    #: NULL for the instance actor
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    #: preferredUsername, unique per host (``alpha``, ``alpha.roster``, ``alpha.course.c1``)
    Column("username", String(255), nullable=False, unique=True),
    #: instance | org | roster | library | course | class
    Column("kind", String(16), nullable=False),
    #: the sourcedId of the course or class a course / class actor stands for
    Column("ref", String(255), nullable=True),
    Column("public_key_pem", Text, nullable=False),
    #: PKCS#8 PEM encrypted with the hub's SecretBox
    Column("private_key", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

#: remote actors following a local actor
federation_followers = Table(
    "federation_followers",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("actor_id", Key, ForeignKey("federation_actors.id", ondelete="CASCADE"), nullable=False),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    Column("follower", String(2048), nullable=False),
    Column("inbox", String(2048), nullable=False),
    Column("shared_inbox", String(2048), nullable=True),
    #: the Follow activity's id (answered by Accept / Reject)
    Column("follow_id", String(2048), nullable=False),
    #: pending | accepted | rejected | gone
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    #: the OneRoster scopes granted at approval (full IMS form, hub.auth.may_read decides what the
    #: follower receives); NULL: roster-core only (migration 0012)
    Column("scopes", Json, nullable=True),
    UniqueConstraint("actor_id", "follower"),
    Index(None, "tenant_id", "state"),
)

#: remote actors a tenant follows (hub to hub), feeding a ``federation`` source
federation_following = Table(
    "federation_following",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("actor_id", Key, ForeignKey("federation_actors.id", ondelete="CASCADE"), nullable=False),
    Column("remote_actor", String(2048), nullable=False),
    Column("remote_inbox", String(2048), nullable=False),
    Column("follow_id", String(2048), nullable=False),
    #: pending | accepted | rejected
    Column("state", String(16), nullable=False),
    Column("source_name", String(128), nullable=True),
    #: objects arrived since the source was last synced by the federation worker
    Column("dirty", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "remote_actor"),
)

#: every activity received (deduplicated by its id)
federation_inbox = Table(
    "federation_inbox",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("activity_id", String(2048), nullable=False, unique=True),
    Column("actor", String(2048), nullable=False),
    Column("type", String(64), nullable=False),
    Column("payload", Json, nullable=False),
    #: accepted | ignored
    Column("outcome", String(16), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)

#: the current state of the objects followed remote actors sent (read by the federation connector)
federation_objects = Table(
    "federation_objects",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("remote_actor", String(2048), nullable=False),
    Column("object_id", String(2048), nullable=False),
    #: canonical type (``Course``) of the OneRoster record the object carries
    Column("type", String(64), nullable=False),
    Column("data", Json, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "object_id"),
    Index(None, "tenant_id", "remote_actor", "type"),
)

#: remote actors fetched (their key and inboxes), a cache refreshed on failure or age
federation_remote_actors = Table(
    "federation_remote_actors",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("actor", String(2048), nullable=False, unique=True),
    Column("key_id", String(2048), nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("inbox", String(2048), nullable=False),
    Column("shared_inbox", String(2048), nullable=True),
    Column("fetched_at", UtcDateTime(), nullable=False),
)

#: outgoing deliveries: one row per activity and (shared) inbox, claimed by workers
federation_deliveries = Table(
    "federation_deliveries",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("actor_id", Key, ForeignKey("federation_actors.id", ondelete="CASCADE"), nullable=False),
    Column("inbox", String(2048), nullable=False),
    Column("activity", Json, nullable=False),
    #: pending | delivered | failed | gone
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index(None, "status", "next_attempt_at"),
)

#: per tenant, the last change-log sequence turned into deliveries
federation_cursors = Table(
    "federation_cursors",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("last_seq", BigInteger, nullable=False, default=0),
)

# --- webhooks (hub.webhooks) ------------------------------------------------------------------

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),
    Column("description", String(255), nullable=False, default=""),
    #: event type patterns (``person.*``, ``sync.run.finished``), JSON list
    Column("event_types", Json, nullable=False),
    #: optional filters of change events: source names, canonical entity types (JSON lists)
    Column("sources", Json, nullable=True),
    Column("entity_types", Json, nullable=True),
    #: signing secret (``whsec_...``), encrypted (Fernet token); the previous one during a rotation
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text, nullable=True),
    Column("previous_secret_until", UtcDateTime(), nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("disabled_reason", Text, nullable=True),
    #: change sequence up to which the dispatcher has queued deliveries (advanced with them)
    Column("last_seq", BigInteger, nullable=False, default=0),
    #: first failure of the current failing period (None while deliveries succeed)
    Column("failing_since", UtcDateTime(), nullable=True),
    #: the worker currently delivering this subscription's queue, until when
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index(None, "tenant_id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("subscription_id", Key, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False),
    #: the ``webhook-id`` header: the same on every attempt and replay of one message
    Column("msg_id", String(64), nullable=False),
    #: change sequence of the event (system events: the tenant's sequence when they happened)
    Column("seq", BigInteger, nullable=True),
    Column("event_type", String(128), nullable=False),
    #: a system event (sent after the changes up to its ``seq``), not a change event
    Column("system", Boolean, nullable=False, default=False),
    #: the exact JSON body that is signed and sent
    Column("body", Text, nullable=False),
    #: pending | succeeded | failed | cancelled
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("replay_of", Key, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Index(None, "subscription_id", "status", "seq"),
    Index(None, "tenant_id", "subscription_id", "seq"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("delivery_id", Key, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=False),
    Column("error", Text, nullable=True),
    #: the start of the response body (settings webhooks.response_log_bytes)
    Column("response", Text, nullable=True),
)

#: SCIM 2.0 resources pushed by an identity provider into a ``scim_push`` source (hub.scim).
#: ``document`` is the SCIM JSON as the server returns it (never a password); ``version`` backs the
#: weak ETag; ``unique_key`` is the lower-cased userName of a live User (NULL once deleted, and for
#: Groups), so userName is unique per source without a partial index. ``store_key`` is the source's
#: (secret) key the ``scim_push`` connector reads its rows by.
scim_resources = Table(
    "scim_resources",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("source_id", Key, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("store_key", String(64), nullable=False),
    #: User | Group
    Column("resource_type", String(16), nullable=False),
    #: server-assigned id (UUID)
    Column("resource_id", String(64), nullable=False, unique=True),
    Column("external_id", String(255), nullable=True),
    #: userName of a User, displayName of a Group
    Column("user_name", String(255), nullable=True),
    Column("unique_key", String(255), nullable=True),
    Column("document", Json, nullable=False),
    Column("version", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "source_id", "resource_type", "unique_key"),
    Index(None, "tenant_id", "source_id", "resource_type", "id"),
    Index(None, "store_key", "resource_type", "id"),
)


# --- scheduler (migration 0006): schedules, slot ledger, safeguards, held runs --------------------

schedules = Table(
    "schedules",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("source_id", Key, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    #: cron | interval
    Column("kind", String(16), nullable=False),
    Column("cron", String(128), nullable=True),
    Column("interval_seconds", Integer, nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("full_refresh", Boolean, nullable=False, default=False),
    Column("enabled", Boolean, nullable=False, default=True),
    #: start of the slot grid: every node derives the same slots from it
    Column("anchor", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    #: when the schedule was removed (migration 0011); the row and its ledger stay for the audit
    Column("removed_at", UtcDateTime(), nullable=True),
    Index(None, "tenant_id", "source_id"),
)

schedule_ledger = Table(
    "schedule_ledger",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("schedule_id", Key, ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    Column("slot", UtcDateTime(), nullable=False),
    #: the node whose insert won the slot
    Column("node", String(128), nullable=False),
    Column("claimed_at", UtcDateTime(), nullable=False),
    #: queued (a new run) | coalesced (into a run already queued) | held (the source has a held run)
    #: | skipped (source disabled)
    Column("outcome", String(16), nullable=False),
    Column("run_id", Key, ForeignKey("sync_runs.id", ondelete="SET NULL"), nullable=True),
    UniqueConstraint("schedule_id", "slot"),
)

source_safeguards = Table(
    "source_safeguards",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("source_id", Key, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("max_delete_pct", Float, nullable=True),
    Column("max_change_pct", Float, nullable=True),
    #: per canonical type overrides: {"User": {"max_delete_pct": 5, "max_change_pct": null}}
    Column("per_type", Json, nullable=False),
    #: types with fewer active entities than this are not checked (tiny sets swing by whole percents)
    Column("min_entities", Integer, nullable=False, default=0),
    Column("updated_at", UtcDateTime(), nullable=False),
)

run_holds = Table(
    "run_holds",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("run_id", Key, ForeignKey("sync_runs.id", ondelete="CASCADE"), nullable=False, unique=True),
    #: the dry run whose counts are the diff
    Column("dry_run_id", Key, nullable=True),
    Column("diff", Json, nullable=False),
    Column("reasons", Json, nullable=False),
    #: NULL (waiting) | approved | discarded
    Column("decision", String(16), nullable=True),
    Column("decided_by", String(255), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

file_uploads = Table(
    "file_uploads",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    #: the source the file was delivered for (NULL: an SFTP file no source points at)
    Column("source_id", Key, ForeignKey("sources.id", ondelete="SET NULL"), nullable=True),
    #: where the file landed, relative to the tenant's import directory
    Column("path", String(1024), nullable=False),
    #: the name the uploader gave the file (recorded only, never used as a path)
    Column("file_name", String(255), nullable=True),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    #: api | cli | sftp
    Column("channel", String(8), nullable=False),
    #: the API client id, the SFTP account or the host user of the CLI
    Column("uploaded_by", String(255), nullable=False),
    #: the run queued on arrival, if any
    Column("run_id", Key, ForeignKey("sync_runs.id", ondelete="SET NULL"), nullable=True),
    Column("uploaded_at", UtcDateTime(), nullable=False),
    Index(None, "tenant_id", "source_id", "id"),
)

sftp_accounts = Table(
    "sftp_accounts",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("tenant_id", Key, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    #: login name, unique in the hub (it tells which tenant a connection belongs to)
    Column("username", String(64), nullable=False, unique=True),
    #: scrypt hash (``scrypt$n$r$p$salt$hash``); NULL: no password login
    Column("password_hash", String(255), nullable=True),
    #: OpenSSH public keys, one per line; NULL: no key login
    Column("public_keys", Text, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
