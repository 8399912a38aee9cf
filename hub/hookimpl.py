"""The marker plugins use to implement hooks: ``from hub.hookimpl import hookimpl``."""

import pluggy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "fediflow"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
