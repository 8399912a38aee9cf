"""Request and response shapes of the management API (never the store's records or ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ChangeOut",
    "ChangesPage",
    "CheckOut",
    "ConnectorOut",
    "EntityOut",
    "EntityPage",
    "MappingCheckOut",
    "MappingOut",
    "PreviewOut",
    "PreviewRowOut",
    "RunAccepted",
    "RunErrorOut",
    "RunErrorPage",
    "RunOut",
    "SourceCreate",
    "SourceOut",
    "SourcePatch",
    "SourcePut",
    "StreamOut",
    "TenantCreate",
    "TenantOut",
]

_IN = ConfigDict(extra="forbid", frozen=True)


# --- input ---------------------------------------------------------------------------------------


class TenantCreate(BaseModel):
    model_config = _IN
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="Lowercase letters, digits, dashes")
    name: str | None = Field(default=None, max_length=255)


class SourceOptionsIn(BaseModel):
    """Hub-level source options to set (docs/identity.md); fields left out keep their value."""

    model_config = _IN
    id_prefix: str | None = Field(default=None, description="Prefix of the source's sourcedIds and references")
    precedence: int | None = Field(default=None, description="Among linked records, the lowest is shown")
    references: Literal["warn", "reject"] | None = Field(
        default=None, description="What happens to a record whose reference points at a missing object")

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class SourceCreate(BaseModel):
    model_config = _IN
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    connector: str = Field(min_length=1, max_length=128)
    config: dict[str, Any] = Field(default_factory=dict, description="Validated by the connector's config model")
    enabled: bool = True
    options: SourceOptionsIn | None = Field(
        default=None, description="Without an id_prefix: none for the tenant's first source, 'NAME:' for later ones")


class SourcePut(BaseModel):
    """Replace a source's config (every field again, secrets included)."""

    model_config = _IN
    config: dict[str, Any]
    enabled: bool = True


class SourcePatch(BaseModel):
    """Change some config fields (merged into the stored config; secrets kept unless given)."""

    model_config = _IN
    config: dict[str, Any] | None = None
    enabled: bool | None = None
    options: SourceOptionsIn | None = None


# --- output --------------------------------------------------------------------------------------


@dataclass
class TenantOut:
    slug: str
    name: str
    created_at: datetime


@dataclass
class SourceOut:
    """A source; secret config fields appear as ``"***"`` and are never returned."""

    name: str
    connector: str
    enabled: bool
    config: dict[str, Any]
    secret_fields: list[str]
    created_at: datetime
    updated_at: datetime
    #: hub-level options: id_prefix, precedence, references (docs/identity.md)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckOut:
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class StreamOut:
    name: str
    target: str
    description: str
    depends_on: list[str]
    mapped: bool


@dataclass
class ConnectorOut:
    name: str
    kind: str
    title: str
    streams: list[StreamOut]
    #: JSON Schema of the config; secret fields are ``writeOnly``
    config_schema: dict[str, Any]


@dataclass
class MappingOut:
    connector: str
    stream: str
    target: str
    file: str
    tenant: str | None
    overridden_by: list[str]
    error: str | None


@dataclass
class MappingCheckOut:
    ok: bool
    checked: int
    problems: list[str]


@dataclass
class PreviewRowOut:
    ref: str
    ok: bool
    data: dict[str, Any] | None = None
    field: str | None = None
    error: str | None = None


@dataclass
class PreviewOut:
    connector: str
    stream: str
    source: str
    target: str
    rows: list[PreviewRowOut]


@dataclass
class RunOut:
    id: int
    source: str
    status: str
    dry_run: bool
    full_refresh: bool
    created: int
    updated: int
    deleted: int
    unchanged: int
    errors: int
    #: records kept with a problem (a reference to a missing or tobedeleted object ...)
    warnings: int
    per_stream: dict[str, dict[str, int]]
    message: str | None
    attempts: int
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None


@dataclass
class RunAccepted:
    run_id: int
    status: str
    dry_run: bool
    href: str


@dataclass
class RunErrorOut:
    stream: str
    ref: str
    field: str | None
    message: str
    #: "error": the record was not kept; "warning": it was kept, with this problem
    severity: Literal["error", "warning"]


@dataclass
class RunErrorPage:
    run_id: int
    total: int
    offset: int
    limit: int
    items: list[RunErrorOut]


@dataclass
class ChangeOut:
    seq: int
    type: str
    id: str
    op: str
    version: int
    at: datetime
    run_id: int | None
    data: dict[str, Any]


@dataclass
class ChangesPage:
    """Changes after ``after``; ask again with ``after=next`` (equal to ``after`` when nothing is new)."""

    after: int
    next: int
    items: list[ChangeOut]


@dataclass
class LinkedOut:
    """A record of a group of linked records (hub.identity): the one shown has ``primary``."""

    type: str
    id: str
    source: str | None
    primary: bool


@dataclass
class EntityOut:
    type: str
    id: str
    version: int
    status: str
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    #: the source that produced the record (None once that source was removed)
    source: str | None = None
    #: the records of other sources linked with this one, itself included (empty when unlinked)
    links: list[LinkedOut] = field(default_factory=list)


@dataclass
class EntityPage:
    type: str
    total: int
    offset: int
    limit: int
    items: list[EntityOut]
