"""SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON document.

:func:`apply_patch` takes the stored document and a PatchOp request body and returns the patched
copy; the caller validates the result against the resource's schema. Operation names are
case-insensitive (Entra ID sends ``Replace``/``Add``/``Remove``). Supported:

* ``add``/``replace`` without ``path``: ``value`` is an object whose keys are attribute names,
  extension URNs, or paths (``name.givenName``, ``urn:...:User:department``, as Entra sends them);
* ``add`` with a path: multi-valued attributes get the values appended (equal values not
  repeated), complex ones are merged, simple ones set;
* ``replace`` with a path: the attribute (or the selected values, or their sub-attribute) is
  replaced; a value filter that selects nothing is ``noTarget``, except ``attr[type eq "x"].sub``
  (add or replace), which adds ``{"type": "x", sub: value}`` (what Entra ID expects when a user
  has no such value yet);
* ``remove``: needs a path (``noTarget`` otherwise); removes the attribute, the selected values
  or their sub-attribute; with a ``value`` list on a multi-valued attribute (Entra's way of
  removing group members) removes the values whose ``value`` matches.

``id``, ``meta`` and ``schemas`` are not modifiable (``mutability``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from hub.scim._errors import ScimError, bad
from hub.scim._filter import AttrPath, Compare, PatchPath, matches, parse_path

__all__ = ["PATCH_SCHEMA", "apply_patch"]

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#: extension schemas this server knows (lower case)
EXTENSIONS = frozenset({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"})
_READ_ONLY = frozenset({"id", "meta", "schemas"})
MAX_OPERATIONS = 1000


def _key(mapping: Mapping[str, Any], name: str) -> str:
    """The existing key of ``mapping`` equal to ``name`` ignoring case, else ``name``."""
    if name in mapping:
        return name
    lowered = name.lower()
    return next((k for k in mapping if k.lower() == lowered), name)


def _container(document: dict[str, Any], urn: str | None, core: str, create: bool) -> dict[str, Any] | None:
    if urn is None or urn.lower() == core.lower():
        return document
    key = _key(document, urn)
    found = document.get(key)
    if isinstance(found, dict):
        return found
    if not create:
        return None
    document[key] = {}
    schemas = document.setdefault("schemas", [])
    if isinstance(schemas, list) and not any(str(s).lower() == urn.lower() for s in schemas):
        schemas.append(urn)
    return document[key]


def _merge_value(target: dict[str, Any], name: str, value: Any, *, add: bool) -> None:
    """Set ``target[name]`` (case-insensitive) from ``value``: append for add on lists, merge dicts."""
    key = _key(target, name)
    current = target.get(key)
    if add and isinstance(current, list):
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item not in current:
                current.append(item)
    elif add and isinstance(current, dict) and isinstance(value, Mapping):
        for sub, sub_value in value.items():
            _merge_value(current, sub, sub_value, add=True)
    else:
        target[key] = copy.deepcopy(value)


def _check_mutable(path: AttrPath) -> None:
    if path.urn is None and path.attr.lower() in _READ_ONLY:
        raise ScimError(400, f"attribute {path.attr!r} is read-only", "mutability")


def _is_schema_urn(text: str, document: Mapping[str, Any], core: str) -> bool:
    """Whether ``text`` names an extension schema (rather than an attribute inside one)."""
    lowered = text.lower()
    if lowered == core.lower():
        return False
    return lowered in EXTENSIONS or any(str(s).lower() == lowered for s in document.get("schemas") or [])


def _no_path(document: dict[str, Any], op: str, value: Any, core: str) -> None:
    if not isinstance(value, Mapping):
        raise bad(f"{op} without a path needs an object value", "invalidValue")
    for name, item in value.items():
        if name.lower() in _READ_ONLY:
            if name.lower() == "schemas":
                continue  # a PATCH value may repeat the schemas; they are kept as they are
            raise ScimError(400, f"attribute {name!r} is read-only", "mutability")
        if name.lower().startswith("urn:") and _is_schema_urn(name, document, core):
            if not isinstance(item, Mapping):
                raise bad(f"the value of extension {name!r} must be an object")
            container = _container(document, name, core, create=True)
            assert container is not None
            for sub, sub_value in item.items():
                _merge_value(container, sub, sub_value, add=op == "add")
        elif "." in name or name.lower().startswith("urn:"):
            _with_path(document, op, parse_path(name), item, core)
        else:
            _merge_value(document, name, item, add=op == "add")


def _simple_type_filter(flt: Any) -> tuple[str, Any] | None:
    if isinstance(flt, Compare) and flt.op == "eq" and flt.path.sub is None and flt.path.urn is None:
        return flt.path.attr, flt.value
    return None


def _with_path(document: dict[str, Any], op: str, target: PatchPath, value: Any, core: str) -> None:
    path = target.path
    _check_mutable(path)
    container = _container(document, path.urn, core, create=op != "remove")
    if container is None:
        return  # remove of something absent: nothing to do
    key = _key(container, path.attr)
    current = container.get(key)

    if target.filter is None:
        if path.sub is None:
            if op == "remove":
                if value is not None and isinstance(current, list):
                    drop = value if isinstance(value, list) else [value]
                    wanted = {str(v.get("value")) if isinstance(v, Mapping) else str(v) for v in drop}
                    container[key] = [
                        item for item in current
                        if not (isinstance(item, Mapping) and str(item.get("value")) in wanted)
                    ]
                    if not container[key]:
                        del container[key]
                else:
                    container.pop(key, None)
                return
            _merge_value(container, path.attr, value, add=op == "add")
            return
        # attr.sub
        if op == "remove":
            if isinstance(current, dict):
                current.pop(_key(current, path.sub), None)
            elif isinstance(current, list):
                for item in current:
                    if isinstance(item, dict):
                        item.pop(_key(item, path.sub), None)
            return
        if current is None:
            container[key] = current = {}
        if isinstance(current, list):
            raise bad(f"{path} selects a sub-attribute of every value of a multi-valued attribute; "
                      "use a value filter", "invalidPath")
        if not isinstance(current, dict):
            raise bad(f"{path.attr!r} is not a complex attribute", "invalidPath")
        _merge_value(current, path.sub, value, add=op == "add")
        return

    # attr[filter] or attr[filter].sub
    items = current if isinstance(current, list) else []
    selected = [item for item in items if isinstance(item, dict) and matches(target.filter, item, core)]
    if op == "remove":
        if target.sub is None:
            container[key] = [item for item in items if not any(item is s for s in selected)]
            if not container[key]:
                del container[key]
        else:
            for item in selected:
                item.pop(_key(item, target.sub), None)
        return
    if not selected:
        simple = _simple_type_filter(target.filter)
        if target.sub is not None and simple is not None:
            container[key] = [*items, {simple[0]: simple[1], target.sub: copy.deepcopy(value)}]
            return
        raise ScimError(400, f"the value filter of {path} selects no value", "noTarget")
    for item in selected:
        if target.sub is not None:
            _merge_value(item, target.sub, value, add=op == "add")
        elif isinstance(value, Mapping):
            if op == "replace":
                item.clear()
            for sub, sub_value in value.items():
                _merge_value(item, sub, sub_value, add=False)
        else:
            raise bad(f"the value for {path}[...] must be an object")


def apply_patch(document: Mapping[str, Any], request: Any, core: str) -> dict[str, Any]:
    """The patched copy of ``document``; ScimError 400 for a malformed request or an impossible operation."""
    if not isinstance(request, Mapping):
        raise bad("the PATCH body must be a JSON object", "invalidSyntax")
    schemas = request.get("schemas")
    if not isinstance(schemas, list) or PATCH_SCHEMA not in schemas:
        raise bad(f"the PATCH body must have schemas [{PATCH_SCHEMA!r}]", "invalidSyntax")
    operations = request.get("Operations", request.get("operations"))
    if not isinstance(operations, list) or not operations:
        raise bad("the PATCH body needs a non-empty 'Operations' list", "invalidSyntax")
    if len(operations) > MAX_OPERATIONS:
        raise bad(f"at most {MAX_OPERATIONS} operations per request", "invalidSyntax")
    result = copy.deepcopy(dict(document))
    for number, operation in enumerate(operations):
        if not isinstance(operation, Mapping):
            raise bad(f"operation {number} is not an object", "invalidSyntax")
        op = str(get_op(operation)).lower()
        if op not in ("add", "replace", "remove"):
            raise bad(f"operation {number}: op must be add, replace or remove, not {get_op(operation)!r}",
                      "invalidSyntax")
        raw_path = operation.get("path")
        value = operation.get("value")
        if raw_path is not None and not isinstance(raw_path, str):
            raise bad(f"operation {number}: path must be a string", "invalidPath")
        if not raw_path:
            if op == "remove":
                raise ScimError(400, f"operation {number}: remove needs a path", "noTarget")
            _no_path(result, op, value, core)
            continue
        if op != "remove" and "value" not in operation:
            raise bad(f"operation {number}: {op} needs a value", "invalidSyntax")
        if _is_schema_urn(raw_path, result, core):  # the whole extension
            if op == "remove":
                result.pop(_key(result, raw_path), None)
                result["schemas"] = [s for s in result.get("schemas", []) if str(s).lower() != raw_path.lower()]
            else:
                _no_path(result, op, {raw_path: value}, core)
            continue
        _with_path(result, op, parse_path(raw_path), value, core)
    return result


def get_op(operation: Mapping[str, Any]) -> Any:
    return operation.get("op", operation.get("Op", ""))
