"""Plain data the core hands to observers: change events and run summaries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["ChangeEvent", "ChangeOp", "RunSummary"]


class ChangeOp(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One entry of a tenant's change log.

    ``seq`` is the tenant's change sequence (gap-free, increasing in commit order); ``data`` the
    canonical record as of ``version`` (for ``deleted``: the last known record, status ``tobedeleted``).
    """

    tenant: str
    seq: int
    entity_type: str
    stable_id: str
    op: ChangeOp
    version: int
    source: str | None
    run_id: int | None
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a sync run did, handed to ``on_sync_finished`` observers and shown by the CLI."""

    run_id: int
    tenant: str
    source: str
    status: str
    dry_run: bool
    created: int
    updated: int
    deleted: int
    unchanged: int
    errors: int
    started_at: datetime
    finished_at: datetime | None
    per_stream: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    #: records kept with a problem (e.g. a reference to a missing object), listed in the run report
    warnings: int = 0
