"""What each canonical type's records look like to the query language: field name -> kind.

Derived from the pydantic models in :mod:`schemas` (so a field added there becomes filterable,
sortable and selectable here), with the three columns the store keeps outside the JSON:
``sourcedId`` (stable id), ``status`` and ``dateLastModified`` (the hub's modification time, which is
what delta queries need).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

from schemas import Ref

__all__ = ["FieldSpec", "Kind", "fields_of"]

Kind = Literal["string", "date", "datetime", "bool", "number", "ref", "refs", "strings", "objects", "object", "free"]

#: fields kept in columns of the entities table rather than (only) in the JSON document
COLUMN_FIELDS = {"sourcedId": "stable_id", "status": "status", "dateLastModified": "updated_at"}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record: its JSON name, kind, and sub-fields for objects and lists of objects."""

    name: str
    kind: Kind
    children: dict[str, FieldSpec] = field(default_factory=dict)

    @property
    def scalar(self) -> bool:
        return self.kind in ("string", "date", "datetime", "bool", "number")


_REF_CHILDREN = {"sourcedId": FieldSpec("sourcedId", "string"), "type": FieldSpec("type", "string")}


def _unwrap(annotation: Any) -> list[Any]:
    """The member types of an annotation, Optional / Union / Annotated removed."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                out.extend(_unwrap(arg))
        return out
    return [annotation]


def _kind(name: str, annotation: Any) -> FieldSpec:
    members = _unwrap(annotation)
    first = members[0]
    origin = typing.get_origin(first)
    if origin is list:
        (item,) = typing.get_args(first)
        item = _unwrap(item)[0]
        if isinstance(item, type) and issubclass(item, Ref):
            return FieldSpec(name, "refs", _REF_CHILDREN)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return FieldSpec(name, "objects", _children(item))
        return FieldSpec(name, "strings")
    if origin is dict or first is dict:
        return FieldSpec(name, "free")
    if isinstance(first, type):
        if issubclass(first, Ref):
            return FieldSpec(name, "ref", _REF_CHILDREN)
        if issubclass(first, BaseModel):
            return FieldSpec(name, "object", _children(first))
        if issubclass(first, bool):
            return FieldSpec(name, "bool")
        if issubclass(first, datetime):
            return FieldSpec(name, "datetime")
        if issubclass(first, date):
            return FieldSpec(name, "date")
        if issubclass(first, (int, float)) and not issubclass(first, Enum):
            return FieldSpec(name, "number")
    return FieldSpec(name, "string")


def _children(model: type[BaseModel]) -> dict[str, FieldSpec]:
    out: dict[str, FieldSpec] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        out[key] = _kind(key, info.annotation)
    return out


@cache
def fields_of(model: type[BaseModel]) -> dict[str, FieldSpec]:
    """The top-level fields of a canonical record type, by their OneRoster JSON name."""
    return _children(model)
