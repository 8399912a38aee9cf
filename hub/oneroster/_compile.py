"""Filter AST and sort keys -> SQLAlchemy expressions over the ``entities`` table.

Semantics:

* scalar fields compare as their JSON type: strings and dates (ISO ``YYYY-MM-DD``) as text,
  booleans with ``=`` / ``!=`` only, ``dateLastModified`` as a timestamp (the hub's modification
  time, kept in an indexed column), ``sourcedId`` and ``status`` against their columns;
* ``~`` is a case-insensitive "contains" on text;
* ``!=`` also matches records where the field is absent;
* on lists (``grades``, ``terms.sourcedId``, ``roles.role``, ``roles.org.sourcedId`` ...) a predicate
  holds when ANY element matches; ``!=`` holds when NO element equals the value;
* GUIDRefs compare by ``sourcedId``: ``school='x'`` is ``school.sourcedId='x'``;
* ``metadata.<key>...`` is free-form: numbers compare numerically when the value is unquoted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, exists, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from hub.oneroster._errors import InvalidFilter, InvalidSort
from hub.oneroster._fields import COLUMN_FIELDS, FieldSpec
from hub.oneroster._filter import Logical, Node, Predicate
from hub.oneroster._json import SEGMENT, JsonDialect

__all__ = ["compile_filter", "parse_datetime", "sort_key"]

_ORDERING = (">", ">=", "<", "<=")


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 date or datetime as an aware UTC datetime ('Z' accepted; dates are midnight UTC)."""
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidFilter(f"{value!r} is not an ISO 8601 date or datetime") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _as_text(pred: Predicate) -> str:
    value = pred.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value


def _compare(expr: Any, op: str, value: Any, *, nullable: bool = True) -> ColumnElement[bool]:
    if op == "=":
        return expr == value
    if op == "!=":
        return or_(expr.is_(None), expr != value) if nullable else expr != value
    if op == ">":
        return expr > value
    if op == ">=":
        return expr >= value
    if op == "<":
        return expr < value
    if op == "<=":
        return expr <= value
    return expr.icontains(value, autoescape=True)  # "~"


