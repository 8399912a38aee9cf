"""SCIM 2.0 (RFC 7643 / RFC 7644), framework-free: filters, PATCH, the resource store and the protocol.

The HTTP side is :mod:`hub.api._scim` (mounted at ``/scim/v2/{source}``); the ``scim_push``
connector reads what identity providers pushed through :class:`PushedReader`. See docs/scim.md.
"""

from hub.scim._errors import ERROR_SCHEMA, ScimError, error_body
from hub.scim._filter import Filter, PatchPath, matches, parse_filter, parse_path
from hub.scim._patch import PATCH_SCHEMA, apply_patch
from hub.scim._repository import PushedReader, ScimRecord, ScimRepository, open_pushed_reader
from hub.scim._resources import (
    ENTERPRISE_SCHEMA,
    GROUP_SCHEMA,
    KINDS,
    LIST_SCHEMA,
    MAX_RESULTS,
    USER_SCHEMA,
    resource_types,
    schemas,
    service_provider_config,
    validate_document,
)
from hub.scim._search import SEARCH_SCHEMA, ListQuery, query_from_params, query_from_search
from hub.scim._service import ScimService, etag_of, if_match_ok, project, render
from hub.scim._trigger import SyncTrigger

__all__ = [
    "ENTERPRISE_SCHEMA",
    "ERROR_SCHEMA",
    "GROUP_SCHEMA",
    "KINDS",
    "LIST_SCHEMA",
    "MAX_RESULTS",
    "PATCH_SCHEMA",
    "SEARCH_SCHEMA",
    "USER_SCHEMA",
    "Filter",
    "ListQuery",
    "PatchPath",
    "PushedReader",
    "ScimError",
    "ScimRecord",
    "ScimRepository",
    "ScimService",
    "SyncTrigger",
    "apply_patch",
    "error_body",
    "etag_of",
    "if_match_ok",
    "matches",
    "open_pushed_reader",
    "parse_filter",
    "parse_path",
    "project",
    "query_from_params",
    "query_from_search",
    "render",
    "resource_types",
    "schemas",
    "service_provider_config",
    "validate_document",
]
