"""Entry point of the oneroster_csv connector (``[project.entry-points.fediflow]``)."""

from __future__ import annotations

from connectors.oneroster_csv.connector import OneRosterCsvConnector
from hub.hookimpl import hookimpl
from hub.sdk import Connector

__all__ = ["register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [OneRosterCsvConnector]
