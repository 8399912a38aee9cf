"""Loading a mapping file into a :class:`CompiledMapping`: top-level keys, ids, metadata.

The file is checked completely before anything is built, and every problem found is collected
(:func:`check_mapping`) so ``fediflow mappings check`` can list them all; :func:`load_mapping`
raises the first one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hub.errors import MappingError, RecordError
from hub.mapping._codegen import generate_object
from hub.mapping._coerce import ValueProblem, is_sensitive, text
from hub.mapping._lookup import LookupSpec
from hub.mapping._model import target_fields
from hub.mapping._rules import Context, compile_fields, compile_object
from hub.mapping._sources import compile_path_node, expr_getter
from hub.mapping._yaml import Doc, Node, ScalarNode

__all__ = [
    "ENGINE_VERSION",
    "ID_NAMESPACE",
    "CompiledMapping",
    "check_mapping",
    "load_mapping",
    "stable_id",
    "validation_to_record_error",
]

#: Part of every fingerprint: bump it when the engine changes what a mapping produces.
ENGINE_VERSION = "1"

#: Namespace of the UUIDv5 ids built from natural keys (``uuid5(NAMESPACE_URL, "https://fediflow.org/ns/id")``).
ID_NAMESPACE = uuid.UUID("f60252a7-b489-5266-b6a8-355b5816aceb")

TOP_KEYS = ("version", "description", "connector", "stream", "target", "id", "metadata", "fields")
ID_KEYS = ("path", "uuid5", "expr")
METADATA_KEYS = ("path", "fields")

Tables = Mapping[LookupSpec, Mapping[str, Any]]


@dataclass(frozen=True, slots=True, eq=False)
class CompiledMapping:
    """One mapping file, compiled. ``apply`` turns a raw record into the canonical dict.

    ``fingerprint`` is the sha256 of the file bytes plus :data:`ENGINE_VERSION`: it changes when
    the mapping (or the engine) changes, so the sync engine can tell records mapped by an older
    version. ``lookups`` lists the tables ``apply`` needs, built from other streams.
    """

    connector: str
    stream: str
    target: str
    model: type[BaseModel]
    path: Path
    fingerprint: str
    lookups: tuple[LookupSpec, ...]
    _apply: Callable[[Mapping[str, Any], Tables | None], dict[str, Any]] = field(repr=False)
    _id: Callable[[Mapping[str, Any]], str] | None = field(default=None, repr=False)

    def identify(self, record: Mapping[str, Any]) -> str | None:
        """The sourcedId ``record`` would get, or None when the mapping's id rule cannot give one.

        Only the id rule runs: the sync uses it for a record that fails to map or validate, so that
        the stored record of that id is kept, not marked deleted, while its source row is broken.
        An id built from an expression over lookups is not known without them (None).
        """
        if self._id is None or not isinstance(record, Mapping):
            return None
        try:
            value = self._id(record)
        except Exception:  # noqa: BLE001 - any failure means: no id to protect
            return None
        return value if isinstance(value, str) and value else None

    def apply(self, record: Mapping[str, Any], tables: Tables | None = None) -> dict[str, Any]:
        """The canonical dict of ``record`` (alias names as keys, ready for ``model.model_validate``).

        Raise :class:`~hub.errors.RecordError` naming the target field; the message never holds
        the value of a password, secret or token field.
        """
        return self._apply(record, tables)

    def validate(self, record: Mapping[str, Any], tables: Tables | None = None) -> BaseModel:
        """``apply`` then ``model.model_validate``, with pydantic's errors turned into a RecordError."""
        data = self._apply(record, tables)
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            raise validation_to_record_error(exc) from None


