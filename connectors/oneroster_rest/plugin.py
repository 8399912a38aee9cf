"""Entry point of the oneroster_rest connector (``[project.entry-points.fediflow]``)."""

from __future__ import annotations

from connectors.oneroster_rest.connector import OneRosterRestConnector
from hub.hookimpl import hookimpl
from hub.sdk import Connector

__all__ = ["register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [OneRosterRestConnector]
