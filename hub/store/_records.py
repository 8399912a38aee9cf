"""Read shapes the store returns (frozen dataclasses; no ORM objects leave the store)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.store._options import SourceOptions

__all__ = ["ChangeRecord", "EntityRecord", "RunErrorRecord", "RunRecord", "SourceRecord", "TenantRecord"]


@dataclass(frozen=True, slots=True)
class TenantRecord:
    id: int
    slug: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A source. ``config`` holds the non-secret fields only; ``secret_names`` the names of stored secrets."""

    id: int
    tenant_id: int
    name: str
    connector: str
    config: Mapping[str, Any]
    secret_names: tuple[str, ...]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    options: SourceOptions = field(default_factory=SourceOptions)


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    tenant_id: int
    source_id: int
    source: str
    status: str
    dry_run: bool
    full_refresh: bool
    created: int
    updated: int
    deleted: int
    unchanged: int
    errors: int
    per_stream: Mapping[str, Mapping[str, int]]
    message: str | None
    attempts: int
    queued_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    #: records kept with a problem (dangling references, tolerated values): see RunErrorRecord.severity
    warnings: int = 0

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


@dataclass(frozen=True, slots=True)
class RunErrorRecord:
    id: int
    run_id: int
    stream: str
    ref: str
    field: str | None
    message: str
    #: "error": the record was not kept; "warning": it was kept, with the problem reported
    severity: str = "error"


@dataclass(frozen=True, slots=True)
class EntityRecord:
    id: int
    type: str
    stable_id: str
    source_id: int | None
    data: Mapping[str, Any]
    version: int
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    seq: int
    entity_type: str
    stable_id: str
    op: str
    version: int
    source_id: int | None
    run_id: int | None
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
