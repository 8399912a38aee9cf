"""The plugin manager factory and the hub's typed view of what plugins register.

Plugins are modules (or objects) exposing hook implementations. Built-in connectors and
third-party packages are found the same way: through the ``fediflow`` entry-point group.
Nothing is loaded at import time; :func:`build_plugin_manager` does it from settings.

Order and precedence (docs/hooks.md):

- plugins are registered built-ins first (the entry points of the ``fediflow`` distribution), then
  third-party entry points, each by entry-point name, then the ``extra`` plugins given in code;
- every hook is called through ``manager.hook`` (so hookwrappers and ``tryfirst``/``trylast``
  apply to the call), once per plugin manager for the ``register_*`` hooks (the results are
  cached: :meth:`Plugins.connectors` and the others read registries, they do not call hooks);
- a name (connector, canonical type) belongs to the first plugin in registration order that
  registers it; a later one is reported naming both;
- mapping folders: built-in < third-party (later registration overrides earlier, and two
  third-party plugins shipping the same ``<connector>/<stream>.yaml`` are reported naming both)
  < the tenant's ``mapping_dir``.

A plugin that raises in a hook or returns the wrong shape is reported by name (``failures``) and
the others' results are kept: each plugin's implementations are registered behind a guard that
catches the plugin's own exception, so one broken plugin never aborts the hook call.
"""

from __future__ import annotations

import functools
import logging
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from hub import hookspecs
from hub.errors import NotFound
from hub.hookimpl import PROJECT
from hub.settings import PluginSettings

if TYPE_CHECKING:
    from pydantic import BaseModel

    from hub.events import ChangeEvent, RunSummary
    from hub.sdk import Connector

__all__ = ["ENTRY_POINT_GROUP", "PluginFailure", "Plugins", "build_plugin_manager"]

ENTRY_POINT_GROUP = "fediflow"
#: the distribution whose entry points are the built-in plugins
BUILTIN_DISTRIBUTION = "fediflow"
log = logging.getLogger("fediflow.plugins")


@dataclass(frozen=True, slots=True)
class PluginFailure:
    """A plugin that could not be loaded or broke a hook contract."""

    name: str
    error: str


class _Contribution(list):  # type: ignore[type-arg]
    """One plugin's result of a ``register_*`` hook: a list that knows which plugin returned it."""

    plugin: str


