"""What the mapping engine needs to know about a target pydantic model, read generically.

Field rules may name a field by its alias (``class``) or its Python name (``class_``); the
canonical dict uses the alias. A field whose type is (a list of, an optional) pydantic model is
a nested target: its sub-rules are checked against that model the same way.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

__all__ = ["TargetField", "target_fields"]


@dataclass(frozen=True, slots=True)
class TargetField:
    name: str  # Python attribute name
    key: str  # key in the canonical dict (the alias)
    required: bool
    nested: type[BaseModel] | None  # model of a nested object (or of each list item)
    is_list: bool


def target_fields(model: type[BaseModel]) -> dict[str, TargetField]:
    """The fields of ``model``, reachable by alias and by Python name."""
    found: dict[str, TargetField] = {}
    for name, info in model.model_fields.items():
        nested, is_list = _shape(info.annotation)
        key = info.alias or name
        field = TargetField(name, key, info.is_required(), nested, is_list)
        found[key] = field
        found.setdefault(name, field)
    return found


def _shape(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    is_list = False
    for _ in range(8):  # Annotated[Optional[list[Model]]] and the like: peel a few layers
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Union or origin is types.UnionType:
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return None, is_list
            annotation = members[0]
        elif origin in (list, tuple, set, frozenset, Sequence, typing.Sequence):
            args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
            if len(args) != 1:
                return None, True
            is_list = True
            annotation = args[0]
        else:
            break
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, is_list
    return None, is_list
