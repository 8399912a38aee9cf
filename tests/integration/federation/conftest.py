"""Two FediFlow hubs on loopback (SQLite, own ports and databases), federating with each other."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from live_server import free_port, start_server, stop_server


@dataclass
class FedHub:
    """One running hub: its settings, base URL and an admin client of tenant ``tenant``."""

    settings: Any
    base_url: str
    tenant: str
    client_id: str
    secret: str
    server: Any = None

    def run(self, func: Callable[[Any], Any]) -> Any:
        """Run ``await func(hub)`` on a hub of its own (own event loop), closed afterwards."""
        from hub.context import Hub

        async def main() -> Any:
            hub = Hub.from_settings(self.settings)
            try:
                return await func(hub)
            finally:
                await hub.close()

        return asyncio.run(main())

    def work(self) -> dict[str, int]:
        """One round of the federation worker."""
        from hub.federation import FederationWorker

        return self.run(lambda hub: FederationWorker(hub).run_once())

    def admin(self) -> httpx.Client:
        with httpx.Client(base_url=self.base_url) as c:
            resp = c.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(self.client_id, self.secret))
            assert resp.status_code == 200, resp.text
            token = resp.json()["access_token"]
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)


@pytest.fixture
def start_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              database_url: str) -> Iterator[Callable[[str, str], FedHub]]:
    """Start hubs on loopback: the first on the parametrised backend (SQLite or PostgreSQL), others on SQLite."""

    from hub.api import create_app
    from hub.auth import client_service
    from hub.context import Hub
    from hub.settings import load_settings

    for key in list(os.environ):
        if key.startswith("FEDIFLOW_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    servers: list[tuple[Any, threading.Thread]] = []
    backends = [database_url]

    def start(name: str, tenant: str) -> FedHub:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = load_settings(
            data_dir=str(tmp_path / name),
            database={"url": backends.pop() if backends else f"sqlite+aiosqlite:///{tmp_path / name / 'hub.db'}"},
            security={"secret_key": Fernet.generate_key().decode()},
            api={"host": "127.0.0.1", "port": port, "public_url": base},
            federation={"allow_private": ("127.0.0.1",), "delivery_backoff_seconds": 0},
            log_format="json",
        )

        async def setup() -> tuple[str, str]:
            hub = Hub.from_settings(settings)
            try:
                await hub.db.migrate()
                await hub.store.ensure_tenant(tenant, f"District {tenant}")
                client, secret = await client_service(hub).create(tenant, "admin", name="admin")
                return client.client_id, secret
            finally:
                await hub.close()

        client_id, secret = asyncio.run(setup())
        app = create_app(Hub.from_settings(settings))
        server, thread = start_server(app, port)
        servers.append((server, thread))
        return FedHub(settings, base, tenant, client_id, secret, server)

    yield start
    for server, thread in servers:
        stop_server(server, thread)
