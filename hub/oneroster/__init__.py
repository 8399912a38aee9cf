"""The OneRoster 1.2 rostering provider, framework-free: filter grammar, SQL compilation, the endpoint
catalogue, the tenant-scoped query service and rendering. ``hub.api.oneroster`` is its HTTP edge.
"""

from hub.oneroster._catalogue import (
    CORE_SCOPES,
    DEMOGRAPHICS_SCOPES,
    RELATIONS,
    RESOURCES,
    SCOPE_PREFIX,
    Relation,
    Resource,
)
from hub.oneroster._compile import compile_filter, sort_key
from hub.oneroster._errors import (
    InvalidData,
    InvalidFilter,
    InvalidSelection,
    InvalidSort,
    OneRosterError,
    UnknownObject,
    status_info,
)
from hub.oneroster._fields import FieldSpec, fields_of
from hub.oneroster._filter import Logical, Predicate, parse_filter
from hub.oneroster._render import format_datetime, render_record
from hub.oneroster._service import DEFAULT_LIMIT, MAX_LIMIT, ListParams, Page, RosterQuery, find_relation

__all__ = [
    "CORE_SCOPES",
    "DEFAULT_LIMIT",
    "DEMOGRAPHICS_SCOPES",
    "MAX_LIMIT",
    "RELATIONS",
    "RESOURCES",
    "SCOPE_PREFIX",
    "FieldSpec",
    "InvalidData",
    "InvalidFilter",
    "InvalidSelection",
    "InvalidSort",
    "ListParams",
    "Logical",
    "OneRosterError",
    "Page",
    "Predicate",
    "Relation",
    "Resource",
    "RosterQuery",
    "UnknownObject",
    "compile_filter",
    "fields_of",
    "find_relation",
    "format_datetime",
    "parse_filter",
    "render_record",
    "sort_key",
    "status_info",
]
