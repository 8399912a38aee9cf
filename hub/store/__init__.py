"""Persistence: SQLite (embedded) or PostgreSQL through SQLAlchemy 2 async, migrated with Alembic."""

from hub.store._db import MIGRATIONS_DIR, Database
from hub.store._links import EntityLinks, LinkCandidate, LinkedRecord
from hub.store._options import SourceOptions, parse_source_options
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
    "EntityLinks",
    "EntityRecord",
    "LinkCandidate",
    "LinkedRecord",
    "RunErrorRecord",
    "RunRecord",
    "SourceOptions",
    "SourceRecord",
    "Store",
    "TenantRecord",
    "TenantStore",
    "parse_source_options",
    "validation_problems",
]

from hub.store._clients import ApiClientRecord, ApiClientStore, HubStats, hub_stats  # noqa: E402

__all__ += ["ApiClientRecord", "ApiClientStore", "HubStats", "hub_stats"]

from hub.store._uploads import SftpAccount, SftpAccounts, UploadLog, UploadRecord  # noqa: E402

__all__ += ["SftpAccount", "SftpAccounts", "UploadLog", "UploadRecord"]
