"""A real uvicorn server on 127.0.0.1 (free port, background thread) per test, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from api_support import DEFAULT_CLIENTS, LiveServer, _free_port, _setup, _TestPlugin


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
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                               access_log=False, lifespan="on"))
        thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        started.append((server, thread))
        return LiveServer(f"http://127.0.0.1:{port}", app, hub, creds)

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=30)


