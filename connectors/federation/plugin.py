"""Entry point of the federation connector (``[project.entry-points.fediflow]``)."""

from __future__ import annotations

from connectors.federation.connector import FederationConnector
from hub.hookimpl import hookimpl
from hub.sdk import Connector

__all__ = ["register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [FederationConnector]
