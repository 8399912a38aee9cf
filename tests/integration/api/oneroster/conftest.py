"""A real hub API server (uvicorn in a background thread) over the seeded roster, and tokens for it."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import free_port, start_server, stop_server

_DATA = Path(__file__).parents[3] / "unit" / "oneroster" / "oneroster_roster_data.py"
_spec = importlib.util.spec_from_file_location("_oneroster_roster_data_api", _DATA)
assert _spec and _spec.loader
roster_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(roster_data)


@dataclass
class Server:
    base: str

    @property
    def root(self) -> str:
        return self.base + "/ims/oneroster/rostering/v1p2"


@pytest.fixture
def server(hub_env: dict[str, str]) -> Iterator[Server]:
    """The hub API of the test database, served by uvicorn on 127.0.0.1 in a thread."""

    from hub.api import create_app
    from hub.context import Hub
    from hub.settings import load_settings

    instance = Hub.from_settings(load_settings())  # its own engine: connections live on the server's loop
    app = create_app(instance, run_syncs=False)
    port = free_port()
    srv, thread = start_server(app, port)
    yield Server(f"http://127.0.0.1:{port}")
    stop_server(srv, thread)


async def _token(hub: Any, base: str, tenant: str, role: str, scopes: list[str] | None = None) -> str:
    from hub.auth import client_service

    client, secret = await client_service(hub).create(tenant, role, scopes=scopes)
    async with httpx.AsyncClient(base_url=base) as http:
        res = await http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                    "client_id": client.client_id, "client_secret": secret})
    assert res.status_code == 200, res.text
    return str(res.json()["access_token"])


@dataclass
class Api:
    server: Server
    tokens: dict[str, str]

    def client(self, who: str = "admin") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.AsyncClient(base_url=self.server.root, headers=headers, timeout=30)

    def management(self, who: str = "admin") -> httpx.AsyncClient:
        """A client of the management API (``/api/v1``) with the same token."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.AsyncClient(base_url=self.server.base + "/api/v1", headers=headers, timeout=30)


@pytest.fixture
async def api(hub: Any, server: Server) -> Api:
    """Seeded roster; tokens: admin (all scopes), core (roster-core.readonly), demo
    (roster-demographics.readonly), roster (roster.readonly), other (admin of tenant ``other``)."""
    await roster_data.seed(hub)
    tokens = {
        "admin": await _token(hub, server.base, "default", "admin"),
        "core": await _token(hub, server.base, "default", "reader"),
        "demo": await _token(hub, server.base, "default", "integrator", ["roster-demographics.readonly"]),
        "roster": await _token(hub, server.base, "default", "reader", ["roster.readonly"]),
        "other": await _token(hub, server.base, "other", "admin"),
    }
    return Api(server, tokens)
