"""Entry point of the oneroster_rest connector (``[project.entry-points.fediflow]``)."""

from __future__ import annotations

from hub.hookimpl import hookimpl
from hub.sdk import Connector

from connectors.oneroster_rest.connector import OneRosterRestConnector

__all__ = ["register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [OneRosterRestConnector]
