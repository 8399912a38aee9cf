"""The library plugin registers its connectors and the LibraryItem type through the hooks."""

from __future__ import annotations

from pathlib import Path

from connectors.library import LibraryItem, OaiPmhConnector, SruConnector
from hub.context import Hub
from hub.mapping import MappingRegistry
from hub.plugins import build_plugin_manager
from hub.settings import PluginSettings, load_settings


def test_library_item_is_registered_through_the_hook(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    plugins = build_plugin_manager(PluginSettings(allow=("library", "builtin_mappings")))
    hub = Hub(settings=load_settings(), plugins=plugins, db=None)  # type: ignore[arg-type]  # types need no database
    assert hub.types["LibraryItem"] is LibraryItem
    assert not hub.types.is_builtin("LibraryItem")
    assert plugins.connectors() == {"oai_pmh": OaiPmhConnector, "sru": SruConnector}
    assert not plugins.failures


def test_shipped_library_mappings_compile_against_the_registered_type(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    plugins = build_plugin_manager(PluginSettings(allow=("library", "builtin_mappings")))
    hub = Hub(settings=load_settings(), plugins=plugins, db=None)  # type: ignore[arg-type]
    registry = MappingRegistry(plugins.mapping_folders(), hub.types)
    for connector in ("oai_pmh", "sru"):
        compiled = registry.get(connector, "records")
        assert compiled.target == "LibraryItem" and compiled.model is LibraryItem