class _Compiler:
    def __init__(self, table: Any, fields: Mapping[str, FieldSpec], dialect: str) -> None:
        self.table = table
        self.fields = fields
        self.json = JsonDialect(dialect)

    def node(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Logical):
            parts = [self.node(item) for item in node.items]
            return and_(*parts) if node.op == "AND" else or_(*parts)
        return self.predicate(node)

    # --- one predicate ------------------------------------------------------------------------

    def predicate(self, pred: Predicate) -> ColumnElement[bool]:
        head, rest = pred.path[0], pred.path[1:]
        spec = self.fields.get(head)
        if spec is None:
            raise InvalidFilter(f"unknown filter field {pred.field!r}")
        if head in COLUMN_FIELDS:
            if rest:
                raise InvalidFilter(f"{head!r} has no sub-fields")
            return self.column(pred, head)
        doc = self.table.c.data
        if spec.kind in ("refs", "strings", "objects"):
            return self.array(pred, spec, doc, rest)
        leaf, path = self.resolve(pred, spec, rest)
        return self.scalar(pred, leaf, doc, (head, *path))

    def column(self, pred: Predicate, name: str) -> ColumnElement[bool]:
        col = self.table.c[COLUMN_FIELDS[name]]
        if name == "dateLastModified":
            if pred.op == "~" or not isinstance(pred.value, str):
                raise InvalidFilter("dateLastModified takes a quoted ISO 8601 datetime and = != > >= < <=")
            return _compare(col, pred.op, parse_datetime(pred.value), nullable=False)
        return _compare(col, pred.op, _as_text(pred), nullable=False)

    def resolve(self, pred: Predicate, spec: FieldSpec, rest: Sequence[str]) -> tuple[FieldSpec, tuple[str, ...]]:
        """Walk ``rest`` below ``spec`` down to a scalar; a GUIDRef alone means its sourcedId."""
        path: list[str] = []
        current = spec
        for segment in rest:
            if current.kind == "free":
                if not SEGMENT.match(segment):
                    raise InvalidFilter(f"invalid metadata key in {pred.field!r}")
                path.append(segment)
                continue
            child = current.children.get(segment)
            if child is None or child.kind in ("refs", "strings", "objects"):
                raise InvalidFilter(f"unknown or unfilterable filter field {pred.field!r}")
            path.append(segment)
            current = child
        if current.kind in ("ref",):
            return current.children["sourcedId"], (*path, "sourcedId")
        if current.kind == "free":
            if not path:
                raise InvalidFilter(f"filter on {pred.field!r} needs a key, e.g. {pred.field}.key")
            return current, tuple(path)
        if current.kind == "object":
            raise InvalidFilter(f"{pred.field!r} is an object; filter on one of its fields")
        return current, tuple(path)

    def scalar(self, pred: Predicate, leaf: FieldSpec, doc: Any, path: Sequence[str]) -> ColumnElement[bool]:
        j = self.json
        kind, op = leaf.kind, pred.op
        if kind == "bool" or (kind == "free" and isinstance(pred.value, bool)):
            value = pred.value if isinstance(pred.value, bool) else _as_text(pred).lower()
            if op not in ("=", "!=") or value not in (True, False, "true", "false"):
                raise InvalidFilter(f"{pred.field!r} is a boolean: use = or != with true or false")
            wanted = value in (True, "true")
            match = j.boolean(doc, path, wanted)
            return match if op == "=" else not_(match)
        if kind == "number" or (kind == "free" and not pred.quoted):
            if op == "~" or not isinstance(pred.value, float):
                raise InvalidFilter(f"{pred.field!r} compares with a number and = != > >= < <=")
            return _compare(j.number(doc, path), op, pred.value)
        if kind == "date":
            text = _as_text(pred)
            if op == "~":
                raise InvalidFilter(f"{pred.field!r} is a date: use = != > >= < <=")
            try:
                text = date.fromisoformat(text[:10]).isoformat() if len(text) >= 10 else date.fromisoformat(text).isoformat()
            except ValueError:
                raise InvalidFilter(f"{pred.value!r} is not a date (YYYY-MM-DD)") from None
            return _compare(j.text(doc, path), op, text)
        if kind == "datetime":
            if op == "~" or not isinstance(pred.value, str):
                raise InvalidFilter(f"{pred.field!r} takes a quoted ISO 8601 datetime")
            stamp = parse_datetime(pred.value).isoformat().replace("+00:00", "Z")
            return _compare(j.text(doc, path), op, stamp)
        return _compare(j.text(doc, path), op, _as_text(pred))

    def array(self, pred: Predicate, spec: FieldSpec, doc: Any, rest: Sequence[str]) -> ColumnElement[bool]:
        j = self.json
        if spec.kind == "strings":
            if rest:
                raise InvalidFilter(f"{spec.name!r} is a list of strings and has no sub-fields")
            leaf, path = FieldSpec(spec.name, "string"), ()
        elif spec.kind == "refs":
            leaf, path = self.resolve(pred, FieldSpec(spec.name, "ref", spec.children), rest)
        else:
            if not rest:
                raise InvalidFilter(f"{spec.name!r} is a list of objects; filter on one of their fields")
            leaf, path = self.resolve(pred, FieldSpec(spec.name, "object", spec.children), rest)
        elements = j.elements(doc, (spec.name,))
        value = elements.c.value
        if pred.op == "!=":
            positive = Predicate(pred.path, "=", pred.value, pred.quoted)
            cond = self.scalar(positive, leaf, value, path)
            return not_(exists(select(true()).select_from(elements).where(cond)))
        cond = self.scalar(pred, leaf, value, path)
        return exists(select(true()).select_from(elements).where(cond))

    # --- sort -----------------------------------------------------------------------------

    def sort(self, field: str) -> Any:
        segments = tuple(field.split("."))
        head = segments[0]
        spec = self.fields.get(head)
        if spec is None or not all(SEGMENT.match(s) for s in segments):
            raise InvalidSort(f"unknown sort field {field!r}")
        if head in COLUMN_FIELDS:
            if len(segments) > 1:
                raise InvalidSort(f"unknown sort field {field!r}")
            return self.table.c[COLUMN_FIELDS[head]]
        if spec.kind in ("refs", "strings", "objects"):
            raise InvalidSort(f"cannot sort by the list field {field!r}")
        try:
            leaf, path = self.resolve(Predicate(segments, "=", ""), spec, segments[1:])
        except InvalidFilter as exc:
            raise InvalidSort(f"cannot sort by {field!r}: {exc.message}") from None
        return self.json.text(self.table.c.data, (head, *path))


def compile_filter(node: Node, table: Any, fields: Mapping[str, FieldSpec], dialect: str) -> ColumnElement[bool]:
    """The WHERE clause of a parsed filter, for records of the type whose fields are ``fields``."""
    return _Compiler(table, fields, dialect).node(node)


def sort_key(field: str, table: Any, fields: Mapping[str, FieldSpec], dialect: str) -> Any:
    """The ORDER BY expression of ``sort=field``; raises InvalidSort for unknown or list fields."""
    return _Compiler(table, fields, dialect).sort(field)
