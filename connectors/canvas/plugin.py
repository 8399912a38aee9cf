"""Entry point of the canvas connector (``[project.entry-points.fediflow]``)."""

from __future__ import annotations

from connectors.canvas.connector import CanvasConnector
from hub.hookimpl import hookimpl
from hub.sdk import Connector

__all__ = ["register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [CanvasConnector]