def validation_to_record_error(exc: ValidationError) -> RecordError:
    """The first problem of a pydantic ValidationError as a RecordError, without the input value."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if not errors:
        return RecordError("invalid record")
    first = errors[0]
    field_name = ""
    for part in first["loc"]:
        field_name += f"[{part}]" if isinstance(part, int) else (f".{part}" if field_name else str(part))
    message = "invalid value" if is_sensitive(field_name) and first["type"].startswith("value_error") else first["msg"]
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return RecordError(message, field=field_name or None)


def stable_id(connector: str, target: str, parts: list[Any]) -> str:
    """The UUIDv5 id of a natural key: ``uuid5(ID_NAMESPACE, "<connector>/<target>/" + json(parts))``."""
    name = f"{connector}/{target}/" + json.dumps([text(p) for p in parts], ensure_ascii=False, separators=(",", ":"))
    return str(uuid.uuid5(ID_NAMESPACE, name))


# --- loading -------------------------------------------------------------------------------------


def load_mapping(path: Path, types: Mapping[str, type[BaseModel]]) -> CompiledMapping:
    """Load and compile one mapping file; raise the first MappingError found (file:line)."""
    compiled, errors = _compile(Path(path), types)
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise MappingError(first.detail + more, file=first.file, line=first.line)
    assert compiled is not None
    return compiled


def check_mapping(path: Path, types: Mapping[str, type[BaseModel]]) -> list[MappingError]:
    """Every problem of one mapping file (empty when it compiles)."""
    return _compile(Path(path), types)[1]


def _compile(path: Path, types: Mapping[str, type[BaseModel]]) -> tuple[CompiledMapping | None, list[MappingError]]:
    file = str(path)
    try:
        data = path.read_bytes()
        source = data.decode("utf-8")
    except OSError as exc:
        return None, [MappingError(f"cannot read the file: {exc.strerror or exc}", file=file)]
    except UnicodeDecodeError:
        return None, [MappingError("the file is not UTF-8 text", file=file)]
    try:
        doc = Doc(source, file)
        top = {key: (kn, vn) for key, kn, vn in doc.mapping(doc.root, "a mapping file")}
    except MappingError as exc:
        return None, [exc]
    ctx = Context(doc)
    try:
        header = _header(ctx, top, types)
    except MappingError as exc:
        return None, [*ctx.errors, exc]
    connector, stream, target, model = header
    covered: dict[str, str] = {"sourcedId": "id"}
    fields_ = target_fields(model)
    if "sourcedId" not in fields_:
        ctx.errors.append(doc.error(top["target"][1], f"target {target} has no sourcedId field for the id"))

    id_fn = _guarded(ctx, lambda: _id_getter(ctx, top["id"][1], connector, target)) if "id" in top else None
    meta_fn = None
    if "metadata" in top:
        if "metadata" not in fields_:
            ctx.errors.append(doc.error(top["metadata"][0], f"target {target} has no metadata field"))
        else:
            covered["metadata"] = "metadata"
            meta_fn = _guarded(ctx, lambda: _metadata_fn(ctx, top["metadata"][1]))
    plans = []
    if "fields" in top:
        try:
            plans = compile_fields(ctx, top["fields"][1], model, target, covered=covered, where=top["fields"][0])
        except MappingError as exc:
            ctx.errors.append(exc)
    else:
        ctx.errors.append(doc.error(doc.root, "the mapping needs fields:"))
    if ctx.errors:
        return None, ctx.errors
    assert id_fn is not None
    fingerprint = hashlib.sha256(f"fediflow-mapping/{ENGINE_VERSION}\n".encode() + data).hexdigest()
    return (
        CompiledMapping(
            connector=connector,
            stream=stream,
            target=target,
            model=model,
            path=path,
            fingerprint=fingerprint,
            lookups=tuple(ctx.lookups),
            _apply=_make_apply(generate_object(plans, label=file, id_fn=id_fn, meta_fn=meta_fn)),
            _id=id_fn,
        ),
        [],
    )


def _guarded(ctx: Context, build: Callable[[], Any]) -> Any:
    try:
        return build()
    except MappingError as exc:
        ctx.errors.append(exc)
        return None


def _header(
    ctx: Context, top: dict[str, tuple[Node, Node]], types: Mapping[str, type[BaseModel]]
) -> tuple[str, str, str, type[BaseModel]]:
    doc = ctx.doc
    for key, (kn, _) in top.items():
        if key not in TOP_KEYS:
            ctx.errors.append(doc.error(kn, f"unknown key {key!r} (allowed: {', '.join(TOP_KEYS)})"))
    if "version" in top and doc.value(top["version"][1]) != 1:
        ctx.errors.append(doc.error(top["version"][1], "version must be 1 (the only format version)"))
    if "description" in top:
        _guarded(ctx, lambda: doc.string(top["description"][1], "description"))
    for key in ("connector", "stream", "target", "id"):
        if key not in top:
            ctx.errors.append(doc.error(doc.root, f"the mapping needs {key}:"))
    if any(key not in top for key in ("connector", "stream", "target")):
        raise ctx.errors.pop()
    connector = doc.string(top["connector"][1], "connector").strip()
    stream = doc.string(top["stream"][1], "stream").strip()
    target = doc.string(top["target"][1], "target").strip()
    model = types.get(target)
    if model is None:
        raise doc.error(top["target"][1], f"unknown target type {target!r} (known: {', '.join(sorted(types)) or 'none'})")
    return connector, stream, target, model


def _id_getter(ctx: Context, node: Node, connector: str, target: str) -> Callable[[Any], str]:
    doc = ctx.doc
    if isinstance(node, ScalarNode):
        parts: dict[str, Node] = {"path": node}
    else:
        parts = {}
        for key, kn, vn in doc.mapping(node, "id"):
            if key not in ID_KEYS:
                raise doc.error(kn, f"unknown id key {key!r} (allowed: {', '.join(ID_KEYS)})")
            parts[key] = vn
    if "path" in parts and "expr" in parts:
        raise doc.error(node, "id: give path or expr, not both")
    if not parts:
        raise doc.error(node, "id needs path, expr or uuid5")
    primary = None
    label = ""
    if "path" in parts:
        primary, label = compile_path_node(doc, parts["path"], "id path"), doc.string(parts["path"], "id path")
    elif "expr" in parts:
        primary, label = expr_getter(doc, parts["expr"], "id"), "the id expression"
    key_getters: list[Callable[[Any], Any]] = []
    key_labels: list[str] = []
    if "uuid5" in parts:
        key_node = parts["uuid5"]
        items = key_node.value if not isinstance(key_node, ScalarNode) and isinstance(key_node.value, list) else None
        if not items or not all(isinstance(item, ScalarNode) for item in items):
            raise doc.error(key_node, "id uuid5 must be a non-empty list of paths")
        key_getters = [compile_path_node(doc, item, "id uuid5 path") for item in items]
        key_labels = [doc.string(item, "id uuid5 path") for item in items]

    def natural_id(record: Any) -> str:
        values = []
        for getter, key_label in zip(key_getters, key_labels, strict=True):
            value = getter(record)
            if value is None or value == "":
                raise RecordError(f"natural key part {key_label!r} is missing or empty", field="sourcedId")
            values.append(value)
        return stable_id(connector, target, values)

    if primary is None:
        return natural_id

    def source_id(record: Any) -> str:
        try:
            value = primary(record)
        except ValueProblem as problem:
            raise RecordError(problem.render(False), field="sourcedId") from None
        if value is None or value == "":
            if key_getters:
                return natural_id(record)
            raise RecordError(f"id ({label}) is missing or empty", field="sourcedId")
        try:
            return text(value).strip()
        except ValueProblem as problem:
            raise RecordError(f"id ({label}): {problem.reason}", field="sourcedId") from None

    return source_id


def _metadata_fn(ctx: Context, node: Node) -> Callable[[Any, Any], dict[str, Any] | None]:
    doc = ctx.doc
    if isinstance(node, ScalarNode):
        parts: dict[str, Node] = {"path": node}
    else:
        parts = {}
        for key, kn, vn in doc.mapping(node, "metadata"):
            if key not in METADATA_KEYS:
                raise doc.error(kn, f"unknown metadata key {key!r} (allowed: {', '.join(METADATA_KEYS)})")
            parts[key] = vn
    getter = compile_path_node(doc, parts["path"], "metadata path") if "path" in parts else None
    extra = compile_object(ctx, parts["fields"], None, "metadata") if "fields" in parts else None
    sensitive: dict[Any, bool] = {}

    def metadata(record: Any, tables: Any) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        if getter is not None:
            base = getter(record)
            if base is not None and base != "":
                if not isinstance(base, Mapping):
                    raise RecordError("the metadata source is not a mapping", field="metadata")
                for key, value in base.items():
                    if value is None or value == "":
                        continue
                    secret = sensitive.get(key)
                    if secret is None:
                        secret = sensitive[key] = is_sensitive(str(key))
                    if not secret:
                        out[str(key)] = value
        if extra is not None:
            more = extra(record, tables)
            if more:
                out.update(more)
        return out or None

    return metadata


def _make_apply(build: Callable[[Any, Any], Any]) -> Callable[[Mapping[str, Any], Tables | None], dict[str, Any]]:
    def apply(record: Mapping[str, Any], tables: Tables | None) -> dict[str, Any]:
        if record.__class__ is not dict and not isinstance(record, Mapping):
            raise RecordError(f"the record is a {type(record).__name__}, not a mapping")
        return build(record, tables)  # type: ignore[no-any-return]

    return apply
