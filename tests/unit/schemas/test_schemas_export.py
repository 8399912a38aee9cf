"""The committed JSON Schemas are fresh, well-formed, and accept the records the models dump."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from schemas import BUILTIN_TYPES
from schemas.export import JSON_DIR, export_json_schemas, render_json_schema


def test_committed_schemas_are_fresh(tmp_path: Path) -> None:
    written = export_json_schemas(tmp_path)
    assert [p.name for p in written] == [f"{name}.json" for name in BUILTIN_TYPES]
    committed = sorted(p.name for p in JSON_DIR.glob("*.json"))
    assert committed == sorted(p.name for p in written), "run `python -m schemas.export`"
    for path in written:
        assert (JSON_DIR / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{path.name} is stale: run `python -m schemas.export`"
        )


def test_export_format() -> None:
    for name in BUILTIN_TYPES:
        text = render_json_schema(name)
        assert text.endswith("}\n") and not text.endswith("\n\n")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert json.loads(text)["title"] == name


def test_export_is_idempotent(tmp_path: Path) -> None:
    first = export_json_schemas(tmp_path)
    mtimes = [p.stat().st_mtime_ns for p in first]
    assert [p.stat().st_mtime_ns for p in export_json_schemas(tmp_path)] == mtimes


@pytest.mark.slow
def test_runnable_as_module(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-m", "schemas.export", str(tmp_path)],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.json" for n in BUILTIN_TYPES)


# -- a minimal JSON Schema (2020-12 subset) checker, enough for what pydantic emits ----------

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": int,
    "number": (int, float),
}
_KNOWN = {
    "$defs", "$ref", "additionalProperties", "anyOf", "default", "description", "enum", "format",
    "items", "maxLength", "minItems", "minLength", "pattern", "properties", "required", "title", "type",
}  # fmt: skip


def _check_schema(node: Any) -> None:
    """Every keyword pydantic emitted is one this checker understands, with a sane value."""
    if isinstance(node, dict):
        unknown = set(node) - _KNOWN
        assert not unknown, f"unsupported keywords {unknown}"
        if "type" in node:
            assert node["type"] in _TYPES
        if "pattern" in node:
            re.compile(node["pattern"])
        if "required" in node:
            assert set(node["required"]) <= set(node.get("properties", {}))
        for key in ("properties", "$defs"):
            for child in node.get(key, {}).values():
                _check_schema(child)
        for child in node.get("anyOf", []):
            _check_schema(child)
        if isinstance(node.get("items"), dict):
            _check_schema(node["items"])


def _errors(value: Any, node: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        return _errors(value, root["$defs"][name], root, path)
    if "anyOf" in node:
        if any(not _errors(value, option, root, path) for option in node["anyOf"]):
            return []
        return [f"{path}: matches no anyOf option"]
    errors: list[str] = []
    expected = node.get("type")
    if expected is not None:
        python_type = _TYPES[expected]
        is_bool_as_number = expected in {"integer", "number"} and isinstance(value, bool)
        if not isinstance(value, python_type) or is_bool_as_number:
            return [f"{path}: expected {expected}, got {type(value).__name__}"]
    if "enum" in node and value not in node["enum"]:
        errors.append(f"{path}: {value!r} not in enum")
    if isinstance(value, str):
        if len(value) < node.get("minLength", 0) or len(value) > node.get("maxLength", len(value)):
            errors.append(f"{path}: bad length")
        if "pattern" in node and not re.search(node["pattern"], value):
            errors.append(f"{path}: does not match {node['pattern']}")
    if isinstance(value, list):
        if len(value) < node.get("minItems", 0):
            errors.append(f"{path}: too few items")
        for i, item in enumerate(value):
            errors += _errors(item, node.get("items", {}), root, f"{path}[{i}]")
    if isinstance(value, dict) and "properties" in node:
        props = node["properties"]
        errors += [f"{path}: missing {key}" for key in node.get("required", []) if key not in value]
        if node.get("additionalProperties") is False:
            errors += [f"{path}: unexpected {key}" for key in value if key not in props]
        for key, item in value.items():
            if key in props:
                errors += _errors(item, props[key], root, f"{path}.{key}")
    return errors


def _validate(instance: Any, schema: dict[str, Any]) -> list[str]:
    try:
        import jsonschema  # optional: used when installed, never required
    except ImportError:
        return _errors(instance, schema, schema)
    validator = jsonschema.Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(instance)]


def _load(type_name: str) -> dict[str, Any]:
    return json.loads((JSON_DIR / f"{type_name}.json").read_text(encoding="utf-8"))


def test_schemas_are_well_formed() -> None:
    for name in BUILTIN_TYPES:
        schema = _load(name)
        _check_schema(schema)
        assert schema["type"] == "object" and schema["additionalProperties"] is False


def test_dumped_record_validates_against_schema(example: tuple[str, dict[str, Any]]) -> None:
    type_name, data = example
    record = BUILTIN_TYPES[type_name].model_validate(data)
    for dumped in (
        record.model_dump(mode="json", by_alias=True, exclude_none=True),
        record.model_dump(mode="json", by_alias=True),
    ):
        assert _validate(dumped, _load(type_name)) == []


def test_schema_rejects_what_the_model_rejects(example: tuple[str, dict[str, Any]]) -> None:
    type_name, data = example
    schema = _load(type_name)
    dumped = BUILTIN_TYPES[type_name].model_validate(data).model_dump(mode="json", by_alias=True)
    assert _validate({**dumped, "unknownField": 1}, schema)
    assert _validate({**dumped, "sourcedId": ""}, schema)
    assert _validate({**dumped, "status": "inactive"}, schema)
    required = [k for k in schema.get("required", []) if k != "sourcedId"]
    for key in required:
        assert _validate({k: v for k, v in dumped.items() if k != key}, schema), key
