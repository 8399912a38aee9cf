"""Lookups into another stream: the spec a compiled mapping exposes and the table built from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.mapping._coerce import ValueProblem, text
from hub.mapping._paths import Getter, compile_path, parse_path

__all__ = ["LookupSpec", "build_lookup_table"]


@dataclass(frozen=True, slots=True)
class LookupSpec:
    """One table a mapping needs: records of ``stream``, indexed by the ``key`` path, giving ``value``.

    ``key`` and ``value`` are paths into the *other* stream's raw records. Two rules asking for the
    same (stream, key, value) share one spec and one table. The sync engine reads ``stream`` first
    and builds the table with :meth:`entry` (or :func:`build_lookup_table`).
    """

    stream: str
    key: str
    value: str
    _key: Getter = field(init=False, repr=False, compare=False, hash=False)
    _value: Getter = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", compile_path(parse_path(self.key)))
        object.__setattr__(self, "_value", compile_path(parse_path(self.value)))

    def entry(self, record: Mapping[str, Any]) -> tuple[str, Any] | None:
        """The (key, value) this record adds to the table, or None when its key is empty."""
        key = self._key(record)
        if key is None or key == "":
            return None
        try:
            key_text = text(key)
        except ValueProblem:  # a list or a mapping cannot be a key
            return None
        value = self._value(record)
        return key_text, (None if value == "" else value)


def build_lookup_table(spec: LookupSpec, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The table of ``spec`` over raw ``records`` of its stream (a later record wins on a duplicate key)."""
    table: dict[str, Any] = {}
    for record in records:
        pair = spec.entry(record)
        if pair is not None:
            table[pair[0]] = pair[1]
    return table
