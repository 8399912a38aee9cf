"""The plugin manager factory and every hook, through real pluggy registration."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import pytest
import typer

import hub.plugins as plugins_module
from hub.context import Hub
from hub.hookimpl import hookimpl
from hub.plugins import build_plugin_manager
from hub.sdk import CheckResult, Connector, ConnectorConfig, ConnectorKind, StreamSpec
from hub.settings import PluginSettings, load_settings
from schemas import CanonicalRecord


class DemoConnector(Connector):
    name: ClassVar[str] = "demo"
    kind = ConnectorKind.SIS
    config_model = ConnectorConfig

    def streams(self) -> list[StreamSpec]:
        return [StreamSpec("things", "Org")]

    async def check(self) -> CheckResult:
        return CheckResult(True, "fine")

    async def read(self, stream: str, state: Any) -> Any:  # pragma: no cover - not read here
        if False:
            yield None


class Gadget(CanonicalRecord):
    oneroster_type: ClassVar[str] = "gadget"
    personal: ClassVar[bool] = False
    label: str | None = None


class GoodPlugin:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_connectors(self) -> list[type[Connector]]:
        return [DemoConnector]

    @hookimpl
    def register_mapping_folders(self) -> list[Path]:
        return [self.folder]

    @hookimpl
    def register_canonical_types(self) -> list[type[Any]]:
        return [Gadget]

    @hookimpl
    def register_cli_commands(self) -> list[Any]:
        return [typer.Typer(name="gadgets", help="Gadget tools.")]

    @hookimpl
    def register_api_routes(self) -> list[Any]:
        return ["route-object"]


class BrokenPlugin:
    @hookimpl
    def register_connectors(self) -> list[type[Connector]]:
        raise RuntimeError("boom")

    @hookimpl
    def register_canonical_types(self) -> Any:
        return "not a list"


class ClashingPlugin:
    @hookimpl
    def register_connectors(self) -> list[type[Connector]]:
        class Other(DemoConnector):
            name: ClassVar[str] = "demo"

        return [Other]


def test_builtin_connectors_load_through_entry_points() -> None:
    plugins = build_plugin_manager(PluginSettings())
    assert "oneroster_csv" in plugins.connectors()
    assert plugins.manager.has_plugin("oneroster_csv") and plugins.manager.has_plugin("builtin_mappings")


def test_allow_list_and_deny_list_limit_what_loads() -> None:
    only = build_plugin_manager(PluginSettings(allow=("oneroster_csv",)))
    assert [name for name, _ in only.manager.list_name_plugin()] == ["oneroster_csv"]
    denied = build_plugin_manager(PluginSettings(deny=("oneroster_csv",)))
    assert "oneroster_csv" not in denied.connectors()


def test_allow_list_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDIFLOW_PLUGINS__ALLOW", "oneroster_csv, builtin_mappings")
    assert load_settings().plugins.allow == ("oneroster_csv", "builtin_mappings")


def test_a_plugin_that_cannot_be_imported_is_reported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    real = plugins_module.entry_points

    def fake(group: str) -> list[EntryPoint]:
        return [*real(group=group), EntryPoint(name="broken_pkg", value="no_such_module_xyz.plugin", group=group)]

    monkeypatch.setattr(plugins_module, "entry_points", fake)
    plugins = build_plugin_manager(PluginSettings())
    assert [f.name for f in plugins.failures] == ["broken_pkg"]
    assert "no_such_module_xyz" in plugins.failures[0].error
    assert "oneroster_csv" in plugins.connectors(), "the other plugins still load"


def test_every_register_hook_reaches_the_hub(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "things.yaml").write_text(
        "connector: demo\nstream: things\ntarget: Gadget\nid: {path: id}\nfields:\n  label: name\n", encoding="utf-8")
    hub = Hub.from_settings(load_settings(plugins={"allow": ()}), extra_plugins=[("good", GoodPlugin(tmp_path))])
    assert hub.plugins.connector("demo") is DemoConnector
    assert hub.types["Gadget"] is Gadget and not hub.types.is_builtin("Gadget")
    mapping = hub.mappings.get("demo", "things")
    assert mapping.apply({"id": "g1", "name": "Widget"})["label"] == "Widget"
    assert [group.info.name for _, group in hub.plugins.cli_commands()] == ["gadgets"]
    assert hub.plugins.api_routes() == [("good", "route-object")]
    assert hub.plugins.failures == []


def test_plugin_cli_groups_are_added_to_the_command_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hub import cli

    real = Hub.from_settings
    monkeypatch.setattr(Hub, "from_settings",
                        classmethod(lambda cls, s, **kw: real(s, extra_plugins=[("good", GoodPlugin(tmp_path))])))
    app = cli.build_app()
    assert "gadgets" in [g.typer_instance.info.name for g in app.registered_groups]


def test_hooks_that_raise_or_break_the_contract_are_reported_not_fatal() -> None:
    plugins = build_plugin_manager(PluginSettings(allow=("oneroster_csv",)),
                                   extra=[("broken", BrokenPlugin()), ("clash", ClashingPlugin())])
    connectors = plugins.connectors()
    assert connectors["demo"].__name__ == "Other"
    assert plugins.canonical_types() == []
    broken = " ".join(f.error for f in plugins.failures if f.name == "broken")
    assert "register_connectors raised RuntimeError: boom" in broken
    assert "register_canonical_types must return a list" in broken
    assert "oneroster_csv" in connectors


def test_a_connector_name_registered_twice_names_both_plugins() -> None:
    plugins = build_plugin_manager(PluginSettings(allow=()), extra=[("first", GoodPlugin(Path("."))),
                                                                     ("second", ClashingPlugin())])
    plugins.connectors()
    clash = [f for f in plugins.failures if "already registered" in f.error]
    assert clash and clash[0].name == "second" and "first" in clash[0].error


def test_a_canonical_type_clashing_with_a_builtin_is_a_plugin_failure() -> None:
    class Org(CanonicalRecord):  # same name as the built-in type
        pass

    class Clash:
        @hookimpl
        def register_canonical_types(self) -> list[type[Any]]:
            return [Org]

    hub = Hub.from_settings(load_settings(plugins={"allow": ()}), extra_plugins=[("clash", Clash())])
    assert hub.types["Org"] is not Org
    assert any(f.name == "clash" and "already defined" in f.error for f in hub.plugins.failures)


# --- hooks go through pluggy, registries are built once, precedence is explicit -----------------


class CountingPlugin:
    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def register_connectors(self) -> list[type[Connector]]:
        self.calls += 1
        return [DemoConnector]


def test_register_hooks_run_once_per_plugin_manager(tmp_path: Path) -> None:
    counting = CountingPlugin()
    hub = Hub.from_settings(load_settings(plugins={"allow": ()}), extra_plugins=[("counting", counting)])
    for _ in range(3):
        assert hub.plugins.connector("demo") is DemoConnector
        assert list(hub.plugins.connectors()) == ["demo"]
    assert counting.calls == 1


def test_hookwrappers_wrap_the_register_call() -> None:
    class Hide:
        @hookimpl(wrapper=True)
        def register_connectors(self) -> Any:
            results = yield
            return [[cls for cls in result if cls.name != "demo"] for result in results]

    plugins = build_plugin_manager(PluginSettings(allow=()), extra=[("good", GoodPlugin(Path("."))), ("hide", Hide())])
    assert "demo" not in plugins.connectors()


def test_tryfirst_and_trylast_order_the_observers() -> None:
    seen: list[str] = []

    def observer(label: str, **opts: bool) -> object:
        class Observer:
            @hookimpl(**opts)
            def on_sync_finished(self, summary: Any) -> None:
                seen.append(label)

        return Observer()

    plugins = build_plugin_manager(PluginSettings(allow=()), extra=[
        ("early", observer("early", tryfirst=True)), ("plain", observer("plain")),
        ("late", observer("late", trylast=True)), ("newest", observer("newest"))])
    plugins.notify_run(object())  # type: ignore[arg-type]
    assert seen == ["early", "newest", "plain", "late"]  # pluggy: tryfirst, then newest first, then trylast


def test_a_failing_observer_is_logged_by_name_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    class Fails:
        @hookimpl
        def on_sync_finished(self, summary: Any) -> None:
            raise RuntimeError("observer bug")

    class Records:
        @hookimpl
        def on_sync_finished(self, summary: Any) -> None:
            seen.append("records")

    plugins = build_plugin_manager(PluginSettings(allow=()), extra=[("records", Records()), ("fails", Fails())])
    plugins.notify_run(object())  # type: ignore[arg-type]
    assert seen == ["records"]
    assert [r.plugin for r in caplog.records if r.getMessage() == "plugin observer failed"] == ["fails"]


class FolderPlugin:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_mapping_folders(self) -> list[Path]:
        return [self.folder]


class FakeEntryPoint:
    """A third-party entry point (no distribution) whose load returns ``plugin``."""

    def __init__(self, name: str, plugin: object) -> None:
        self.name, self.value, self.group, self.dist, self._plugin = name, f"{name}.plugin", "fediflow", None, plugin

    def load(self) -> object:
        return self._plugin


def test_mapping_precedence_builtin_then_third_party_then_tenant(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    import mappings

    def folder(name: str) -> Path:
        (tmp_path / name / "oneroster_csv").mkdir(parents=True)
        (tmp_path / name / "oneroster_csv" / "users.yaml").write_text("x", encoding="utf-8")
        return tmp_path / name

    real = plugins_module.entry_points
    # "aaa" sorts before "builtin_mappings": registration order still puts the built-ins first
    monkeypatch.setattr(plugins_module, "entry_points", lambda group: [
        *real(group=group), FakeEntryPoint("aaa", FolderPlugin(folder("aaa"))),
        FakeEntryPoint("zzz", FolderPlugin(folder("zzz")))])
    plugins = build_plugin_manager(PluginSettings(allow=("builtin_mappings", "aaa", "zzz")))
    assert plugins.mapping_folders() == [mappings.FOLDER, tmp_path / "aaa", tmp_path / "zzz"]
    clash = [f for f in plugins.failures if "oneroster_csv/users" in f.error]
    assert [f.name for f in clash] == ["zzz"] and "'aaa'" in clash[0].error and "wins" in clash[0].error

    from hub.mapping import MappingRegistry
    from hub.types import TypeRegistry
    from schemas import BUILTIN_TYPES

    tenant_dir = tmp_path / "tenants"
    (tenant_dir / "acme" / "oneroster_csv").mkdir(parents=True)
    (tenant_dir / "acme" / "oneroster_csv" / "users.yaml").write_text("x", encoding="utf-8")
    registry = MappingRegistry(plugins.mapping_folders(), TypeRegistry(BUILTIN_TYPES), tenant_dir=tenant_dir)
    assert registry.path_for("oneroster_csv", "users") == tmp_path / "zzz" / "oneroster_csv" / "users.yaml"
    assert registry.path_for("oneroster_csv", "users", "acme") == tenant_dir / "acme" / "oneroster_csv" / "users.yaml"
    assert registry.path_for("oneroster_csv", "orgs") == mappings.FOLDER / "oneroster_csv" / "orgs.yaml"
