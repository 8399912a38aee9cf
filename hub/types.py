"""The registry of canonical record types: the built-in OneRoster types plus those plugins register."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pydantic import BaseModel

from hub.errors import PluginError

__all__ = ["TypeRegistry"]


class TypeRegistry(Mapping[str, type[BaseModel]]):
    """Type name (``User``) -> canonical pydantic model. Read-only once built."""

    def __init__(self, builtin: Mapping[str, type[BaseModel]]) -> None:
        self._types: dict[str, type[BaseModel]] = dict(builtin)
        self._builtin = frozenset(builtin)

    def add(self, plugin: str, model: type[BaseModel]) -> None:
        from schemas import CanonicalRecord

        if not (isinstance(model, type) and issubclass(model, CanonicalRecord)):
            raise PluginError(f"register_canonical_types returned {model!r}, not a schemas.CanonicalRecord", plugin=plugin)
        name = model.__name__
        if name in self._types and self._types[name] is not model:
            raise PluginError(f"canonical type {name!r} is already defined", plugin=plugin)
        self._types[name] = model

    def is_builtin(self, name: str) -> bool:
        return name in self._builtin

    def __getitem__(self, name: str) -> type[BaseModel]:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)
