"""Field rules: checked at load time, then generated into one function per (sub-)record.

A rule reads one source (``path``, ``const``, ``expr`` or ``lookup``; or the record itself for a
nested ``fields`` object), treats ``None`` and ``""`` as missing, then runs its steps in a fixed
order: ``split`` -> ``regex`` -> ``fields`` (nested records) | ``map`` -> ``type`` -> ``ref``. A missing result
takes the ``default``; a missing required field is a :class:`~hub.errors.RecordError`.

All checking happens here, with the file and line of the node at fault; the generated code
(:mod:`hub.mapping._codegen`) only does the work.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from hub.errors import MappingError, RecordError
from hub.mapping._codegen import FieldPlan, ObjectFn, Step, generate_object
from hub.mapping._coerce import COERCIONS, ValueProblem, is_sensitive, text, to_list
from hub.mapping._lookup import LookupSpec
from hub.mapping._model import TargetField, target_fields
from hub.mapping._paths import compile_path, parse_path
from hub.mapping._sources import compile_expr_node, guard_expr, lookup_reads, lookup_source
from hub.mapping._yaml import Doc, MappingNode, Node, ScalarNode

__all__ = ["RULE_KEYS", "Context", "compile_fields", "compile_object"]

SOURCE_KEYS = ("path", "const", "expr", "lookup")
RULE_KEYS = (
    *SOURCE_KEYS, "split", "regex", "fields", "map", "unmapped", "type", "ref", "default", "required", "description",
)
SPLIT_KEYS = ("sep", "strip", "drop_empty")
_MISSING = object()


@dataclass
class Context:
    """What compiling one file accumulates: the lookups its rules need and the errors found."""

    doc: Doc
    lookups: dict[LookupSpec, None] = field(default_factory=dict)
    errors: list[MappingError] = field(default_factory=list)


def compile_object(
    ctx: Context, node: Node, model: type[BaseModel] | None, owner: str, *, redact: bool = False, where: Node | None = None
) -> ObjectFn:
    """A nested ``fields:`` mapping as one generated function (object or None)."""
    plans = compile_fields(ctx, node, model, owner, redact=redact, where=where)
    return generate_object(plans, label=f"{ctx.doc.file} {owner}")


def compile_fields(
    ctx: Context,
    node: Node,
    model: type[BaseModel] | None,
    owner: str,
    *,
    covered: dict[str, str] | None = None,
    redact: bool = False,
    where: Node | None = None,
) -> list[FieldPlan]:
    """Check a ``fields:`` mapping against ``model`` (unchecked when None) and plan each rule.

    ``covered`` names target keys set elsewhere (``sourcedId`` by ``id:``) with the block that sets
    them. Errors of single rules are collected in ``ctx.errors`` so one run reports them all.
    """
    doc = ctx.doc
    covered = covered or {}
    targets = target_fields(model) if model is not None else None
    open_model = model is not None and model.model_config.get("extra") == "allow"
    plans: list[FieldPlan] = []
    seen: set[str] = set()
    for name, key_node, value_node in doc.mapping(node, f"fields of {owner}"):
        target: TargetField | None = None
        if targets is not None:
            target = targets.get(name)
            if target is None and open_model:
                pass
            elif target is None:
                close = difflib.get_close_matches(name, list(targets), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                ctx.errors.append(doc.error(key_node, f"unknown field {name!r} of {owner}{hint}"))
                continue
            elif target.key in covered:
                ctx.errors.append(doc.error(key_node, f"{target.key!r} is set by the {covered[target.key]}: block"))
                continue
        key = target.key if target is not None else name
        if key in seen:
            ctx.errors.append(doc.error(key_node, f"field {key!r} of {owner} has two rules"))
            continue
        seen.add(key)
        try:
            plans.append(_plan_rule(ctx, key, key_node, value_node, target, redact))
        except MappingError as exc:
            ctx.errors.append(exc)
    if targets is not None:
        for target in {id(t): t for t in targets.values()}.values():
            if target.required and target.key not in seen and target.key not in covered:
                ctx.errors.append(doc.error(where or node, f"required field {target.key!r} of {owner} has no rule"))
    return plans


def _rule_keys(doc: Doc, name: str, key_node: Node, node: Node) -> dict[str, tuple[Node, Node]]:
    if isinstance(node, ScalarNode):
        value = doc.value(node)
        if not isinstance(value, str) or not value.strip():
            raise doc.error(node, f"rule of {name!r}: write a path string or a mapping of rule keys (const: for a constant)")
        return {"path": (key_node, node)}
    if not isinstance(node, MappingNode):
        raise doc.error(node, f"rule of {name!r}: write a path string or a mapping of rule keys (const: for a constant)")
    keys = {}
    for key, kn, vn in doc.mapping(node, f"rule of {name!r}"):
        if key not in RULE_KEYS:
            raise doc.error(kn, f"unknown rule key {key!r} in {name!r} (allowed: {', '.join(RULE_KEYS)})")
        keys[key] = (kn, vn)
    sources = [key for key in SOURCE_KEYS if key in keys]
    if len(sources) > 1:
        raise doc.error(keys[sources[1]][0], f"{name!r}: give one of path, const, expr, lookup (got {' and '.join(sources)})")
    if "fields" in keys:
        for other in ("map", "unmapped", "type", "ref"):
            if other in keys:
                raise doc.error(keys[other][0], f"{name!r}: {other} cannot be combined with fields")
    if "unmapped" in keys and "map" not in keys:
        raise doc.error(keys["unmapped"][0], f"{name!r}: unmapped needs a map")
    if not sources and "fields" not in keys and "default" not in keys:
        raise doc.error(node, f"{name!r}: the rule needs one of path, const, expr, lookup, fields or default")
    return keys


def _plan_rule(
    ctx: Context, name: str, key_node: Node, node: Node, target: TargetField | None, redact_parent: bool
) -> FieldPlan:
    doc = ctx.doc
    keys = _rule_keys(doc, name, key_node, node)
    kind = next((key for key in SOURCE_KEYS if key in keys), None)

    # what the rule reads decides whether its errors may show values
    reads = [name]
    if kind == "path":
        path_text = doc.string(keys["path"][1], "path")
        reads.append(path_text)
    elif kind == "expr":
        expr_fn, names = compile_expr_node(doc, keys["expr"][1], name)
        reads.extend(names)
    elif kind == "lookup":
        lookup_parts, lookup_paths = lookup_reads(doc, keys["lookup"][1], name)
        reads.extend(lookup_paths)
    redact = redact_parent or any(is_sensitive(part) for part in reads)

    steps: list[Step] = []
    if "split" in keys:
        steps.append(_split_step(doc, keys["split"][1], name))
    if "regex" in keys:
        steps.append(_each(_regex_fn(doc, keys["regex"][1], name)))
    if "fields" in keys:
        nested_model = target.nested if target is not None else None
        build = compile_object(ctx, keys["fields"][1], nested_model, name, redact=redact, where=keys["fields"][0])
        steps.append(_nested_step(build, target.is_list if target is not None else False))
    if "map" in keys:
        steps.append(_each(_map_fn(doc, keys["map"][1], keys.get("unmapped"), name)))
    if "type" in keys:
        steps.append(_type_step(doc, keys["type"][1], name))
    if "ref" in keys:
        steps.append(_ref_step(doc.string(keys["ref"][1], "ref").strip()))

    required = target.required if target is not None else False
    if "required" in keys:
        flag = doc.value(keys["required"][1])
        if not isinstance(flag, bool):
            raise doc.error(keys["required"][1], f"{name!r}: required must be true or false")
        required = required or flag
    if "description" in keys:
        doc.string(keys["description"][1], "description")
    default = None
    if "default" in keys:
        default = doc.value(keys["default"][1])
        if default is not None and "type" in keys:
            default = _at_load(doc, keys["default"][1], f"{name!r}: default", _type_step(doc, keys["type"][1], name), default)

    plan = FieldPlan(key=name, name=name, kind="self", source=None, steps=steps, default=default,
                     required=required, redact=redact)  # fmt: skip
    if kind == "path":
        try:
            path = parse_path(path_text)
        except ValueError as exc:
            raise doc.error(keys["path"][1], f"{name!r}: {exc}") from None
        if len(path) == 1 and isinstance(path[0], str):
            plan.kind, plan.source = "key", path[0]
        elif path:
            plan.kind, plan.source = "getter", compile_path(path)
    elif kind == "expr":
        plan.kind, plan.source = "expr", guard_expr(expr_fn, redact)
    elif kind == "lookup":
        spec, plan.source = lookup_source(doc, lookup_parts, name)
        plan.kind = "lookup"
        ctx.lookups[spec] = None
    elif kind == "const" or "fields" not in keys:  # a constant, or a rule with only a default
        value_node = keys["const"][1] if kind == "const" else keys["default"][1]
        value = doc.value(value_node) if kind == "const" else default
        if kind == "const" and value is not None and value != "":
            for step in steps:
                value = _at_load(doc, value_node, f"{name!r}:", step, value)
                if value is None:
                    break
        if value is None or value == "":
            if required and default is None:
                raise doc.error(value_node, f"{name!r}: a required field cannot be constantly empty")
            value = default
        plan.kind, plan.source, plan.steps = "const", value, []
    return plan


def _at_load(doc: Doc, node: Node, label: str, step: Step, value: Any) -> Any:
    """Run a step on a literal of the file, turning its problem into a MappingError."""
    try:
        return step(value, None)
    except ValueProblem as problem:
        raise doc.error(node, f"{label} {problem.render(False)}") from None
    except RecordError as exc:
        raise doc.error(node, f"{label} {exc.field or ''}: {exc.message}") from None


def _each(fn: Callable[[Any], Any]) -> Step:
    """Apply ``fn`` to a value, or to each non-empty item of a list (dropping items it maps to None)."""

    def each(value: Any, tables: Any) -> Any:
        if value.__class__ is list:
            out = []
            for item in value:
                if item is None or item == "":
                    continue
                result = fn(item)
                if result is not None:
                    out.append(result)
            return out or None
        return fn(value)

    return each


def _split_step(doc: Doc, node: Node, name: str) -> Step:
    sep, strip, drop_empty = ",", True, True
    if isinstance(node, ScalarNode):
        sep = doc.value(node)
        if not isinstance(sep, str) or not sep:
            raise doc.error(node, f"{name!r}: split must be a separator string or a mapping of {', '.join(SPLIT_KEYS)}")
    else:
        for key, kn, vn in doc.mapping(node, "split"):
            value = doc.value(vn)
            if key == "sep":
                if not isinstance(value, str) or not value:
                    raise doc.error(vn, f"{name!r}: split sep must be a non-empty string")
                sep = value
            elif key in ("strip", "drop_empty"):
                if not isinstance(value, bool):
                    raise doc.error(vn, f"{name!r}: split {key} must be true or false")
                strip, drop_empty = (value, drop_empty) if key == "strip" else (strip, value)
            else:
                raise doc.error(kn, f"unknown split key {key!r} in {name!r} (allowed: {', '.join(SPLIT_KEYS)})")

    def split(value: Any, tables: Any) -> Any:
        if value.__class__ is str:
            parts = value.split(sep)
            if strip:
                parts = [part.strip() for part in parts]
            if drop_empty:
                parts = [part for part in parts if part]
            return parts or None
        if isinstance(value, list | tuple):
            return list(value)
        return [value]

    return split


def _regex_fn(doc: Doc, node: Node, name: str) -> Callable[[Any], Any]:
    pattern = doc.string(node, "regex")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise doc.error(node, f"{name!r}: bad regex: {exc}") from None
    search = compiled.search
    named = bool(compiled.groupindex)
    group = 1 if compiled.groups else 0

    def regex(value: Any) -> Any:
        found = search(value if value.__class__ is str else text(value))
        if found is None:
            raise ValueProblem("does not match the regex", value)
        if named:
            return {key: part for key, part in found.groupdict().items() if part is not None and part != ""}
        return found.group(group)

    return regex


def _nested_step(build: ObjectFn, is_list: bool) -> Step:
    def nested(value: Any, tables: Any) -> Any:
        if value.__class__ is list or value.__class__ is tuple:
            out = []
            for index, item in enumerate(value):
                if item is None or item == "":
                    continue
                try:
                    obj = build(item, tables)
                except RecordError as exc:
                    raise RecordError(exc.message, field=f"[{index}].{exc.field}") from None
                if obj is not None:
                    out.append(obj)
            return out or None
        try:
            obj = build(value, tables)
        except RecordError as exc:
            raise RecordError(exc.message, field=f".{exc.field}") from None
        return [obj] if obj is not None and is_list else obj

    return nested


def _map_fn(doc: Doc, node: Node, unmapped: tuple[Node, Node] | None, name: str) -> Callable[[Any], Any]:
    # keys are the text written in the file (so `Y:` matches "Y", not YAML 1.1's True)
    table = {key: doc.value(vn) for key, _, vn in doc.mapping(node, "map")}
    if not table:
        raise doc.error(node, f"{name!r}: map is empty")
    mode, fallback = "error", None
    if unmapped is not None:
        un_node = unmapped[1]
        if isinstance(un_node, ScalarNode):
            value = doc.value(un_node)
            mode = "null" if value is None else value
            if mode not in ("error", "keep", "null"):
                raise doc.error(un_node, f"{name!r}: unmapped must be error, keep, null or {{const: value}}")
        else:
            items = doc.mapping(un_node, "unmapped")
            if [key for key, _, _ in items] != ["const"]:
                raise doc.error(un_node, f"{name!r}: unmapped must be error, keep, null or {{const: value}}")
            mode, fallback = "const", doc.value(items[0][2])

    def mapped(value: Any) -> Any:
        result = table.get(value if value.__class__ is str else text(value), _MISSING)
        if result is not _MISSING:
            return result
        if mode == "keep":
            return value
        if mode == "const":
            return fallback
        if mode == "null":
            return None
        raise ValueProblem("value is not in the map (add it, or set unmapped:)", value)

    return mapped


def _type_step(doc: Doc, node: Node, name: str) -> Step:
    spec = doc.string(node, "type").strip()
    allowed = ", ".join([*COERCIONS, "list", "list[<type>]"])
    if spec == "list":

        def as_list(value: Any, tables: Any) -> Any:
            return to_list(value)

        return as_list
    if spec.startswith("list[") and spec.endswith("]"):
        inner = COERCIONS.get(spec[5:-1].strip())
        if inner is None:
            raise doc.error(node, f"{name!r}: unknown type {spec!r} (allowed: {allowed})")
        each = _each(inner)

        def list_of(value: Any, tables: Any) -> Any:
            return each(to_list(value), tables)

        return list_of
    coerce = COERCIONS.get(spec)
    if coerce is None:
        raise doc.error(node, f"{name!r}: unknown type {spec!r} (allowed: {allowed})")

    def scalar(value: Any, tables: Any) -> Any:
        if value.__class__ is list:
            return [coerce(item) for item in value if item is not None and item != ""] or None
        return coerce(value)

    return scalar


def _ref_step(ref_type: str) -> Step:
    def ref(value: Any) -> Any:
        return {"sourcedId": (value if value.__class__ is str else text(value)).strip(), "type": ref_type}

    each = _each(ref)

    def ref_step(value: Any, tables: Any) -> Any:
        if value.__class__ is str:
            return {"sourcedId": value.strip(), "type": ref_type}
        return each(value, tables)

    return ref_step
