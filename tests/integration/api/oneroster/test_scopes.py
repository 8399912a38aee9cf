"""One scope rule for every way out of the hub (hub.auth.may_read), through the real app.

OneRoster 1.2: ``roster.readonly`` and ``roster-core.readonly`` give every rostering type except
demographics; ``roster-demographics.readonly`` gives demographics. The same rule holds for the
OneRoster API, the changes feed, the entities API and the WebSocket stream. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from hub.auth import (
    ROSTER_CORE_READONLY,
    ROSTER_DEMOGRAPHICS_READONLY,
    ROSTER_READONLY,
    may_read,
    readable_types,
)

#: the change log of the test: (entity type, stable id), appended in this order (seq 1, 2, ...)
CHANGES = [("User", "u1"), ("Demographics", "u1"), ("Org", "s1"), ("Demographics", "u3"), ("User", "u2")]


async def _append_changes(hub: Any) -> None:
    """Change-log rows written the way the store writes them (sequence bumped on the tenant row)."""
    from hub.store._tables import changes, tenants

    tenant = await hub.store.tenant("default")
    async with hub.db.begin() as conn:
        last = (await conn.execute(
            update(tenants).where(tenants.c.id == tenant.tenant_id)
            .values(change_seq=tenants.c.change_seq + len(CHANGES)).returning(tenants.c.change_seq))).scalar_one()
        first = last - len(CHANGES) + 1
        await conn.execute(changes.insert(), [
            {"tenant_id": tenant.tenant_id, "seq": first + i, "entity_type": t, "stable_id": sid, "op": "created",
             "version": 1, "source_id": None, "run_id": None, "data": {"sourcedId": sid}, "at": datetime.now(UTC)}
            for i, (t, sid) in enumerate(CHANGES)])


def test_the_rule() -> None:
    assert not may_read({ROSTER_READONLY}, "Demographics") and may_read({ROSTER_READONLY}, "User")
    assert not may_read({ROSTER_CORE_READONLY}, "Demographics") and may_read({ROSTER_CORE_READONLY}, "Enrollment")
    assert may_read({ROSTER_DEMOGRAPHICS_READONLY}, "Demographics")
    assert not may_read({ROSTER_DEMOGRAPHICS_READONLY}, "User")
    assert may_read(set(), "LibraryRecord")  # no OneRoster scope speaks of it
    assert readable_types({ROSTER_READONLY, ROSTER_DEMOGRAPHICS_READONLY}, ["User", "Demographics"]) is None
    assert readable_types({ROSTER_READONLY}, ["User", "Demographics"]) == ["User"]
    assert readable_types({ROSTER_READONLY}, ["User", "Demographics"], ["Demographics"]) == []


async def test_oneroster_endpoints(api: Any) -> None:
    async with api.client("roster") as http:
        assert (await http.get("/users")).status_code == 200
        assert (await http.get("/classes/k1/students")).status_code == 200
        for path in ("/demographics", "/demographics/u1"):
            res = await http.get(path)
            assert res.status_code == 403, (path, res.text)
            assert res.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "forbidden"
    async with api.client("demo") as http:
        assert (await http.get("/demographics")).status_code == 200
        assert (await http.get("/users")).status_code == 403


async def test_changes_feed_leaves_out_what_the_scopes_do_not_cover(hub: Any, api: Any) -> None:
    await _append_changes(hub)
    seen: dict[str, list[tuple[str, str]]] = {}
    for who in ("admin", "core", "roster", "demo"):
        async with api.management(who) as http:
            res = await http.get("/changes", params={"after": 0})
            assert res.status_code == 200, (who, res.text)
            seen[who] = [(c["type"], c["id"]) for c in res.json()["items"]]
            asked = await http.get("/changes", params={"after": 0, "types": "Demographics"})
            assert asked.status_code == 200
            if who in ("core", "roster"):
                assert asked.json()["items"] == [] and asked.json()["next"] == 0
    assert seen["admin"] == CHANGES
    assert seen["core"] == seen["roster"] == [c for c in CHANGES if c[0] != "Demographics"]
    assert seen["demo"] == [c for c in CHANGES if c[0] == "Demographics"]


async def test_entities_of_a_type_the_scopes_do_not_cover_are_403(api: Any) -> None:
    async with api.management("core") as http:
        assert (await http.get("/entities/User")).status_code == 200
        for path in ("/entities/Demographics", "/entities/Demographics/u1"):
            res = await http.get(path)
            assert res.status_code == 403, (path, res.text)
            assert res.headers["content-type"].startswith("application/problem+json")
    async with api.management("admin") as http:
        assert (await http.get("/entities/Demographics/u1")).status_code == 200


async def test_websocket_stream_leaves_out_what_the_scopes_do_not_cover(hub: Any, api: Any) -> None:
    from websockets.asyncio.client import connect

    await _append_changes(hub)
    url = api.server.base.replace("http://", "ws://") + "/api/v1/stream?after=0"
    expected = {
        "core": [c for c in CHANGES if c[0] != "Demographics"],
        "demo": [c for c in CHANGES if c[0] == "Demographics"],
        "admin": CHANGES,
    }
    for who, wanted in expected.items():
        async with connect(url, additional_headers={"Authorization": f"Bearer {api.tokens[who]}"}) as ws:
            got = [json.loads(await ws.recv()) for _ in wanted]  # in sequence order: a leak would show here
        assert [(m["data"]["entity_type"], m["data"]["stable_id"]) for m in got] == wanted, who


async def test_webhook_subscriptions_only_deliver_what_their_client_may_read(api: Any) -> None:
    url = "https://hooks.example.org/fediflow"
    async with api.management("demo") as http:  # integrator holding roster-demographics.readonly only
        res = await http.post("/webhooks/subscriptions/", json={"url": url, "event_types": ["*"]})
        assert res.status_code == 403, res.text
        res = await http.post("/webhooks/subscriptions/", json={"url": url, "event_types": ["*"],
                                                                "entity_types": ["User", "Demographics"]})
        assert res.status_code == 403, res.text
        res = await http.post("/webhooks/subscriptions/", json={"url": url, "event_types": ["*"],
                                                                "entity_types": ["Demographics"]})
        assert res.status_code == 201, res.text
    async with api.management("admin") as http:
        everything = await http.post("/webhooks/subscriptions/", json={"url": url, "event_types": ["*"]})
        assert everything.status_code == 201, everything.text
    async with api.management("demo") as http:  # nor may it point another's subscription elsewhere
        res = await http.patch(f"/webhooks/subscriptions/{everything.json()['id']}", json={"url": url + "/mine"})
        assert res.status_code == 403, res.text


async def test_webhook_delivery_bodies_follow_the_rule(hub: Any, api: Any) -> None:
    from hub.webhooks import Dispatcher

    async with api.management("admin") as http:
        sub = await http.post("/webhooks/subscriptions/", json={"url": "https://hooks.example.org/all",
                                                                "event_types": ["*"]})
        assert sub.status_code == 201, sub.text
    await _append_changes(hub)
    await Dispatcher(hub.db, hub.settings.webhooks).dispatch_all()
    async with api.management("core") as http:
        page = (await http.get(f"/webhooks/subscriptions/{sub.json()['id']}/deliveries", params={"limit": 100})).json()
        assert len(page["items"]) == len(CHANGES)
        seen = {}
        for item in page["items"]:
            res = await http.get(f"/webhooks/deliveries/{item['id']}")
            seen[item["seq"]] = res.status_code
    assert [seen[seq] for seq in sorted(seen)] == [403 if t == "Demographics" else 200 for t, _ in CHANGES]