@dataclass
class Plugins:
    """The loaded plugins and the registries built once from their ``register_*`` hooks."""

    manager: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)
    #: names of the built-in plugins (entry points of the fediflow distribution)
    builtin: frozenset[str] = frozenset()
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- registration --------------------------------------------------------------------------

    def register(self, plugin: object, name: str) -> None:
        """Register ``plugin`` under ``name`` behind the guard that reports its failures by name."""
        self.manager.register(self._guarded(plugin, name), name=name)
        self._cache.clear()

    def _guarded(self, plugin: object, name: str) -> object:
        """A stand-in for ``plugin`` whose hook implementations report exceptions under ``name``.

        Hookwrappers are kept as they are; every other implementation keeps its hookimpl options
        (``tryfirst``, ``trylast``, ``specname`` ...) through :func:`functools.wraps`.
        """
        guarded = types.SimpleNamespace(__name__=getattr(plugin, "__name__", name), __wrapped__=plugin)
        for attr in dir(plugin):
            opts = self.manager.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            function = getattr(plugin, attr)
            if opts.get("hookwrapper") or opts.get("wrapper"):
                setattr(guarded, attr, function)
                continue
            hook_name = opts.get("specname") or attr
            setattr(guarded, attr, self._guard(function, name, hook_name))
        return guarded

    def _guard(self, function: Callable[..., Any], plugin: str, hook_name: str) -> Callable[..., Any]:
        registering = hook_name.startswith("register_")

        @functools.wraps(function)
        def guard(*args: Any) -> Any:
            try:
                value = function(*args)
            except Exception as exc:  # a plugin's bug must not take the hub (or the other plugins) down
                if registering:
                    self.report_failure(plugin, f"{hook_name} raised {type(exc).__name__}: {exc}")
                else:
                    log.error("plugin observer failed",
                              extra={"plugin": plugin, "hook": hook_name, "error": repr(exc)})
                return None
            if not registering or value is None:
                return value
            if not isinstance(value, list | tuple):
                self.report_failure(plugin, f"{hook_name} must return a list, got {type(value).__name__}")
                return None
            contribution = _Contribution(value)
            contribution.plugin = plugin
            return contribution

        return guard

    def report_failure(self, name: str, message: str) -> None:
        """Record that plugin ``name`` broke (logged once; listed by ``fediflow plugins check``)."""
        failure = PluginFailure(name, message)
        if failure not in self.failures:
            self.failures.append(failure)
            log.error("plugin failed", extra={"plugin": name, "error": message})

    # --- register_* hooks: called once, through pluggy ------------------------------------------

    def _collect(self, hook_name: str) -> list[tuple[str, Any]]:
        """``(plugin, item)`` of every plugin's result of a ``register_*`` hook, in registration order.

        The hook is called once through ``manager.hook`` (pluggy calls the latest registered
        first; the results are put back in registration order, the order precedence is defined
        in). Cached until a plugin is registered.
        """
        if hook_name in self._cache:
            return list(self._cache[hook_name])
        try:
            results = getattr(self.manager.hook, hook_name)()
        except Exception as exc:  # only a hookwrapper can raise here: the implementations are guarded
            self.report_failure(hook_name, f"a hookwrapper of {hook_name} raised {type(exc).__name__}: {exc}")
            results = []
        order = {name: i for i, (name, _) in enumerate(self.manager.list_name_plugin())}
        found: list[tuple[str, Any]] = []
        for result in results:
            plugin = getattr(result, "plugin", None) or "<hookwrapper>"  # a list a hookwrapper put in
            found.extend((plugin, item) for item in (result if isinstance(result, list | tuple) else [result]))
        # a stable sort: registration order, and each plugin's items in the order it returned them
        collected = sorted(found, key=lambda pair: order.get(pair[0], len(order)))
        self._cache[hook_name] = collected
        return list(collected)

    def connectors(self) -> dict[str, type[Connector]]:
        """The connector classes by name (built once from ``register_connectors``)."""
        if "connectors" not in self._cache:
            self._cache["connectors"] = self._build_connectors()
        return dict(self._cache["connectors"])

    def _build_connectors(self) -> dict[str, type[Connector]]:
        from hub.sdk import Connector

        found: dict[str, type[Connector]] = {}
        owners: dict[str, str] = {}
        for plugin, cls in self._collect("register_connectors"):
            if not (isinstance(cls, type) and issubclass(cls, Connector)) or not getattr(cls, "name", None):
                self.report_failure(plugin, f"register_connectors returned {cls!r}, not a named Connector subclass")
                continue
            if cls.name in found and found[cls.name] is not cls:
                self.report_failure(plugin, f"connector name {cls.name!r} is already registered by plugin {owners[cls.name]!r}")
                continue
            found[cls.name] = cls
            owners[cls.name] = plugin
        return found

    def connector(self, name: str) -> type[Connector]:
        try:
            return self.connectors()[name]
        except KeyError:
            raise NotFound(f"no connector named {name!r} (see `fediflow connectors list`)") from None

    def mapping_folders(self) -> list[Path]:
        """Mapping folders, lowest precedence first: built-in, then third-party (registration order).

        The tenant's ``mapping_dir`` (not a plugin) overrides them all, in the mapping registry.
        """
        if "mapping_folders" not in self._cache:
            self._cache["mapping_folders"] = self._build_mapping_folders()
        return list(self._cache["mapping_folders"])

    def _build_mapping_folders(self) -> list[Path]:
        builtin: list[Path] = []
        third_party: list[tuple[str, Path]] = []
        for plugin, folder in self._collect("register_mapping_folders"):
            path = Path(folder)
            if not path.is_dir():
                self.report_failure(plugin, f"mapping folder {path} does not exist")
                continue
            if plugin in self.builtin:
                builtin.append(path)
            else:
                third_party.append((plugin, path))
        shipped_by: dict[tuple[str, str], str] = {}
        for plugin, path in third_party:
            for file in sorted(path.glob("*/*.yaml")):
                key = (file.parent.name, file.stem)
                other = shipped_by.setdefault(key, plugin)
                if other != plugin:
                    self.report_failure(plugin, f"mapping {key[0]}/{key[1]} is also shipped by plugin {other!r}; "
                                       f"{plugin!r} (registered later) wins: deny one of them or add a tenant override")
                    shipped_by[key] = plugin
        return builtin + [path for _, path in third_party]

    def canonical_types(self) -> list[tuple[str, type[BaseModel]]]:
        """``(plugin, model)`` of ``register_canonical_types``, in registration order."""
        return self._collect("register_canonical_types")

    def cli_commands(self) -> list[tuple[str, Any]]:
        return self._collect("register_cli_commands")

    def api_routes(self) -> list[tuple[str, Any]]:
        return self._collect("register_api_routes")

    # --- on_* hooks: observers ------------------------------------------------------------------

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
        """Call an ``on_*`` hook through pluggy; a failing observer is logged (by its guard) and skipped."""
        try:
            getattr(self.manager.hook, hook_name)(**kwargs)
        except Exception as exc:  # only a hookwrapper can raise here: observers must not break the run
            log.error("plugin hookwrapper failed", extra={"hook": hook_name, "error": repr(exc)})


def _is_builtin(ep: EntryPoint) -> bool:
    dist = getattr(ep, "dist", None)
    return dist is not None and dist.name == BUILTIN_DISTRIBUTION


def build_plugin_manager(settings: PluginSettings, *, extra: Iterable[tuple[str, object]] = ()) -> Plugins:
    """Build the plugin manager: register the hookspecs, then each allowed entry point of the group.

    Built-in entry points are registered first, then third-party ones (each by name), then
    ``extra`` (name, plugin) pairs (tests, embedding). A plugin whose import fails is recorded in
    ``Plugins.failures`` with its name and the error, and the rest load.
    """
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (not _is_builtin(e), e.name))
    plugins = Plugins(manager, builtin=frozenset(e.name for e in found if _is_builtin(e)))
    for ep in found:
        if settings.allow is not None and ep.name not in settings.allow:
            continue
        if ep.name in settings.deny or manager.has_plugin(ep.name):
            continue
        try:
            plugins.register(ep.load(), ep.name)
        except Exception as exc:  # report a broken plugin by name, keep the others
            plugins.report_failure(ep.name, f"could not load {ep.value}: {type(exc).__name__}: {exc}")
    for name, plugin in extra:
        try:
            plugins.register(plugin, name)
        except Exception as exc:
            plugins.report_failure(name, f"could not register: {type(exc).__name__}: {exc}")
    return plugins
