"""The HTTP API of webhooks, the WebSocket change stream and the CLI, against a real server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from webhook_support import FAST_ENV, ApiServer, append_changes, make_client, start_api


def _with_hub(func: Any) -> Any:
    async def main() -> Any:
        from hub.context import Hub
        from hub.settings import load_settings

        hub = Hub.from_settings(load_settings())
        try:
            return await func(hub)
        finally:
            await hub.close()

    return asyncio.run(main())


@pytest.fixture
def api(hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ApiServer, dict[str, str]]]:
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    creds = {
        "admin": asyncio.run(make_client("alpha", "admin")),
        "reader": asyncio.run(make_client("alpha", "reader")),
        "other": asyncio.run(make_client("beta", "admin")),
    }
    server = start_api()
    try:
        yield server, {who: server.token(*c) for who, c in creds.items()}
    finally:
        server.stop()


def test_subscription_lifecycle_over_http(api: tuple[ApiServer, dict[str, str]]) -> None:
    server, tokens = api
    with server.http(tokens["admin"]) as http, server.http(tokens["reader"]) as reader, \
            server.http(tokens["other"]) as other:
        resp = http.post("/api/v1/webhooks/subscriptions/",
                         json={"url": "http://127.0.0.1:9/hook", "event_types": ["person.*", "sync.run.finished"]})
        assert resp.status_code == 201, resp.text
        sub = resp.json()
        assert sub["secret"].startswith("whsec_") and sub["enabled"] and sub["event_types"] == ["person.*", "sync.run.finished"]
        sid = sub["id"]
        assert [s["id"] for s in reader.get("/api/v1/webhooks/subscriptions/").json()] == [sid]
        assert "secret" not in reader.get(f"/api/v1/webhooks/subscriptions/{sid}").json()
        assert reader.get(f"/api/v1/webhooks/subscriptions/{sid}/secret").status_code == 403
        assert reader.post("/api/v1/webhooks/subscriptions/", json={"url": "http://127.0.0.1:9/", "event_types": ["*"]}
                           ).status_code == 403
        assert other.get(f"/api/v1/webhooks/subscriptions/{sid}").status_code == 404  # tenant isolation
        assert http.get(f"/api/v1/webhooks/subscriptions/{sid}/secret").json()["secret"] == sub["secret"]

        rotated = http.post(f"/api/v1/webhooks/subscriptions/{sid}/rotate", json={"overlap_seconds": 60}).json()
        assert rotated["secret"] != sub["secret"] and rotated["previous_secret_until"]
        both = http.get(f"/api/v1/webhooks/subscriptions/{sid}/secret").json()
        assert both == {"secret": rotated["secret"], "previous_secret": sub["secret"]}

        patched = http.patch(f"/api/v1/webhooks/subscriptions/{sid}", json={"entity_types": ["User"]}).json()
        assert patched["entity_types"] == ["User"] and patched["event_types"] == ["person.*", "sync.run.finished"]
        assert http.post(f"/api/v1/webhooks/subscriptions/{sid}/disable").json()["enabled"] is False
        assert http.post(f"/api/v1/webhooks/subscriptions/{sid}/enable", json={}).json()["enabled"] is True

        bad = http.post("/api/v1/webhooks/subscriptions/", json={"url": "http://10.1.2.3/x", "event_types": ["*"]})
        assert bad.status_code == 422 and "private" in bad.json()["detail"]
        bad = http.post("/api/v1/webhooks/subscriptions/", json={"url": "ftp://example.org/", "event_types": ["*"]})
        assert bad.status_code == 422
        bad = http.post("/api/v1/webhooks/subscriptions/", json={"url": "http://127.0.0.1/", "event_types": ["a b"]})
        assert bad.status_code == 422

        async def queue(hub: Any) -> None:
            tenant = await hub.store.get_tenant("alpha")
            await append_changes(hub, tenant.id, 3)
            from hub.webhooks import Dispatcher

            await Dispatcher(hub.db, hub.settings.webhooks).dispatch_all()

        _with_hub(queue)
        page = reader.get(f"/api/v1/webhooks/subscriptions/{sid}/deliveries", params={"status": "pending"}).json()
        assert page["total"] == 3 and [d["seq"] for d in page["items"]] == [3, 2, 1]
        one = reader.get(f"/api/v1/webhooks/deliveries/{page['items'][0]['id']}").json()
        assert json.loads(one["body"])["type"] == "person.created" and one["attempt_log"] == []
        assert one["webhook_id"] == page["items"][0]["webhook_id"]
        again = http.post(f"/api/v1/webhooks/deliveries/{one['id']}/replay")
        assert again.status_code == 202 and again.json()["replay_of"] == one["id"]
        assert http.post(f"/api/v1/webhooks/subscriptions/{sid}/replay", json={"after_seq": 1}).json() == {"queued": 2}
        assert other.get(f"/api/v1/webhooks/deliveries/{one['id']}").status_code == 404
        assert http.delete(f"/api/v1/webhooks/subscriptions/{sid}").status_code == 204
        assert http.get(f"/api/v1/webhooks/subscriptions/{sid}").status_code == 404


def test_websocket_stream_is_live_and_resumable(api: tuple[ApiServer, dict[str, str]]) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    server, tokens = api
    ws_url = server.base_url.replace("http://", "ws://") + "/api/v1/stream"

    async def add(hub: Any, count: int = 3, start: int = 0) -> None:
        await append_changes(hub, (await hub.store.get_tenant("alpha")).id, count, start=start)

    _with_hub(add)  # seq 1..3 exist before anyone connects
    with connect(f"{ws_url}?after=1", additional_headers={"Authorization": f"Bearer {tokens['reader']}"}) as ws:
        got = [json.loads(ws.recv(timeout=10)) for _ in range(2)]
        assert [m["seq"] for m in got] == [2, 3]
        assert got[0]["type"] == "person.created" and got[0]["data"]["record"]["sourcedId"] == "id-1"
        _with_hub(lambda hub: add(hub, 2, 10))  # live
        assert [json.loads(ws.recv(timeout=10))["seq"] for _ in range(2)] == [4, 5]
    # browsers: the token as a query parameter; without ``after``, only new changes
    with connect(f"{ws_url}?access_token={tokens['reader']}") as ws:
        _with_hub(lambda hub: add(hub, 1, 20))
        assert json.loads(ws.recv(timeout=10))["seq"] == 6
    # another tenant sees none of it
    with connect(f"{ws_url}?after=0", additional_headers={"Authorization": f"Bearer {tokens['other']}"}) as ws:
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
    for url in (ws_url, f"{ws_url}?access_token=nonsense"):
        with connect(url) as ws:
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=10)
            assert info.value.rcvd is not None and info.value.rcvd.code == 4401


def test_cli_commands(hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from hub.cli._webhooks import webhooks_app

    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    asyncio.run(make_client("default", "admin"))  # migrates, creates the tenant
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(webhooks_app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    out = run("create", "http://127.0.0.1:9/hook", "--event", "person.*", "--event", "sync.*")
    assert "whsec_" in out and "id: 1" in out
    assert "http://127.0.0.1:9/hook" in run("list")
    assert "person.*" in run("show", "1")
    assert "whsec_" in run("rotate", "1", "--overlap", "0")
    assert "disabled" in run("disable", "1")
    assert "enabled" in run("enable", "1")

    async def queue(hub: Any) -> None:
        await append_changes(hub, (await hub.store.get_tenant("default")).id, 2)
        from hub.webhooks import Dispatcher

        await Dispatcher(hub.db, hub.settings.webhooks).dispatch_all()

    _with_hub(queue)
    assert "msg_t1_s2" in run("deliveries", "1")
    assert "queued 1" in run("replay", "1", "--after", "1")
    assert "queued 1" in run("replay", "--delivery", "1")
    bad = runner.invoke(webhooks_app, ["create", "http://192.168.1.1/x", "--event", "*"])
    assert bad.exit_code == 1 and "private" in bad.output
