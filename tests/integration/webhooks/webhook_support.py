"""Helpers of the webhook tests: a real receiver on loopback that verifies with the official
``standardwebhooks`` library, and a writer of change-log entries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from live_server import free_port, start_server, stop_server
from sqlalchemy import update
from standardwebhooks import Webhook, WebhookVerificationError

#: fast settings for tests: loopback allowed explicitly, short retries and leases
FAST_ENV = {
    "FEDIFLOW_WEBHOOKS__ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
    "FEDIFLOW_WEBHOOKS__RETRY_SCHEDULE_SECONDS": "0.1,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2",
    "FEDIFLOW_WEBHOOKS__JITTER": "0.1",
    "FEDIFLOW_WEBHOOKS__POLL_INTERVAL_SECONDS": "0.05",
    "FEDIFLOW_WEBHOOKS__LEASE_SECONDS": "2",
    "FEDIFLOW_WEBHOOKS__TIMEOUT_SECONDS": "5",
}


@dataclass
class Received:
    msg_id: str
    payload: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    """An HTTP receiver on 127.0.0.1. ``respond(n)`` decides the answer of the n-th request:
    ``(status, headers)``; only requests answered 2xx *and* verified are kept in ``accepted``."""

    secret: str | None = None
    respond: Callable[[int, Received], tuple[int, dict[str, str]]] | None = None
    accepted: list[Received] = field(default_factory=list)
    requests: int = 0
    rejected_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.requests += 1
                    n = receiver.requests
                try:
                    payload = Webhook(receiver.secret).verify(body, headers) if receiver.secret else json.loads(body)
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.rejected_signatures += 1
                    self._answer(401, {})
                    return
                item = Received(headers["webhook-id"], payload, headers)
                status, extra = receiver.respond(n, item) if receiver.respond else (200, {})
                if 200 <= status < 300:
                    with receiver.lock:
                        receiver.accepted.append(item)
                self._answer(status, extra)

            def _answer(self, status: int, extra: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                if status in (204, 304):
                    self.end_headers()
                    return
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients closing pooled connections (and the killed worker) are expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def seqs(self) -> list[int]:
        return [r.payload["data"]["seq"] for r in self.accepted if "seq" in r.payload["data"]]


async def append_changes(hub: Any, tenant_id: int, count: int, *, entity_type: str = "User", op: str = "created",
                         source_id: int | None = None, start: int = 0) -> list[int]:
    """Append ``count`` change-log entries the way the sync engine does (sequence bumped under the
    tenant row lock, rows inserted in the same transaction); returns their sequences."""
    from hub.store._tables import changes, tenants

    now = datetime.now(UTC)
    async with hub.db.begin() as conn:
        last = (await conn.execute(
            update(tenants).where(tenants.c.id == tenant_id).values(change_seq=tenants.c.change_seq + count)
            .returning(tenants.c.change_seq))).scalar_one()
        first = last - count + 1
        rows = [{"tenant_id": tenant_id, "seq": first + i, "entity_type": entity_type, "stable_id": f"id-{start + i}",
                 "op": op, "version": 1, "source_id": source_id, "run_id": None,
                 "data": {"sourcedId": f"id-{start + i}", "n": start + i}, "at": now} for i in range(count)]
        await conn.execute(changes.insert(), rows)
    return [r["seq"] for r in rows]


def wait_until(predicate: Callable[[], bool], timeout: float = 20, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)


async def make_client(tenant: str, role: str) -> tuple[str, str]:
    """Create an API client in a hub of its own; returns ``(client_id, secret)``."""
    from hub.auth import client_service
    from hub.context import Hub
    from hub.settings import load_settings

    hub = Hub.from_settings(load_settings())
    try:
        if hub.db.is_sqlite:
            await hub.db.migrate()
        await hub.store.ensure_tenant(tenant)
        client, secret = await client_service(hub).create(tenant, role, name=f"{tenant}-{role}")
        return client.client_id, secret
    finally:
        await hub.close()


@dataclass
class ApiServer:
    base_url: str
    server: Any
    thread: threading.Thread

    def token(self, client_id: str, secret: str) -> str:
        import httpx

        resp = httpx.post(f"{self.base_url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, secret))
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    def http(self, token: str) -> Any:
        import httpx

        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def stop(self) -> None:
        stop_server(self.server, self.thread)


def start_api() -> ApiServer:
    """The real API app (hub from the environment) under uvicorn on a free loopback port."""

    from hub.api import create_app
    from hub.context import Hub
    from hub.settings import load_settings

    app = create_app(Hub.from_settings(load_settings()))
    port = free_port()
    server, thread = start_server(app, port, ws="websockets-sansio")
    return ApiServer(f"http://127.0.0.1:{port}", server, thread)
