"""Benchmark: GET /ims/oneroster/rostering/v1p2/users?limit=100 on a 100k-user hub vs a bare Litestar app.

    python -m bench.api_bench --users 100000 --requests 5000 --concurrency 32

Measured in the same run, on the same machine, each server under uvicorn in its own subprocess
on 127.0.0.1 (one worker):

* hub: the real API (``hub.api.create_app``) on SQLite (or ``--database-url``): bearer-token
  authentication (JWT check + client lookup), scope guard, tenant scoping, COUNT for X-Total-Count,
  the page query, rendering (hrefs), Link header;
* bare: a Litestar app with one route returning the same 100-user page (fetched from the hub once,
  before timing) and the same headers, JSON-encoded on every request, no auth, no database.

Both are driven by the same Python client (httpx, ``--concurrency`` connections, a fixed number of
requests after a warm-up). Reported: requests/s, p50 and p99 latency, and hub/bare ratios.
The 100k-user store is built once (generate_bundle + sync) in ``bench/out/api-data`` and reused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out"
PATH = "/ims/oneroster/rostering/v1p2/users"


def _env(data: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDIFLOW_")}
    env.update(FEDIFLOW_DATA_DIR=str(data), FEDIFLOW_LOG_FORMAT="json", FEDIFLOW_LOG_LEVEL="WARNING",
               FEDIFLOW_API__RATE_LIMIT_PER_MINUTE="100000000")
    key_file = data / "bench-secret-key"
    if not key_file.exists():
        from cryptography.fernet import Fernet

        data.mkdir(parents=True, exist_ok=True)
        key_file.write_text(Fernet.generate_key().decode())
    env["FEDIFLOW_SECURITY__SECRET_KEY"] = key_file.read_text().strip()
    if database_url:
        env["FEDIFLOW_DATABASE__URL"] = database_url
    return env


async def _prepare(users: int, seed: int, env: dict[str, str]) -> str:
    """Build (or reuse) the store and return a bearer token of an admin client."""
    os.environ.update(env)
    from hub.auth import client_service
    from hub.context import Hub
    from hub.demo import generate_bundle
    from hub.settings import load_settings
    from hub.sync import SyncEngine

    hub = Hub.from_settings(load_settings())
    try:
        await hub.db.migrate()
        await hub.store.ensure_tenant("default")
        tenant = await hub.store.tenant("default")
        have = await tenant.count_entities("User")
        if have < users:
            bundle = OUT / f"bundle-{users}-{seed}"
            if not (bundle / "manifest.csv").exists():
                print(f"generating {bundle} ...", flush=True)
                generate_bundle(bundle, users=users, seed=seed)
            if "bench" not in {s.name for s in await tenant.list_sources()}:
                model = hub.plugins.connector("oneroster_csv").config_model
                await tenant.add_source("bench", "oneroster_csv", model(path=str(bundle.resolve())))
            started = time.perf_counter()
            print(f"syncing {users} users into {hub.settings.database_url} ...", flush=True)
            await SyncEngine(hub).sync(tenant, "bench")
            print(f"synced in {time.perf_counter() - started:.0f}s", flush=True)
        print(f"store: {await tenant.count_entities('User')} users", flush=True)
        service = client_service(hub)
        client, _secret = await service.create("default", "admin", name="bench")
        return service.issue(client).access_token
    finally:
        await hub.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(kind: str, port: int, env: dict[str, str], page_file: Path | None = None) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "bench.api_bench", "--serve", kind, "--port", str(port)]
    if page_file is not None:
        args += ["--page-file", str(page_file)]
    proc = subprocess.Popen(args, env=env, cwd=Path(__file__).parent.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{kind} server exited with {proc.returncode}") from None
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{kind} server did not start")


def _serve(kind: str, port: int, page_file: str | None) -> None:
    import uvicorn

    if kind == "hub":
        from hub.api import create_app
        from hub.context import Hub
        from hub.settings import load_settings

        app: Any = create_app(Hub.from_settings(load_settings()), run_syncs=False)
    else:
        from litestar import Litestar, Response, get

        saved = json.loads(Path(page_file or "").read_text())
        page, headers = saved["body"], saved["headers"]

        @get(PATH, sync_to_thread=False, signature_namespace={"Response": Response, "Any": Any})
        def users() -> Response[Any]:
            return Response(page, headers=headers)  # encoded on every request, like the hub's page

        app = Litestar([users], logging_config=None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _drive(url: str, token: str | None, requests: int, concurrency: int, warmup: int) -> dict[str, float]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as http:
        async def run(count: int, latencies: list[float]) -> None:
            remaining = [count]

            async def worker() -> None:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    t = time.perf_counter()
                    res = await http.get(url, params={"limit": 100})
                    latencies.append(time.perf_counter() - t)
                    if res.status_code != 200:
                        raise SystemExit(f"{url}: HTTP {res.status_code}: {res.text[:300]}")

            await asyncio.gather(*(worker() for _ in range(concurrency)))

        await run(warmup, [])
        latencies: list[float] = []
        started = time.perf_counter()
        await run(requests, latencies)
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None, help="default: SQLite in bench/out/api-data")
    parser.add_argument("--data-dir", default=str(OUT / "api-data"))
    parser.add_argument("--serve", choices=("hub", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--page-file", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.serve:
        _serve(opts.serve, opts.port, opts.page_file)
        return

    data = Path(opts.data_dir).resolve()
    env = _env(data, opts.database_url)
    token = asyncio.run(_prepare(opts.users, opts.seed, env))

    import httpx

    hub_port, bare_port = _free_port(), _free_port()
    hub_proc = _start("hub", hub_port, env)
    bare_proc = None
    try:
        first = httpx.get(f"http://127.0.0.1:{hub_port}{PATH}", params={"limit": 100},
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)
        first.raise_for_status()
        page_file = data / "bench-page.json"
        page_file.write_text(json.dumps({"body": first.json(), "headers": {
            "X-Total-Count": first.headers["X-Total-Count"], "Link": first.headers["Link"]}}))
        bare_proc = _start("bare", bare_port, env, page_file)
        results = {}
        results["hub"] = asyncio.run(_drive(f"http://127.0.0.1:{hub_port}{PATH}", token, opts.requests,
                                            opts.concurrency, opts.warmup))
        results["bare"] = asyncio.run(_drive(f"http://127.0.0.1:{bare_port}{PATH}", None, opts.requests,
                                             opts.concurrency, opts.warmup))
    finally:
        for proc in (hub_proc, bare_proc):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)

    hub, bare = results["hub"], results["bare"]
    summary = {
        "users": int(first.headers["X-Total-Count"]),
        "page_bytes": len(first.content),
        "concurrency": opts.concurrency,
        "database": "postgresql" if opts.database_url and "postgresql" in opts.database_url else "sqlite",
        "hub": hub,
        "bare": bare,
        "rps_ratio_hub_over_bare": hub["rps"] / bare["rps"],
        "p50_ratio_hub_over_bare": hub["p50_ms"] / bare["p50_ms"],
        "p99_ratio_hub_over_bare": hub["p99_ms"] / bare["p99_ms"],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "api_bench.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nGET {PATH}?limit=100, {summary['users']} users ({summary['database']}), "
          f"{opts.requests} requests, {opts.concurrency} connections, page {summary['page_bytes']} bytes\n")
    print("| server | req/s | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |")
    for name in ("hub", "bare"):
        r = results[name]
        print(f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    print(f"| hub / bare | {summary['rps_ratio_hub_over_bare']:.2f} | {summary['p50_ratio_hub_over_bare']:.2f} "
          f"| {summary['p99_ratio_hub_over_bare']:.2f} |")


if __name__ == "__main__":
    main()
