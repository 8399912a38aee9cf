"""The plugin manager factory.

Plugins are modules (or objects) exposing hook implementations. Built-in connectors and
third-party packages are found the same way: through the ``fediflow`` entry-point group.
Nothing is loaded at import time; :func:`build_plugin_manager` does it from settings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from hub import hookspecs
from hub.errors import PluginError
from hub.hookimpl import PROJECT
from hub.settings import PluginSettings

if TYPE_CHECKING:
    from pydantic import BaseModel

    from hub.events import ChangeEvent, RunSummary
    from hub.sdk import Connector

__all__ = ["ENTRY_POINT_GROUP", "PluginFailure", "Plugins", "build_plugin_manager"]

ENTRY_POINT_GROUP = "fediflow"
log = logging.getLogger("fediflow.plugins")


@dataclass(frozen=True, slots=True)
class PluginFailure:
    """A plugin that could not be loaded or broke a hook contract."""

    name: str
    error: str


@dataclass
class Plugins:
    """The loaded plugins and typed access to what they register."""

    manager: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)

    def _collect(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call a ``register_*`` hook plugin by plugin, so one broken plugin is reported by name."""
        results: list[tuple[str, Any]] = []
        hook = getattr(self.manager.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order
            name = self.manager.get_name(impl.plugin) or repr(impl.plugin)
            try:
                value = impl.function()
            except Exception as exc:  # a plugin's bug must not take the hub down
                self._fail(name, f"{hook_name} raised {type(exc).__name__}: {exc}")
                continue
            if value is None:
                continue
            if not isinstance(value, list | tuple):
                self._fail(name, f"{hook_name} must return a list, got {type(value).__name__}")
                continue
            results.extend((name, item) for item in value)
        return results

    def _fail(self, name: str, message: str) -> None:
        failure = PluginFailure(name, message)
        if failure not in self.failures:
            self.failures.append(failure)
            log.error("plugin failed", extra={"plugin": name, "error": message})

    def connectors(self) -> dict[str, type[Connector]]:
        from hub.sdk import Connector

        found: dict[str, type[Connector]] = {}
        owners: dict[str, str] = {}
        for plugin, cls in self._collect("register_connectors"):
            if not (isinstance(cls, type) and issubclass(cls, Connector)) or not getattr(cls, "name", None):
                self._fail(plugin, f"register_connectors returned {cls!r}, not a named Connector subclass")
                continue
            if cls.name in found and found[cls.name] is not cls:
                self._fail(plugin, f"connector name {cls.name!r} is already registered by plugin {owners[cls.name]!r}")
                continue
            found[cls.name] = cls
            owners[cls.name] = plugin
        return found

    def connector(self, name: str) -> type[Connector]:
        from hub.errors import NotFound

        try:
            return self.connectors()[name]
        except KeyError:
            raise NotFound(f"no connector named {name!r} (see `fediflow connectors list`)") from None

    def mapping_folders(self) -> list[Path]:
        folders = []
        for plugin, folder in self._collect("register_mapping_folders"):
            path = Path(folder)
            if not path.is_dir():
                self._fail(plugin, f"mapping folder {path} does not exist")
                continue
            folders.append(path)
        return folders

    def canonical_types(self) -> list[tuple[str, type[BaseModel]]]:
        return self._collect("register_canonical_types")

    def cli_commands(self) -> list[tuple[str, Any]]:
        return self._collect("register_cli_commands")

    def api_routes(self) -> list[tuple[str, Any]]:
        return self._collect("register_api_routes")

    @property
    def observes_changes(self) -> bool:
        """Whether any plugin implements ``on_change_events`` (spares building events for nobody)."""
        return bool(self.manager.hook.on_change_events.get_hookimpls())

    def notify_changes(self, events: Sequence[ChangeEvent]) -> None:
        if events:
            self._observe("on_change_events", events=events)

    def notify_run(self, summary: RunSummary) -> None:
        self._observe("on_sync_finished", summary=summary)

    def _observe(self, hook_name: str, **kwargs: Any) -> None:
        for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
            try:
                impl.function(**kwargs)
            except Exception as exc:  # observers must not break the run that notifies them
                log.error(
                    "plugin observer failed",
                    extra={"plugin": self.manager.get_name(impl.plugin), "hook": hook_name, "error": repr(exc)},
                )


def build_plugin_manager(settings: PluginSettings, *, extra: Iterable[tuple[str, object]] = ()) -> Plugins:
    """Build the plugin manager: register the hookspecs, then each allowed entry point of the group.

    ``extra`` adds (name, plugin) pairs directly (tests, embedding). A plugin whose import fails is
    recorded in ``Plugins.failures`` with its name and the error, and the rest load.
    """
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager)
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if settings.allow is not None and ep.name not in settings.allow:
            continue
        if ep.name in settings.deny or manager.has_plugin(ep.name):
            continue
        try:
            module = ep.load()
            manager.register(module, name=ep.name)
        except Exception as exc:  # report a broken plugin by name, keep the others
            plugins._fail(ep.name, f"could not load {ep.value}: {type(exc).__name__}: {exc}")
    for name, plugin in extra:
        try:
            manager.register(plugin, name=name)
        except Exception as exc:
            plugins._fail(name, f"could not register: {type(exc).__name__}: {exc}")
    return plugins


def require_no_failures(plugins: Plugins) -> None:
    """Raise PluginError listing every broken plugin (used by `fediflow plugins check`)."""
    if plugins.failures:
        raise PluginError("; ".join(f"{f.name}: {f.error}" for f in plugins.failures))
