"""The mapping files shipped with FediFlow, one folder per built-in connector.

This package is a plugin (entry point ``builtin_mappings``): it registers its own folder
through the same hook third-party packages use.
"""

from __future__ import annotations

from pathlib import Path

from hub.hookimpl import hookimpl

__all__ = ["FOLDER", "register_mapping_folders"]

FOLDER = Path(__file__).parent


@hookimpl
def register_mapping_folders() -> list[Path]:
    return [FOLDER]
