"""A real uvicorn server on 127.0.0.1 (free port, background thread) per test, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from api_support import LiveServer, serving


@pytest.fixture
def live_server(hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., LiveServer]]:
    """Start a server: ``live_server(env={...}, clients={...}, prepare=async fn(hub), extra_routers=[...])``."""
    yield from serving(monkeypatch)
