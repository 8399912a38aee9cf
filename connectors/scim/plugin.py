"""Entry point of the SCIM connectors (``[project.entry-points.fediflow]``): ``scim_push`` and ``scim``."""

from __future__ import annotations

from connectors.scim.client import ScimClientConnector
from connectors.scim.push import ScimPushConnector
from hub.hookimpl import hookimpl
from hub.sdk import Connector

__all__ = ["register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [ScimPushConnector, ScimClientConnector]
