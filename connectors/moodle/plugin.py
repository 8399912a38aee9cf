"""Entry point of the moodle connector (``[project.entry-points.fediflow]``)."""

from __future__ import annotations

from connectors.moodle.connector import MoodleConnector
from hub.hookimpl import hookimpl
from hub.sdk import Connector

__all__ = ["register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [MoodleConnector]
