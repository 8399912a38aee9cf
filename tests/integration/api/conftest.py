"""A real uvicorn server on 127.0.0.1 (free port, background thread) per test, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from api_support import DEFAULT_CLIENTS, LiveServer, _setup, _TestPlugin
from live_server import free_port, start_server, stop_server


@pytest.fixture
def live_server(hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., LiveServer]]:
    """Start a server: ``live_server(env={...}, clients={...}, prepare=async fn(hub), extra_routers=[...])``."""
    import uvicorn

    from hub.api import create_app
    from hub.context import Hub
    from hub.settings import load_settings

    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(env: dict[str, str] | None = None, clients: dict[str, tuple[str, str]] | None = None,
              prepare: Callable[[Any], Any] | None = None, extra_routers: Sequence[Any] = ()) -> LiveServer:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        creds = asyncio.run(_setup(clients or DEFAULT_CLIENTS, prepare))
        hub = Hub.from_settings(load_settings(), extra_plugins=[("test_secret", _TestPlugin())])
        app = create_app(hub, extra_routers=extra_routers)
        port = free_port()
        started.append(start_server(app, port))
        return LiveServer(f"http://127.0.0.1:{port}", app, hub, creds)

    yield start
    for server, thread in started:
        stop_server(server, thread)


