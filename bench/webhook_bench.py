"""Benchmark: fan-out of change events to loopback webhook receivers, against plain httpx POSTs.

    python -m bench.webhook_bench --events 10000 --receivers 10

Measured in the same run, on the same machine:

* hub: ``--events`` change-log entries (written the way the sync engine writes them) fanned out to
  ``--receivers`` subscriptions (``*``), each on its own loopback receiver: the dispatcher queues
  events x receivers deliveries (one transaction per subscription batch, cursor advanced with
  them), then the delivery worker sends them: SSRF check and address pinning, Standard Webhooks
  signing, one in-flight delivery per subscription (order), each attempt recorded in the database.
  Reported: the dispatch rate, the send rate, and end to end deliveries/s (dispatch + send).
* raw: the same bodies POSTed with one plain ``httpx.AsyncClient``, one sequential stream per
  receiver (the same concurrency as the worker's per-subscription order), no signing, no database.

Receivers are uvicorn servers (one process, one port each) answering 204. SQLite in a temporary
directory unless ``--database-url`` is given (a PostgreSQL database migrated by this script).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_RECEIVERS = """
import asyncio, sys, uvicorn

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})

async def main(ports):
    servers = [uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=p, log_level="error", access_log=False,
                                             lifespan="off")) for p in ports]
    await asyncio.gather(*(s.serve() for s in servers))

asyncio.run(main([int(p) for p in sys.argv[1:]]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ports(ports: list[int], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"receiver on port {port} did not start") from None
                time.sleep(0.05)


async def _append(hub: Any, tenant_id: int, count: int, chunk: int = 2000) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import update

    from hub.store._tables import changes, tenants

    done = 0
    while done < count:
        n = min(chunk, count - done)
        now = datetime.now(UTC)
        async with hub.db.begin() as conn:
            last = (await conn.execute(update(tenants).where(tenants.c.id == tenant_id)
                                       .values(change_seq=tenants.c.change_seq + n).returning(tenants.c.change_seq))).scalar_one()
            first = last - n + 1
            await conn.execute(changes.insert(), [
                {"tenant_id": tenant_id, "seq": first + i, "entity_type": "User", "stable_id": f"u{done + i}", "op": "updated",
                 "version": 2, "source_id": None, "run_id": None, "at": now,
                 "data": {"sourcedId": f"u{done + i}", "status": "active", "givenName": "Ada", "familyName": "Lovelace",
                          "email": f"u{done + i}@school.example", "roles": [{"role": "student", "org": {"sourcedId": "o1"}}]}}
                for i in range(n)])
        done += n


async def _raw(urls: list[str], bodies: list[str]) -> float:
    import httpx

    async with httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=len(urls) * 2)) as client:
        async def stream(url: str) -> None:
            for body in bodies:
                resp = await client.post(url, content=body.encode(), headers={"content-type": "application/json"})
                assert resp.status_code == 204

        started = time.perf_counter()
        await asyncio.gather(*(stream(u) for u in urls))
        return time.perf_counter() - started


async def run(events: int, receivers: int, database_url: str | None) -> dict[str, float]:
    from sqlalchemy import func, select

    from hub.context import Hub
    from hub.settings import load_settings
    from hub.store._tables import webhook_deliveries
    from hub.webhooks import DeliveryWorker, Dispatcher, WebhookStore

    ports = [_free_port() for _ in range(receivers)]
    proc = subprocess.Popen([sys.executable, "-c", _RECEIVERS, *map(str, ports)])
    try:
        _wait_ports(ports)
        urls = [f"http://127.0.0.1:{p}/hook" for p in ports]
        hub = Hub.from_settings(load_settings())
        await hub.db.migrate()
        tenant = await hub.store.ensure_tenant("bench")
        store = WebhookStore.for_hub(hub, tenant.id)
        subs = [(await store.create(url, ["*"]))[0] for url in urls]
        await _append(hub, tenant.id, events)
        settings = hub.settings.webhooks

        started = time.perf_counter()
        queued = await Dispatcher(hub.db, settings).dispatch_all()
        dispatched = time.perf_counter()
        worker = DeliveryWorker(hub.db, hub.secret_box, settings)
        await worker.run_once()
        finished = time.perf_counter()
        await worker.sender.aclose()
        async with hub.db.connect() as conn:
            ok = (await conn.execute(select(func.count()).where(webhook_deliveries.c.status == "succeeded"))).scalar_one()
            bodies = list((await conn.execute(select(webhook_deliveries.c.body)
                                              .where(webhook_deliveries.c.subscription_id == subs[0].id)
                                              .order_by(webhook_deliveries.c.seq))).scalars())
        assert queued == ok == events * receivers, (queued, ok)
        raw_seconds = await _raw(urls, bodies)
        await hub.close()
    finally:
        proc.terminate()
        proc.wait(10)
    total = events * receivers
    return {
        "deliveries": total,
        "dispatch_per_s": total / (dispatched - started),
        "send_per_s": total / (finished - dispatched),
        "end_to_end_per_s": total / (finished - started),
        "raw_httpx_per_s": total / raw_seconds,
        "dispatch_s": dispatched - started,
        "send_s": finished - dispatched,
        "raw_s": raw_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--receivers", type=int, default=10)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="ff-webhook-bench-")
    from cryptography.fernet import Fernet

    for key in [k for k in os.environ if k.startswith("FEDIFLOW_")]:
        del os.environ[key]
    os.environ.update({
        "FEDIFLOW_DATA_DIR": tmp,
        "FEDIFLOW_DATABASE__URL": args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'hub.db'}",
        "FEDIFLOW_SECURITY__SECRET_KEY": Fernet.generate_key().decode(),
        "FEDIFLOW_LOG_LEVEL": "WARNING",
        "FEDIFLOW_WEBHOOKS__ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
        "FEDIFLOW_WEBHOOKS__CONCURRENCY": str(args.concurrency),
    })
    result = asyncio.run(run(args.events, args.receivers, args.database_url))
    print(f"events={args.events} receivers={args.receivers} deliveries={result['deliveries']} "
          f"db={'postgresql' if args.database_url else 'sqlite'}")
    print(f"dispatch (change log -> queue): {result['dispatch_per_s']:10.0f} deliveries/s  ({result['dispatch_s']:.2f} s)")
    print(f"send (signed, recorded):        {result['send_per_s']:10.0f} deliveries/s  ({result['send_s']:.2f} s)")
    print(f"end to end:                     {result['end_to_end_per_s']:10.0f} deliveries/s")
    print(f"raw httpx POSTs, same bodies:   {result['raw_httpx_per_s']:10.0f} requests/s    ({result['raw_s']:.2f} s)")
    print(f"hub / raw:                      {result['end_to_end_per_s'] / result['raw_httpx_per_s']:10.2f}")


if __name__ == "__main__":
    main()
