"""A connector that reads one HTTP API through one :class:`HttpClient`, built on first use."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from hub.sdk._connector import Connector, ConnectorConfig
from hub.sdk._http import HttpClient

__all__ = ["HttpConnector"]


class HttpConnector(Connector):
    """Base of connectors that talk to one HTTP API.

    Subclasses implement :meth:`_build_client`; :attr:`client` builds the run's client on first use
    and :meth:`aclose` closes it. ``client_options`` are extra keyword arguments for the client,
    which ``_build_client`` passes on (tests give ``transport`` or ``sleep``).
    """

    def __init__(self, config: ConnectorConfig, *, client_options: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self._client_options = dict(client_options or {})
        self._client: HttpClient | None = None

    @abc.abstractmethod
    def _build_client(self, max_attempts: int | None = None) -> HttpClient:
        """A new client for this source; ``max_attempts`` overrides the config's (``check`` tries once)."""

    @property
    def client(self) -> HttpClient:
        """The run's client, built on first use."""
        if self._client is None:
            self._client = self._build_client()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
