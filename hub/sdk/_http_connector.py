"""A connector that reads one HTTP API through one :class:`HttpClient`, built on first use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

from hub.sdk._auth import AuthStrategy, HttpEndpointConfig
from hub.sdk._connector import Connector
from hub.sdk._http import HttpClient

__all__ = ["HttpConnector"]

HttpConfigT = TypeVar("HttpConfigT", bound=HttpEndpointConfig)


class HttpConnector(Connector[HttpConfigT], Generic[HttpConfigT]):
    """Base of connectors that talk to one HTTP API: ``class AcmeConnector(HttpConnector[AcmeConfig])``.

    The config (an :class:`HttpSourceConfig`, or an :class:`HttpEndpointConfig` with the vendor's
    own credential fields) says where the API is, the timeouts, retries and budget. The extension
    points are public and small:

    - :attr:`headers`: sent with every request (``{"Accept": "application/json"}``);
    - :meth:`auth`: the auth strategy; the default is the one an :class:`HttpSourceConfig` describes.

    :attr:`client` is the run's client, built on first use by :meth:`new_client`, and :meth:`aclose`
    closes it. ``check()`` opens a client of its own that tries once:
    ``async with self.new_client(max_attempts=1) as client``. ``client_options`` are extra
    :class:`HttpClient` keyword arguments that win over the config (tests give ``transport`` or
    ``sleep``).
    """

    #: headers sent with every request
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: HttpConfigT, *, client_options: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.client_options: dict[str, Any] = dict(client_options or {})
        self._client: HttpClient | None = None

    def auth(self) -> AuthStrategy | None:
        """The auth strategy of a new client; override it for a vendor's own credentials."""
        return self.config.auth_strategy()

    def new_client(self, *, max_attempts: int | None = None) -> HttpClient:
        """A new client for this source; ``max_attempts`` overrides the config's (``check`` tries once)."""
        config = self.config if max_attempts is None else self.config.model_copy(update={"max_attempts": max_attempts})
        options: dict[str, Any] = {"auth": self.auth(), "headers": dict(self.headers), **self.client_options}
        return HttpClient.from_config(config, **options)

    @property
    def client(self) -> HttpClient:
        """The run's client, built on first use."""
        if self._client is None:
            self._client = self.new_client()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
