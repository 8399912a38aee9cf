"""The OpenAPI description of the OneRoster endpoints, generated from the catalogue and the canonical models.

Framework-free: :func:`openapi_components` gives the JSON Schemas of the records as this API renders
them (:mod:`hub.oneroster._render`: booleans as ``"true"`` / ``"false"``, GUIDRefs with ``href``,
profile ids as URIs), their envelopes and the ``imsx_StatusInfo`` error body;
:func:`openapi_operation` describes one endpoint (parameters, responses, scopes). ``hub.api`` puts them in
the hub's OpenAPI document.

Record schemas list no required property: ``fields=`` may select any of them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel

from hub.oneroster._catalogue import RELATIONS, RESOURCES, Relation, Resource
from hub.oneroster._errors import CODE_MINOR_VALUES
from hub.oneroster._fields import FieldSpec

__all__ = ["ERROR_STATUSES", "STATUS_INFO", "openapi_components", "openapi_operation", "openapi_operations"]

_PREFIX = "OneRoster"
_REF = "#/components/schemas/"
STATUS_INFO = f"{_PREFIX}StatusInfo"
#: the error statuses every OneRoster operation may answer, with when
ERROR_STATUSES: Mapping[int, str] = {
    400: "Bad filter, fields or sort (invalid_filter_field, invalid_selection_field) or parameter (invaliddata)",
    401: "No, expired or invalid access token (unauthorisedrequest)",
    403: "The token lacks the endpoint's scope (forbidden)",
    404: "No such record or parent in the caller's tenant (unknownobject)",
    429: "Rate limited (server_busy); see Retry-After",
    500: "A bug (internal_server_error); details are logged, never returned",
}
_GUIDREF = {
    "type": "object",
    "description": "A reference to another record (GUIDRef), with its URL.",
    "properties": {"href": {"type": "string", "format": "uri"}, "sourcedId": {"type": "string"},
                   "type": {"type": "string"}},
    "required": ["href", "sourcedId", "type"],
    "additionalProperties": False,
}
_BOOLEAN = {"type": "string", "enum": ["true", "false"]}
_URI_FIELDS = {"UserProfile": "profileId", "UserRole": "userProfile"}


def _clean(node: Any) -> Any:
    """pydantic's JSON Schema -> the binding's: nulls never rendered, booleans as strings."""
    if isinstance(node, list):
        return [_clean(n) for n in node]
    if not isinstance(node, dict):
        return node
    properties = node.get("properties")
    node = {k: v for k, v in node.items() if k not in ("title", "default", "properties")}
    if isinstance(properties, dict):  # names, not keywords: a "title" property stays
        node["properties"] = {name: _clean(schema) for name, schema in properties.items()}
    for key in ("anyOf", "oneOf"):
        branches = node.get(key)
        if isinstance(branches, list) and {"type": "null"} in branches:
            kept = [b for b in branches if b != {"type": "null"}]
            if len(kept) == 1:  # Optional[X]: X, keeping the field's description
                merged = _clean(kept[0])
                return {**merged, "description": node["description"]} if "description" in node else merged
            node = {**node, key: kept}
    if node.get("type") == "boolean":
        return {**_BOOLEAN, **({"description": node["description"]} if "description" in node else {})}
    return {k: (v if k == "properties" else _clean(v)) for k, v in node.items()}


def _model_schemas(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, ref_template=_REF + _PREFIX + "{model}", mode="serialization")
    defs = raw.pop("$defs", {})
    out = {f"{_PREFIX}{name}": _clean(schema) for name, schema in defs.items()}
    record = _clean(raw)
    record.pop("required", None)  # fields= may leave any of them out
    record["properties"]["sourcedId"] = {"type": "string"}
    record["properties"]["dateLastModified"] = {
        "type": "string", "format": "date-time", "description": "When the hub last changed the record (UTC)."}
    out[f"{_PREFIX}{model.__name__}"] = record
    return out


@cache
def _components() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for resource in RESOURCES.values():
        if f"{_PREFIX}{resource.type}" in out:
            continue
        out.update(_model_schemas(resource.model))
        record = {"$ref": _REF + _PREFIX + resource.type}
        out[f"{_PREFIX}{resource.type}Set"] = {
            "type": "object", "properties": {resource.plural: {"type": "array", "items": record}},
            "required": [resource.plural], "additionalProperties": False}
        out[f"{_PREFIX}Single{resource.type}"] = {
            "type": "object", "properties": {resource.singular: record},
            "required": [resource.singular], "additionalProperties": False}
    out[f"{_PREFIX}Ref"] = _GUIDREF
    for name, field in _URI_FIELDS.items():
        schema = out.get(f"{_PREFIX}{name}")
        if schema is not None and field in schema.get("properties", {}):
            schema["properties"][field] = {**schema["properties"][field], "type": "string", "format": "uri"}
    out[STATUS_INFO] = {
        "type": "object",
        "description": "The OneRoster 1.2 imsx_StatusInfo error body.",
        "properties": {
            "imsx_codeMajor": {"type": "string", "enum": ["success", "processing", "failure", "unsupported"]},
            "imsx_severity": {"type": "string", "enum": ["status", "warning", "error"]},
            "imsx_description": {"type": "string"},
            "imsx_CodeMinor": {
                "type": "object",
                "properties": {"imsx_codeMinorField": {"type": "array", "minItems": 1, "items": {
                    "type": "object",
                    "properties": {"imsx_codeMinorFieldName": {"type": "string"},
                                   "imsx_codeMinorFieldValue": {"type": "string",
                                                                "enum": sorted(CODE_MINOR_VALUES)}},
                    "required": ["imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"],
                    "additionalProperties": False}}},
                "required": ["imsx_codeMinorField"], "additionalProperties": False},
        },
        "required": ["imsx_codeMajor", "imsx_severity"],
        "additionalProperties": False,
    }
    return out


def openapi_components() -> dict[str, Any]:
    """Component schemas (name -> JSON Schema) of the OneRoster records, envelopes and errors."""
    return copy.deepcopy(_components())


def _sortable(fields: Mapping[str, FieldSpec]) -> list[str]:
    names = [name for name, spec in fields.items() if spec.scalar]
    names += [f"{name}.sourcedId" for name, spec in fields.items() if spec.kind == "ref"]
    return sorted({*names, "sourcedId", "status", "dateLastModified"})


def _selectable(fields: Mapping[str, FieldSpec]) -> list[str]:
    return sorted({*fields, "sourcedId", "status", "dateLastModified"})


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


def _fields_parameter(resource: Resource) -> dict[str, Any]:
    return _query("fields", {"type": "array", "items": {"type": "string", "enum": _selectable(resource.fields)}},
                  "Only these top-level fields, comma-separated; empty: every field.", style="form", explode=False)


def _collection_parameters(resource: Resource) -> list[dict[str, Any]]:
    return [
        _query("limit", {"type": "integer", "minimum": 1}, "Page size (default 100; larger values are clamped)."),
        _query("offset", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}, "First record of the page."),
        _query("sort", {"type": "string", "enum": _sortable(resource.fields)}, "Sort key (a scalar field)."),
        _query("orderBy", {"type": "string", "enum": ["asc", "desc"]}, "Sort direction (default asc)."),
        _query("filter", {"type": "string"},
               "OneRoster filter: field op 'value' joined by AND / OR (docs/oneroster-api.md#filter); "
               "400 invalid_filter_field when it does not parse or names an unknown field."),
        _fields_parameter(resource),
    ]


def openapi_operation(resource: Resource, *, collection: bool) -> dict[str, Any]:
    """What to add to the OpenAPI operation of an endpoint listing (or reading one of) ``resource``."""
    envelope = f"{_PREFIX}{resource.type}Set" if collection else f"{_PREFIX}Single{resource.type}"
    ok: dict[str, Any] = {
        "description": f"Envelope `{resource.plural if collection else resource.singular}`",
        "content": {"application/json": {"schema": {"$ref": _REF + envelope}}},
    }
    if collection:
        ok["headers"] = {
            "X-Total-Count": {"description": "Records matching the filter", "required": True,
                              "schema": {"type": "integer", "minimum": 0}},
            "Link": {"description": "RFC 8288 first / prev / next / last pages", "required": True,
                     "schema": {"type": "string"}},
        }
    error = {"content": {"application/json": {"schema": {"$ref": _REF + STATUS_INFO}}}}
    responses = {"200": ok, **{str(s): {"description": d, **error} for s, d in ERROR_STATUSES.items()}}
    return {
        "parameters": _collection_parameters(resource) if collection else [_fields_parameter(resource)],
        "responses": responses,
        "scopes": list(resource.scopes),
    }


def _relation_path(relation: Relation) -> str:
    return "/" + "/".join(f"{res}/{{{name}}}" for res, name in relation.parents) + "/" + relation.segment


def openapi_operations() -> dict[str, tuple[Resource, bool]]:
    """OpenAPI path (under the service root) -> (resource listed or read, whether it is a collection)."""
    out: dict[str, tuple[Resource, bool]] = {}
    for resource in RESOURCES.values():
        out[f"/{resource.path}"] = (resource, True)
        out[f"/{resource.path}/{{sourced_id}}"] = (resource, False)
    for relation in RELATIONS:
        out[_relation_path(relation)] = (relation.resource, True)
    return out
