"""Entry point of the federation connector (``[project.entry-points.fediflow]``)."""

from __future__ import annotations

from hub.hookimpl import hookimpl
from hub.sdk import Connector

from connectors.federation.connector import FederationConnector

__all__ = ["register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [FederationConnector]
