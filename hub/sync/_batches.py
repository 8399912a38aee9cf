"""The values a stream's sync passes between its steps: counts, records waiting for their batch,
batches, classified rows, and the deletion candidates that streams of one type share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

__all__ = ["COUNT_KEYS", "Batch", "Counts", "Pending", "Problem", "Rows", "SharedType", "sorted_keys",
           "validation_problem"]

COUNT_KEYS = ("created", "updated", "deleted", "unchanged", "errors", "warnings")

#: one entry of the run report: (record ref, field or None, message, severity). Severity is
#: ``"error"`` (the record was not kept; counted in ``errors``) or ``"warning"`` (it was kept with
#: the problem; counted in ``warnings``). See ``StreamSync._error`` / ``StreamSync._warning``.
Problem = tuple[str, str | None, str, str]


def sorted_keys(value: Any) -> Any:
    """``value`` with the keys of every dict in it sorted (free-form data hashes the same in any order)."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def validation_problem(exc: ValidationError) -> tuple[str | None, str]:
    """The first problem of a pydantic error as (field, message), never echoing the value."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return loc, f"{first['msg']}{more}"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: int = 0
    warnings: int = 0

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in COUNT_KEYS}

    def add(self, other: Mapping[str, int]) -> None:
        for key in COUNT_KEYS:
            setattr(self, key, getattr(self, key) + other.get(key, 0))


@dataclass(slots=True)
class Pending:
    """A mapped, validated record waiting for its batch."""

    stable_id: str
    encoded: bytes
    hash: bytes
    raw_hash: bytes | None
    status: str
    replay: bool
    ref: str
    #: its place in the stream's read
    position: int = 0
    #: a later copy of a stable id that an earlier batch of the same read already classified
    #: (streams whose ``StreamSpec.duplicates`` is ``"last_wins"``)
    again: bool = False


@dataclass
class Batch:
    records: list[Pending] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    delta: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    read: int = 0
    #: stable id -> index in ``records``: a later copy replaces an earlier one (``last_wins`` streams)
    index: dict[str, int] = field(default_factory=dict)
    #: entity id -> position of its latest copy recognised unchanged by its raw hash (``last_wins``)
    raw_hits: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class Rows:
    """What classifying a batch gives: the rows to write and the batch's counts and errors."""

    errors: list[Problem]
    delta: dict[str, int]
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    updates: list[tuple[Any, ...]] = field(default_factory=list)
    raw_updates: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class SharedType:
    """Streams of one run whose mappings produce the same canonical type (``students`` and
    ``teachers`` both giving ``User``) share that type's deletion candidates: each stream takes
    out what it saw, and only the last of them marks what none saw, and only when every one of
    them read completely. Such streams never skip as unchanged (their entities' generation is
    common to all of them), and a resumed run whose earlier attempt finished one of them marks
    no deletion of that type (what that stream saw is not known any more; the next run marks).
    """

    streams: tuple[str, ...]
    candidates: set[int] | None = None
    complete: bool = True

    def is_last(self, stream: str) -> bool:
        return stream == self.streams[-1]
