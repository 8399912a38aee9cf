"""Helpers of the API tests: a test connector with a secret, the live server handle, assertions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr

from hub.sdk import CheckResult, Connector, ConnectorConfig, ConnectorKind, RawRecord, StreamSpec, StreamState

SECRET_TOKEN = "s3cr3t-upstream-token-Zq9"


class SecretConfig(ConnectorConfig):
    url: str = Field(min_length=1)
    token: SecretStr
    page_size: int = Field(default=100, ge=1, le=1000)


class SecretConnector(Connector):
    """A test connector with a secret config field; check() says whether it got the right secret."""

    name: ClassVar[str] = "test_secret"
    kind: ClassVar[ConnectorKind] = ConnectorKind.LMS
    title: ClassVar[str] = "Test connector with a secret"
    config_model: ClassVar[type[ConnectorConfig]] = SecretConfig

    def streams(self) -> Sequence[StreamSpec]:
        return (StreamSpec("users", "User"),)

    async def check(self) -> CheckResult:
        assert isinstance(self.config, SecretConfig)
        ok = self.config.token.get_secret_value() == SECRET_TOKEN
        return CheckResult(ok, "token accepted" if ok else "token rejected")

    async def read(self, stream: str, state: StreamState):  # type: ignore[override]
        if False:  # pragma: no cover
            yield RawRecord({}, "none")


class _TestPlugin:
    from hub.hookimpl import hookimpl

    @hookimpl
    def register_connectors(self) -> list[type[Connector]]:
        return [SecretConnector]


@dataclass
class Creds:
    client_id: str
    secret: str
    tenant: str
    role: str


@dataclass
class LiveServer:
    base_url: str
    app: Any
    hub: Any
    creds: dict[str, Creds] = field(default_factory=dict)

    def http(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30, **kwargs)

    def token_response(self, creds: Creds, scope: str | None = None) -> httpx.Response:
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        with self.http() as c:
            return c.post("/oauth/token", data=form, auth=(creds.client_id, creds.secret))

    def token(self, who: str, scope: str | None = None) -> str:
        resp = self.token_response(self.creds[who], scope)
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    def client(self, who: str, scope: str | None = None) -> httpx.Client:
        return self.http(self.token(who, scope))


async def _setup(clients: dict[str, tuple[str, str]], prepare: Callable[[Any], Any] | None) -> dict[str, Creds]:
    """Migrate, create tenants and clients, run ``prepare(hub)``; in a hub of its own (own event loop)."""
    from hub.auth import client_service
    from hub.context import Hub
    from hub.settings import load_settings

    hub = Hub.from_settings(load_settings(), extra_plugins=[("test_secret", _TestPlugin())])
    try:
        if hub.db.is_sqlite:
            await hub.db.migrate()
        service = client_service(hub)
        creds = {}
        for who, (tenant, role) in clients.items():
            await hub.store.ensure_tenant(tenant)
            client, secret = await service.create(tenant, role, name=who)
            creds[who] = Creds(client.client_id, secret, tenant, role)
        if prepare is not None:
            await prepare(hub)
        return creds
    finally:
        await hub.close()


DEFAULT_CLIENTS = {
    "admin": ("alpha", "admin"),
    "integrator": ("alpha", "integrator"),
    "reader": ("alpha", "reader"),
    "admin_b": ("beta", "admin"),
}


def wait_for_run(http: httpx.Client, run_id: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(f"/api/v1/runs/{run_id}").json()
        if body["status"] in ("succeeded", "failed"):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {body['status']}")
        time.sleep(0.1)


def in_imports(tenant: str, name: str) -> Path:
    """``name`` in the tenant's import directory (``$FEDIFLOW_DATA_DIR/imports/<tenant>/``): sources created
    through the API name their files relative to it (``path.name``)."""
    import os

    return Path(os.environ["FEDIFLOW_DATA_DIR"]) / "imports" / tenant / name


def make_bundle(path: Path, users: int = 50, seed: int = 1) -> Path:
    from hub.demo import generate_bundle

    generate_bundle(path, users=users, seed=seed)
    return path


def assert_problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, f"{resp.status_code} != {status}: {resp.text}"
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers["content-type"]
    body = resp.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body




def serving(monkeypatch: Any, default_clients: dict[str, tuple[str, str]] | None = None) -> Iterator[Any]:
    """The body of a ``live_server`` fixture: yields ``start(env=, clients=, prepare=, extra_routers=)``,
    which runs the real app with uvicorn on a free loopback port, and stops every server it started."""
    import asyncio

    from live_server import free_port, start_server, stop_server

    from hub.api import create_app
    from hub.context import Hub
    from hub.settings import load_settings

    started: list[Any] = []

    def start(env: dict[str, str] | None = None, clients: dict[str, tuple[str, str]] | None = None,
              prepare: Callable[[Any], Any] | None = None, extra_routers: Sequence[Any] = ()) -> LiveServer:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        creds = asyncio.run(_setup(clients or default_clients or DEFAULT_CLIENTS, prepare))
        hub = Hub.from_settings(load_settings(), extra_plugins=[("test_secret", _TestPlugin())])
        app = create_app(hub, extra_routers=extra_routers)
        port = free_port()
        started.append(start_server(app, port))
        return LiveServer(f"http://127.0.0.1:{port}", app, hub, creds)

    yield start
    for server, thread in started:
        stop_server(server, thread)
