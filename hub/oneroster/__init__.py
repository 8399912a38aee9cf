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
    CODE_MINOR_VALUES,
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
from hub.oneroster._json import JsonDialect
from hub.oneroster._links import show_linked
from hub.oneroster._openapi import openapi_components, openapi_operation, openapi_operations
from hub.oneroster._references import REFERENCE_MODES, ReferencesMode, apply_references, emit_records
from hub.oneroster._render import format_datetime, render_record
from hub.oneroster._service import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ListParams,
    Page,
    RosterQuery,
    find_relation,
    parse_references,
)

__all__ = [
    "CODE_MINOR_VALUES",
    "CORE_SCOPES",
    "DEFAULT_LIMIT",
    "DEMOGRAPHICS_SCOPES",
    "MAX_LIMIT",
    "REFERENCE_MODES",
    "RELATIONS",
    "RESOURCES",
    "SCOPE_PREFIX",
    "FieldSpec",
    "InvalidData",
    "InvalidFilter",
    "InvalidSelection",
    "InvalidSort",
    "JsonDialect",
    "ListParams",
    "Logical",
    "OneRosterError",
    "Page",
    "Predicate",
    "ReferencesMode",
    "Relation",
    "Resource",
    "RosterQuery",
    "UnknownObject",
    "apply_references",
    "compile_filter",
    "emit_records",
    "fields_of",
    "find_relation",
    "format_datetime",
    "openapi_components",
    "openapi_operation",
    "openapi_operations",
    "parse_filter",
    "parse_references",
    "render_record",
    "show_linked",
    "sort_key",
    "status_info",
]
