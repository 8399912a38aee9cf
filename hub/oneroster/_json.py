"""Cross-dialect JSON expressions over ``entities.data`` (SQLite JSON1 / PostgreSQL JSONB).

Paths are rendered as SQL literals, never bound parameters, so that the expressions match the
expression indexes of migration 0003 on both databases. Every path segment comes from the field
catalogue or is checked against :data:`SEGMENT`, so a literal can never carry user-chosen SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import count
from typing import Any

from sqlalchemy import Numeric, String, case, cast, func, literal_column, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["SEGMENT", "JsonDialect"]

SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_alias_numbers = count(1)


def _check(path: Sequence[str]) -> None:
    for segment in path:
        if not SEGMENT.match(segment):
            raise ValueError(f"unsafe JSON path segment {segment!r}")


class JsonDialect:
    """Builds JSON expressions for one dialect (``"sqlite"`` or ``"postgresql"``)."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    # --- literals ---------------------------------------------------------------------------

    def _sqlite_path(self, path: Sequence[str]) -> Any:
        _check(path)
        return literal_column("'$" + "".join(f'."{p}"' for p in path) + "'")

    def _pg_path(self, path: Sequence[str]) -> Any:
        _check(path)
        return literal_column("'{" + ",".join(path) + "}'")

    # --- scalars ----------------------------------------------------------------------------

    def text(self, doc: Any, path: Sequence[str]) -> ColumnElement[str]:
        """The value at ``path`` as text (strings unquoted); NULL when absent."""
        if not path:  # an array element that is itself a scalar
            return type_coerce(doc.op("#>>")(literal_column("'{}'")) if self.pg else doc, String)
        if self.pg:
            return type_coerce(doc.op("#>>")(self._pg_path(path)), String)
        return type_coerce(func.json_extract(doc, self._sqlite_path(path)), String)

    def boolean(self, doc: Any, path: Sequence[str], value: bool) -> ColumnElement[bool]:
        """``value at path == value`` for a JSON boolean."""
        if self.pg:
            return self.text(doc, path) == ("true" if value else "false")
        target = doc if not path else func.json_extract(doc, self._sqlite_path(path))
        return type_coerce(target, String) == literal_column("1" if value else "0")

    def number(self, doc: Any, path: Sequence[str]) -> ColumnElement[Any]:
        """The value at ``path`` as a number when it is a JSON number, else NULL (never a cast error)."""
        if self.pg:
            node = doc.op("#>", return_type=JSONB)(self._pg_path(path)) if path else doc
            return case((func.jsonb_typeof(node) == "number", cast(self.text(doc, path), Numeric)), else_=None)
        if not path:
            return case((func.typeof(doc).in_(("integer", "real")), doc), else_=None)
        p = self._sqlite_path(path)
        return case((func.json_type(doc, p).in_(("integer", "real")), func.json_extract(doc, p)), else_=None)

    # --- arrays -----------------------------------------------------------------------------

    def elements(self, doc: Any, path: Sequence[str], name: str | None = None) -> Any:
        """A table-valued expression over the elements of the array at ``path``; column ``value``.

        ``name`` is its alias (default: a fresh one); give a fixed one where the same query is built
        again and again, so that the SQL text, and what is cached by it, stays the same."""
        name = name or f"je{next(_alias_numbers) % 10_000}"
        if self.pg:
            arr = doc.op("#>", return_type=JSONB)(self._pg_path(path))
            return func.jsonb_array_elements(arr).table_valued("value").alias(name)
        return func.json_each(doc, self._sqlite_path(path)).table_valued("value").alias(name)
