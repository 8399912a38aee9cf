"""Rule sources that need more than a path: expressions and lookups into another stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.mapping._coerce import ValueProblem, is_sensitive, text
from hub.mapping._expr import ExpressionError, compile_expression
from hub.mapping._lookup import LookupSpec
from hub.mapping._paths import Getter, compile_path, parse_path
from hub.mapping._yaml import Doc, Node, ScalarNode

__all__ = ["LOOKUP_KEYS", "compile_expr_node", "compile_path_node", "guard_expr", "lookup_reads", "lookup_source"]

LOOKUP_KEYS = ("stream", "key", "value", "match", "unmatched")
_MISSING = object()


def compile_path_node(doc: Doc, node: Node, what: str) -> Getter:
    path = doc.string(node, what)
    try:
        return compile_path(parse_path(path))
    except ValueError as exc:
        raise doc.error(node, f"{what}: {exc}") from None


def compile_expr_node(doc: Doc, node: Node, name: str) -> tuple[Callable[[Any], Any], frozenset[str]]:
    """Check and compile the expression in ``node``; a rejected one names its own line."""
    source = doc.string(node, "expr")
    line = node.start_mark.line + 1
    try:
        return compile_expression(source, f"<expr {doc.file}:{line}>")
    except ExpressionError as exc:
        offset = exc.lineno - 1 + (1 if doc.is_block_scalar(node) else 0)
        raise doc.error(node, f"{name!r}: bad expression: {exc}", line_offset=offset) from None


def guard_expr(fn: Callable[[Any], Any], redact: bool) -> Getter:
    """Run a compiled expression; whatever it raises becomes a ValueProblem (a record error)."""

    def evaluate(record: Any) -> Any:
        try:
            return fn(record)
        except ValueProblem:
            raise
        except Exception as exc:  # the expression met data it cannot handle: a record error
            detail = type(exc).__name__ if redact else f"{type(exc).__name__}: {exc}"
            raise ValueProblem(f"expression failed ({detail})", show=False) from None

    return evaluate


def expr_getter(doc: Doc, node: Node, name: str, redact: bool = False) -> Getter:
    """An expression node as a guarded getter (``id: {expr}``, lookup ``match: {expr}``)."""
    fn, names = compile_expr_node(doc, node, name)
    return guard_expr(fn, redact or any(is_sensitive(n) for n in names))


def lookup_reads(doc: Doc, node: Node, name: str) -> tuple[dict[str, Node], list[str]]:
    """The parts of a ``lookup:`` mapping, checked for keys, and the paths it reads."""
    parts: dict[str, Node] = {}
    for key, kn, vn in doc.mapping(node, "lookup"):
        if key not in LOOKUP_KEYS:
            raise doc.error(kn, f"unknown lookup key {key!r} in {name!r} (allowed: {', '.join(LOOKUP_KEYS)})")
        parts[key] = vn
    for key in ("stream", "key", "value", "match"):
        if key not in parts:
            raise doc.error(node, f"{name!r}: lookup needs {key}")
    reads = [doc.string(parts[key], key) for key in ("key", "value")]
    if isinstance(parts["match"], ScalarNode):
        reads.append(doc.string(parts["match"], "match"))
    return parts, reads


def lookup_source(doc: Doc, parts: dict[str, Node], name: str) -> tuple[LookupSpec, Callable[[Any, Any], Any]]:
    """The spec of a lookup and its source function ``(record, tables) -> value | None``."""
    stream = doc.string(parts["stream"], "lookup stream").strip()
    key_path, value_path = (doc.string(parts[key], key).strip() for key in ("key", "value"))
    for key, path in (("key", key_path), ("value", value_path)):
        try:
            parse_path(path)
        except ValueError as exc:
            raise doc.error(parts[key], f"{name!r}: lookup {key}: {exc}") from None
    spec = LookupSpec(stream, key_path, value_path)
    match_node = parts["match"]
    if isinstance(match_node, ScalarNode):
        match = compile_path_node(doc, match_node, "lookup match")
    else:
        items = doc.mapping(match_node, "lookup match")
        if [key for key, _, _ in items] != ["expr"]:
            raise doc.error(match_node, f"{name!r}: lookup match is a path or {{expr: ...}}")
        match = expr_getter(doc, items[0][2], name)
    unmatched = "null"
    if "unmatched" in parts:
        unmatched = doc.value(parts["unmatched"]) or "null"
        if unmatched not in ("null", "error"):
            raise doc.error(parts["unmatched"], f"{name!r}: lookup unmatched must be null or error")
    raise_unmatched = unmatched == "error"
    label = f"{stream} record with {key_path}"

    def find(table: Any, wanted: Any) -> Any:
        found = table.get(wanted if wanted.__class__ is str else text(wanted), _MISSING)
        if found is _MISSING:
            if raise_unmatched:
                raise ValueProblem(f"no {label} equal to", wanted)
            return None
        return found

    def source(record: Any, tables: Any) -> Any:
        wanted = match(record)
        if wanted is None or wanted == "":
            return None
        try:
            table = tables[spec]
        except (KeyError, TypeError):
            raise ValueProblem(f"the lookup table of stream {stream!r} was not provided", show=False) from None
        if isinstance(wanted, list | tuple):
            found = [find(table, item) for item in wanted if item is not None and item != ""]
            return [item for item in found if item is not None] or None
        return find(table, wanted)

    return spec, source
