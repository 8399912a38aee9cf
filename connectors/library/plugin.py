"""Entry point of the library connectors (``[project.entry-points.fediflow]`` ``library``).

Registers the ``oai_pmh`` and ``sru`` connectors and the ``LibraryItem`` canonical type.
"""

from __future__ import annotations

from pydantic import BaseModel

from connectors.library._model import LibraryItem
from connectors.library.oai_pmh import OaiPmhConnector
from connectors.library.sru import SruConnector
from hub.hookimpl import hookimpl
from hub.sdk import Connector

__all__ = ["register_canonical_types", "register_connectors"]


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [OaiPmhConnector, SruConnector]


@hookimpl
def register_canonical_types() -> list[type[BaseModel]]:
    return [LibraryItem]
