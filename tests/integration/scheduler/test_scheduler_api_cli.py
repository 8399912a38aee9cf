"""Schedules, safeguards and held runs through the REST API and the CLI."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.testing import AsyncTestClient
from scheduler_support import FAST, add_source, point_source
from typer.testing import CliRunner

from hub.sync import SyncEngine
from scheduler import Worker


async def _client(hub: Any, app: Any, role: str = "admin") -> dict[str, str]:
    from hub.auth import client_service

    client, secret = await client_service(hub).create("default", role, name=f"t-{role}")
    async with AsyncTestClient(app) as http:
        resp = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                               auth=(client.client_id, secret))
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


async def test_api_schedules_safeguards_and_held_runs(hub: Any, roster: dict[str, Any]) -> None:
    from hub.api import create_app
    from hub.context import Hub
    from hub.settings import load_settings

    store = await add_source(hub, "sis", roster["base"])
    await SyncEngine(hub).sync(store, "sis")
    app = create_app(Hub.from_settings(load_settings()), run_syncs=False)  # its own pool: it runs on another loop
    auth, reader = await _client(hub, app), await _client(hub, app, "reader")
    async with AsyncTestClient(app) as http:
        made = await http.post("/api/v1/schedules", json={"source": "sis", "cron": "0 3 * * *"}, headers=auth)
        assert made.status_code == 201, made.text
        assert (await http.post("/api/v1/schedules", json={"source": "sis"}, headers=auth)).status_code == 400
        assert (await http.post("/api/v1/schedules", json={"source": "sis", "interval_seconds": 60},
                                headers=reader)).status_code == 403
        listed = (await http.get("/api/v1/schedules", headers=reader)).json()
        assert [s["cron"] for s in listed] == ["0 3 * * *"]
        assert listed[0]["next_run_at"].endswith(("T03:00:00Z", "T03:00:00+00:00"))
        sid = made.json()["id"]
        disabled = (await http.patch(f"/api/v1/schedules/{sid}", json={"enabled": False}, headers=auth)).json()
        assert disabled["enabled"] is False and disabled["next_run_at"] is None
        assert (await http.delete(f"/api/v1/schedules/{sid}", headers=auth)).status_code == 204

        put = await http.put("/api/v1/sources/sis/safeguards", json={"max_delete_pct": 10}, headers=auth)
        assert put.status_code == 200 and put.json()["active"] is True
        await point_source(store, hub, "sis", roster["purged"])
        run = await store.create_run(await store.get_source("sis"))
        await Worker(hub, FAST).run_until_idle()
        held = (await http.get("/api/v1/runs/held", headers=reader)).json()
        assert [h["run_id"] for h in held] == [run.id] and held[0]["reasons"]
        assert (await http.get(f"/api/v1/runs/{run.id}/hold", headers=reader)).json()["diff"]["streams"]["users"]
        approved = await http.post(f"/api/v1/runs/{run.id}/approve", headers=auth)
        assert approved.status_code == 200 and approved.json()["status"] == "queued"
        again = await http.post(f"/api/v1/runs/{run.id}/discard", headers=auth)
        assert again.status_code == 409
        await Worker(hub, FAST).run_until_idle()
        assert (await http.get(f"/api/v1/runs/{run.id}", headers=reader)).json()["status"] == "succeeded"


def test_cli_schedules_safeguards_approve_and_purge(hub_env: dict[str, str], roster: dict[str, Any]) -> None:
    from hub.cli import build_app
    from hub.context import Hub
    from hub.settings import load_settings

    async def setup() -> None:
        hub = Hub.from_settings(load_settings())
        if hub.db.is_sqlite:
            await hub.db.migrate()
        await hub.store.ensure_tenant("default")
        store = await add_source(hub, "sis", roster["base"])
        await SyncEngine(hub).sync(store, "sis")
        await point_source(store, hub, "sis", roster["purged"])
        await hub.close()

    asyncio.run(setup())
    app, runner = build_app(), CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    assert "schedule 1" in cli("schedules", "add", "sis", "--every", "3600")
    assert "every 3600s" in cli("schedules", "list")
    cli("schedules", "remove", "1")
    cli("safeguards", "set", "sis", "--max-delete-pct", "50", "--type", "User:delete=10")
    assert '"max_delete_pct": 10.0' in cli("safeguards", "show", "sis")

    async def queue_and_work() -> int:
        hub = Hub.from_settings(load_settings())
        store = await hub.store.tenant("default")
        run = await store.create_run(await store.get_source("sis"))
        await Worker(hub, FAST).run_until_idle()
        await hub.close()
        return run.id

    run_id = asyncio.run(queue_and_work())
    assert "User:" in cli("runs", "held")
    assert "succeeded" in cli("runs", "approve", str(run_id), "--now")
    cli("purge", "sis", "--type", "User", "--yes", code=1)  # --tobedeleted is required
    assert "purged" in cli("purge", "sis", "--type", "User", "--tobedeleted", "--yes")
    assert str(run_id) in cli("runs", "list")
