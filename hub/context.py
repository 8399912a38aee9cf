"""The hub's composition root: settings -> plugins, types, mappings, database, store.

Built explicitly (never at import time) by the CLI, the API app factory, the scheduler and tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from hub.crypto import SecretBox, secret_box_from_settings
from hub.errors import ConfigurationError, PluginError
from hub.plugins import Plugins, build_plugin_manager
from hub.settings import Settings
from hub.store import Database, Store
from hub.types import TypeRegistry

__all__ = ["Hub"]


@dataclass
class Hub:
    settings: Settings
    plugins: Plugins
    db: Database

    @classmethod
    def from_settings(cls, settings: Settings, *, extra_plugins: Iterable[tuple[str, object]] = ()) -> Hub:
        plugins = build_plugin_manager(settings.plugins, extra=extra_plugins)
        db = Database(settings.database_url, echo=settings.database.echo, pool_size=settings.database.pool_size)
        return cls(settings=settings, plugins=plugins, db=db)

    @cached_property
    def types(self) -> TypeRegistry:
        from schemas import BUILTIN_TYPES

        registry = TypeRegistry(BUILTIN_TYPES)
        for plugin, model in self.plugins.canonical_types():
            try:
                registry.add(plugin, model)
            except PluginError as exc:
                self.plugins.report_failure(plugin, exc.message)
        return registry

    @cached_property
    def mappings(self):  # type: ignore[no-untyped-def]  # hub.mapping.MappingRegistry
        from hub.mapping import MappingRegistry

        return MappingRegistry(self.plugins.mapping_folders(), self.types, tenant_dir=self.settings.mapping_dir)

    @cached_property
    def secret_box(self) -> SecretBox | None:
        try:
            return secret_box_from_settings(self.settings)
        except ConfigurationError:
            return None

    @cached_property
    def store(self) -> Store:
        return Store(self.db, self.secret_box)

    async def close(self) -> None:
        await self.db.dispose()
