"""Hub-level options of a source: how its records are identified and checked, whatever its connector.

A connector's own config (paths, URLs, credentials) is validated by the connector's model; these
options belong to the hub and are the same for every connector:

``id_prefix``
    Prepended to the sourcedId of every record the source produces and to every reference those
    records carry, so two sources that both number their records from 1 never overwrite each
    other. The first source of a tenant gets ``""`` (its consumers keep the sourcedIds they
    know); a source added to a tenant that already has one gets ``"<source name>:"`` unless
    given one. Changing it re-keys the source's records on its next sync.
``precedence``
    Which source's record is shown when records of several sources are linked as one person,
    class or course (see :mod:`hub.identity`): the lowest number wins, then the oldest record.
``references``
    ``warn`` (default): a record whose reference points at a missing or ``tobedeleted`` object is
    kept and reported as a warning; ``reject``: such a record is not kept and is reported as an
    error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.errors import ConfigurationError

__all__ = ["SourceOptions", "parse_source_options"]


class SourceOptions(BaseModel):
    """Hub-level options of one source (stored beside, not inside, the connector's config)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id_prefix: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_.:~-]*$",
                           description="prepended to this source's sourcedIds and references")
    precedence: int = Field(default=100, ge=0, le=10000,
                            description="lowest wins when linked records of several sources are shown")
    references: Literal["warn", "reject"] = Field(
        default="warn", description="what happens to a record whose reference points at a missing object")


def parse_source_options(raw: Mapping[str, Any] | None, base: SourceOptions | None = None) -> SourceOptions:
    """``base`` with the fields of ``raw`` replaced; ConfigurationError naming the bad fields."""
    values = (base or SourceOptions()).model_dump()
    values.update(raw or {})
    try:
        return SourceOptions.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors(include_url=False, include_input=False))
        raise ConfigurationError(f"invalid source options: {problems}") from None
