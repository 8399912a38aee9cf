"""A real uvicorn server on 127.0.0.1 with a ``scim_push`` source per tenant, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from live_server import free_port, start_server, stop_server

SCIM_JSON = "application/scim+json"


@dataclass
class ScimServer:
    base_url: str
    app: Any
    #: who -> (client_id, secret)
    creds: dict[str, tuple[str, str]] = field(default_factory=dict)

    def scim(self, who: str, source: str = "idp", *, mode: str = "token") -> httpx.Client:
        """A client on ``/scim/v2/<source>/`` authenticated as ``who`` (mode token | static | basic)."""
        client_id, secret = self.creds[who]
        if mode == "basic":
            auth: dict[str, Any] = {"auth": (client_id, secret)}
            headers = {}
        elif mode == "static":
            auth, headers = {}, {"Authorization": f"Bearer {client_id}.{secret}"}
        else:
            with httpx.Client(base_url=self.base_url) as c:
                resp = c.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
            assert resp.status_code == 200, resp.text
            auth, headers = {}, {"Authorization": f"Bearer {resp.json()['access_token']}"}
        headers["Content-Type"] = SCIM_JSON
        return httpx.Client(base_url=f"{self.base_url}/scim/v2/{source}/", headers=headers, timeout=30, **auth)

    def api(self, who: str) -> httpx.Client:
        client_id, secret = self.creds[who]
        with httpx.Client(base_url=self.base_url) as c:
            token = c.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(client_id, secret)).json()["access_token"]
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


CLIENTS = {"okta": ("alpha", "integrator"), "admin": ("alpha", "admin"), "reader": ("alpha", "reader"),
           "other": ("beta", "integrator")}


async def _setup(sources: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    from connectors.scim.push import ScimPushConfig
    from hub.auth import client_service
    from hub.context import Hub
    from hub.settings import load_settings

    hub = Hub.from_settings(load_settings())
    try:
        if hub.db.is_sqlite:
            await hub.db.migrate()
        service = client_service(hub)
        creds = {}
        for who, (tenant, role) in CLIENTS.items():
            await hub.store.ensure_tenant(tenant)
            client, secret = await service.create(tenant, role, name=who)
            creds[who] = (client.client_id, secret)
        for spec, config in sources.items():
            tenant_slug, name = spec.split("/")
            tenant = await hub.store.tenant(tenant_slug)
            await tenant.add_source(name, "scim_push", ScimPushConfig.model_validate(config))
        return creds
    finally:
        await hub.close()


@pytest.fixture
def scim_server(hub_env: dict[str, str]) -> Iterator[Callable[..., ScimServer]]:

    from hub.api import create_app
    from hub.context import Hub
    from hub.settings import load_settings

    started: list[tuple[Any, threading.Thread]] = []

    def start(sources: dict[str, dict[str, Any]] | None = None) -> ScimServer:
        fast = {"sync_delay_seconds": 0.05}
        creds = asyncio.run(_setup(sources or {"alpha/idp": fast, "beta/idp": fast}))
        hub = Hub.from_settings(load_settings())
        app = create_app(hub)
        port = free_port()
        started.append(start_server(app, port))
        return ScimServer(f"http://127.0.0.1:{port}", app, creds)

    yield start
    for server, thread in started:
        stop_server(server, thread)
