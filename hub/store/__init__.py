"""Persistence: SQLite (embedded) or PostgreSQL through SQLAlchemy 2 async, migrated with Alembic."""

from hub.store._db import MIGRATIONS_DIR, Database
from hub.store._records import (
    ChangeRecord,
    EntityRecord,
    RunErrorRecord,
    RunRecord,
    SourceRecord,
    TenantRecord,
)
from hub.store._store import Store, TenantStore, validation_problems

__all__ = [
    "MIGRATIONS_DIR",
    "ChangeRecord",
    "Database",
    "EntityRecord",
    "RunErrorRecord",
    "RunRecord",
    "SourceRecord",
    "Store",
    "TenantRecord",
    "TenantStore",
    "validation_problems",
]

from hub.store._clients import ApiClientRecord, ApiClientStore, HubStats, hub_stats  # noqa: E402

__all__ += ["ApiClientRecord", "ApiClientStore", "HubStats", "hub_stats"]
