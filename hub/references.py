"""Which fields of the canonical records are references to other records, derived from the models.

A reference is a OneRoster GUIDRef (:class:`schemas.Ref`): ``{"sourcedId": ..., "type": ...}``.
The canonical models say where they are (a ``Ref`` field, a list of ``Ref``, or a list of objects
with a ``Ref`` field such as ``User.roles[].org``) and whether the record is valid without them
(a required field, or a list with at least one element); the target type is the ref's own
``type`` (``"class"`` -> ``Class``). Nothing here is a hand-written table of fields, so a new
canonical type or field is checked as soon as it is in the model.

Used by the sync's reference checks (hub.sync._references) and by the rule that keeps exports
and the OneRoster API from emitting dangling references (hub.oneroster._references).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from annotated_types import MinLen
from pydantic import BaseModel

import schemas

__all__ = ["REF_TYPES", "RefField", "iter_refs", "ref_fields", "target_type"]

#: GUIDRef ``type`` -> canonical type name: each built-in type's ``oneroster_type``, plus the
#: OneRoster GUIDRef types that name a narrower view of one of them (a school is an org ...).
REF_TYPES: dict[str, str] = {
    **{model.oneroster_type: name for name, model in schemas.BUILTIN_TYPES.items()},
    "school": "Org",
    "student": "User",
    "teacher": "User",
    "term": "AcademicSession",
    "gradingPeriod": "AcademicSession",
}


def target_type(ref_type: str | None) -> str | None:
    """The canonical type a GUIDRef of ``ref_type`` points at; None when the hub does not store it
    (``resource`` ...), so the reference cannot be checked."""
    return REF_TYPES.get(ref_type) if ref_type else None


@dataclass(frozen=True, slots=True)
class RefField:
    """One reference field of a canonical type.

    ``key`` is the JSON name of the record's top-level field (``"class"``). ``many``: the field is
    a list. ``inner``: for a list of objects, the key of the reference in each element (``"org"``
    of ``roles``). ``required``: the record is not valid without it (for a list: without at least
    one element).
    """

    type: str
    key: str
    many: bool
    inner: str | None
    required: bool

    @property
    def label(self) -> str:
        """How reports name the field: ``class``, ``terms``, ``roles.org``."""
        return f"{self.key}.{self.inner}" if self.inner else self.key


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _fields_of(type_name: str, model: type[BaseModel]) -> Iterator[RefField]:
    for name, info in model.model_fields.items():
        key = info.alias or name
        annotation = _strip_optional(info.annotation)
        required = info.is_required()
        if annotation is schemas.Ref:
            yield RefField(type_name, key, False, None, required)
            continue
        if typing.get_origin(annotation) is not list:
            continue
        (item,) = typing.get_args(annotation) or (None,)
        min_items = max((m.min_length for m in info.metadata if isinstance(m, MinLen)), default=0)
        required = required and min_items >= 1
        if item is schemas.Ref:
            yield RefField(type_name, key, True, None, required)
        elif _is_model(item):
            for inner_name, inner in item.model_fields.items():
                if _strip_optional(inner.annotation) is schemas.Ref:
                    yield RefField(type_name, key, True, inner.alias or inner_name,
                                   required and inner.is_required())


@cache
def _cached(type_name: str, model: type[BaseModel]) -> tuple[RefField, ...]:
    return tuple(_fields_of(type_name, model))


def ref_fields(type_name: str, model: type[BaseModel] | None = None) -> tuple[RefField, ...]:
    """The reference fields of canonical type ``type_name`` (its model: ``model`` or the built-in one)."""
    model = model or schemas.BUILTIN_TYPES.get(type_name)
    if model is None:
        return ()
    return _cached(type_name, model)


def iter_refs(field: RefField, data: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The GUIDRefs of ``field`` in a stored record's ``data`` (none when absent)."""
    value = data.get(field.key)
    if value is None:
        return
    items = value if field.many else [value]
    for item in items:
        ref = item.get(field.inner) if field.inner and isinstance(item, Mapping) else item
        if isinstance(ref, Mapping) and "sourcedId" in ref:
            yield ref
