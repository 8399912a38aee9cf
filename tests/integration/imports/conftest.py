"""Fixtures of the file-delivery tests: a real API server on loopback (SQLite and PostgreSQL), bundles, zips."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from api_support import DEFAULT_CLIENTS, LiveServer, _setup, _TestPlugin
from live_server import free_port, start_server, stop_server


@pytest.fixture
def live_server(hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., LiveServer]]:
    """Start the real app: ``live_server(env={...}, prepare=async fn(hub))``; tenants alpha and beta."""
    import uvicorn

    from hub.api import create_app
    from hub.context import Hub
    from hub.settings import load_settings

    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(env: dict[str, str] | None = None, prepare: Callable[[Any], Any] | None = None) -> LiveServer:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        clients = {**DEFAULT_CLIENTS, "integrator_b": ("beta", "integrator")}
        creds = asyncio.run(_setup(clients, prepare))
        hub = Hub.from_settings(load_settings(), extra_plugins=[("test_secret", _TestPlugin())])
        app = create_app(hub)
        port = free_port()
        started.append(start_server(app, port))
        return LiveServer(f"http://127.0.0.1:{port}", app, hub, creds)

    yield start
    for server, thread in started:
        stop_server(server, thread)


@pytest.fixture
def imports_root(hub_env: dict[str, str]) -> Path:
    """``<data_dir>/imports``: tenant ``alpha``'s directory is ``imports_root / "alpha"``."""
    return Path(hub_env["FEDIFLOW_DATA_DIR"]).resolve() / "imports"
