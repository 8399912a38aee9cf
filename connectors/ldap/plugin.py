"""Entry point of the ldap connector (``[project.entry-points.fediflow]`` ``ldap``)."""

from __future__ import annotations

from connectors.ldap.connector import LdapConnector
from hub.hookimpl import hookimpl
from hub.sdk import Connector

__all__ = ["register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [LdapConnector]
