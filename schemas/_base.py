"""Base pieces of the canonical model: the record base class, GUID references, shared types.

Everything here is validated by pydantic-core constraints (no Python validators) except the
``dateLastModified`` timezone normalisation, which runs only when the field is present.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "EXT_PATTERN",
    "CanonicalRecord",
    "ExtValue",
    "NonEmptyStr",
    "Ref",
    "SourcedId",
    "Status",
    "UtcDatetime",
    "Year",
]

#: OneRoster 1.2 extension values of an extensible enumeration: ``ext:`` then a token.
EXT_PATTERN = r"^ext:[A-Za-z0-9.\-_]+$"

SourcedId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
"""A OneRoster ``sourcedId``: stripped, non-empty, at most 255 characters."""

NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]
"""A string that must not be empty (required OneRoster strings)."""

ExtValue = Annotated[str, StringConstraints(pattern=EXT_PATTERN)]
"""An ``ext:``-prefixed extension value, accepted where the spec's enumeration is extensible."""

Year = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
"""A four-digit year, e.g. ``"2025"`` (OneRoster ``schoolYear`` of an academic session)."""


def _as_utc(value: datetime) -> datetime:
    # Naive datetimes are taken to be UTC; aware ones are converted to UTC so that two
    # representations of the same instant hash identically.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
"""A timezone-aware datetime in UTC; naive input is treated as UTC."""


class Status(StrEnum):
    """OneRoster 1.2 ``StatusEnum``: the record exists, or it is marked for deletion."""

    active = "active"
    tobedeleted = "tobedeleted"


class Ref(BaseModel):
    """A OneRoster GUIDRef without ``href``: the API adds ``href`` when it renders a record.

    ``type`` is the lowercase OneRoster type of the target (``org``, ``academicSession``,
    ``course``, ``class``, ``user``, ``enrollment``, ``demographics``, ``resource`` ...).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sourcedId: SourcedId
    type: NonEmptyStr


class CanonicalRecord(BaseModel):
    """Base of every canonical record type (the OneRoster ``Base`` class).

    Subclasses set two class variables other packages rely on:

    * ``oneroster_type``: the lowercase type used in GUIDRefs (``"org"``, ``"user"`` ...);
    * ``personal``: True when a record is personal data (of minors, often), which the API,
      webhooks and federation must never publish.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    oneroster_type: ClassVar[str]
    personal: ClassVar[bool]

    sourcedId: SourcedId
    status: Status = Status.active
    dateLastModified: UtcDatetime | None = None
    metadata: dict[str, Any] | None = Field(
        default=None, description="Extension data (OneRoster ``metadata``), free-form JSON object."
    )
