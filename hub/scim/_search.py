"""Query parameters of a SCIM listing (RFC 7644 §3.4.2) and the SearchRequest body of ``.search`` (§3.4.3).

A listing is asked for two ways that mean the same: ``GET /Users?filter=...&sortBy=...`` (query
parameters, all strings) or ``POST /Users/.search`` (and ``POST /.search`` at the root, over
every resource type) with a ``urn:ietf:params:scim:api:messages:2.0:SearchRequest`` body. Both
become one :class:`ListQuery`; :func:`sort_key` orders documents by ``sortBy`` (RFC 7644
§3.4.2.3: a multi-valued attribute sorts by its primary value, else its first; strings compare
case-insensitively; resources without a value sort last in either order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.scim._errors import ScimError
from hub.scim._filter import AttrPath, get_ci, parse_attr_path

__all__ = ["SEARCH_SCHEMA", "ListQuery", "query_from_params", "query_from_search", "sort_key"]

SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
_FIELDS = frozenset(
    {"schemas", "attributes", "excludedattributes", "filter", "sortby", "sortorder", "startindex", "count"}
)
_ORDERS = ("ascending", "descending")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a listing asks for; ``attributes`` / ``excluded`` are comma-separated names (§3.9)."""

    filter: str | None = None
    start_index: int | None = None
    count: int | None = None
    sort_by: str | None = None
    descending: bool = False
    attributes: str | None = None
    excluded: str | None = None

    def sort_path(self) -> AttrPath | None:
        if not self.sort_by:
            return None
        try:
            return parse_attr_path(self.sort_by.strip())
        except ScimError:
            raise ScimError(
                400, f"sortBy {self.sort_by!r} is not an attribute path", "invalidValue"
            ) from None


def _order(value: str | None) -> bool:
    if value is None or value == "":
        return False
    if value.lower() not in _ORDERS:
        raise ScimError(400, f"sortOrder must be 'ascending' or 'descending', not {value!r}", "invalidValue")
    return value.lower() == "descending"


def _int(name: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ScimError(400, f"{name} must be an integer", "invalidValue")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise ScimError(400, f"{name} must be an integer", "invalidValue")


def query_from_params(params: Mapping[str, str]) -> ListQuery:
    """The query of ``GET /Users?...`` (parameter names are case-sensitive, as in the RFC)."""
    return ListQuery(
        filter=params.get("filter"),
        start_index=_int("startIndex", params.get("startIndex")),
        count=_int("count", params.get("count")),
        sort_by=params.get("sortBy") or None,
        descending=_order(params.get("sortOrder")),
        attributes=params.get("attributes"),
        excluded=params.get("excludedAttributes"),
    )


def _names(name: str, value: Any) -> str | None:
    """``attributes`` is a list of strings in a SearchRequest; a comma-separated string is taken too."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    raise ScimError(400, f"{name} must be a list of attribute names", "invalidValue")


def _text(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ScimError(400, f"{name} must be a string", "invalidValue")


def query_from_search(body: Any) -> ListQuery:
    """The query of a SearchRequest body; 400 invalidSyntax when it is not one."""
    if not isinstance(body, Mapping):
        raise ScimError(400, "a SearchRequest must be a JSON object", "invalidSyntax")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or SEARCH_SCHEMA not in schemas:
        raise ScimError(400, f"a SearchRequest must list {SEARCH_SCHEMA!r} in schemas", "invalidSyntax")
    unknown = sorted(k for k in body if k.lower() not in _FIELDS)
    if unknown:
        raise ScimError(400, f"unknown SearchRequest attributes: {', '.join(unknown)}", "invalidSyntax")
    attributes = _names("attributes", get_ci(body, "attributes"))
    excluded = _names("excludedAttributes", get_ci(body, "excludedAttributes"))
    if attributes and excluded:
        raise ScimError(400, "attributes and excludedAttributes may not both be given", "invalidSyntax")
    return ListQuery(
        filter=_text("filter", get_ci(body, "filter")),
        start_index=_int("startIndex", get_ci(body, "startIndex")),
        count=_int("count", get_ci(body, "count")),
        sort_by=_text("sortBy", get_ci(body, "sortBy")) or None,
        descending=_order(_text("sortOrder", get_ci(body, "sortOrder"))),
        attributes=attributes,
        excluded=excluded,
    )


def _sort_value(document: Mapping[str, Any], path: AttrPath, core: str) -> Any:
    container: Any = document
    if path.urn is not None and path.urn.lower() != core.lower():
        container = get_ci(document, path.urn)
    if not isinstance(container, Mapping):
        return None
    value = get_ci(container, path.attr)
    if isinstance(value, list):  # multi-valued: the primary value, else the first (RFC 7644 §3.4.2.3)
        if not value:
            return None
        value = next((v for v in value if isinstance(v, Mapping) and v.get("primary") is True), value[0])
        if isinstance(value, Mapping) and path.sub is None:
            value = get_ci(value, "value")
    if path.sub is not None:
        value = get_ci(value, path.sub) if isinstance(value, Mapping) else None
    return value


def sort_key(path: AttrPath, descending: bool) -> Callable[[tuple[Mapping[str, Any], str]], tuple[Any, ...]]:
    """A key for ``sorted`` over ``(document, core schema)`` pairs; pass ``reverse=descending``.

    Values of different JSON types never compare with each other: they group by type (booleans,
    numbers, strings); a missing value sorts last both ways.
    """

    def key(item: tuple[Mapping[str, Any], str]) -> tuple[Any, ...]:
        value = _sort_value(item[0], path, item[1])
        missing = 0 if descending else 1
        if value is None or isinstance(value, (Mapping, list)):
            return (missing, 0, "")
        if isinstance(value, bool):
            return (1 - missing, 1, int(value))
        if isinstance(value, (int, float)):
            return (1 - missing, 2, value)
        return (1 - missing, 3, str(value).casefold())

    return key
