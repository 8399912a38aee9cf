"""Two hubs on loopback: B follows A's roster actor, A's admin approves, A delivers, B ingests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


async def _import_bundle(hub: Any, tenant: str, path: Path) -> dict[str, int]:
    from connectors.oneroster_csv import OneRosterCsvConfig
    from hub.sync import SyncEngine

    store = await hub.store.tenant(tenant)
    await store.add_source("sis", "oneroster_csv", OneRosterCsvConfig(path=str(path)))
    await SyncEngine(hub).sync(store, "sis")
    return {t: await store.count_entities(t) for t in ("Org", "Course", "Class", "User", "Enrollment")}


async def _counts(hub: Any, tenant: str) -> dict[str, int]:
    store = await hub.store.tenant(tenant)
    return {t: await store.count_entities(t, status="active") for t in ("Org", "Course", "Class", "User", "Enrollment")}


def test_two_hubs_follow_approve_deliver_ingest(start_hub: Any, tmp_path: Path) -> None:
    from hub.demo import generate_bundle

    a = start_hub("a", "alpha")
    b = start_hub("b", "beta")
    generate_bundle(tmp_path / "bundle", users=20, seed=3)
    sent = a.run(lambda hub: _import_bundle(hub, "alpha", tmp_path / "bundle"))
    assert sent["User"] > 0 and sent["Course"] > 0

    host = a.base_url.removeprefix("http://")
    # WebFinger round trip as Mastodon does it: acct -> actor -> preferredUsername@host -> same actor
    with a.http() as http:
        jrd = http.get("/.well-known/webfinger", params={"resource": f"acct:alpha.roster@{host}"})
        assert jrd.status_code == 200 and jrd.headers["content-type"].startswith("application/jrd+json")
        actor_url = next(link["href"] for link in jrd.json()["links"] if link["rel"] == "self")
        unsigned = http.get(actor_url.removeprefix(a.base_url), headers={"Accept": "application/activity+json"})
        assert unsigned.status_code == 401  # personal data: signed fetches only

    with b.admin() as admin:
        resp = admin.post("/api/v1/federation/following", json={"actor": f"alpha.roster@{host}", "source": "alpha"})
        assert resp.status_code == 201, resp.text
        assert resp.json()["state"] == "pending"
    assert b.work()["delivered"] == 1  # the Follow

    with a.admin() as admin:
        pending = admin.get("/api/v1/federation/followers", params={"state": "pending"}).json()
        assert [p["follower"] for p in pending] == [f"{b.base_url}/ap/actors/beta"]
        assert a.work()["published"] == 0  # nothing goes to a follower that is not approved
        refused = admin.post(f"/api/v1/federation/followers/{pending[0]['id']}/approve", json={"scopes": ["nope"]})
        assert refused.status_code == 400 and "scopes" in refused.text, refused.text
        resp = admin.post(f"/api/v1/federation/followers/{pending[0]['id']}/approve")
        assert resp.status_code == 200 and resp.json()["state"] == "accepted"
        # no scope given: roster-core, the one scope rule keeps Demographics home (roster-demographics.readonly)
        assert resp.json()["scopes"] == ["https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"]
    rounds = a.work()  # the Accept, then the backfill of the roster as it is
    assert rounds["delivered"] > sum(sent.values())

    with b.admin() as admin:
        assert admin.get("/api/v1/federation/following").json()[0]["state"] == "accepted"
    assert b.work()["synced"] == 1
    got = b.run(lambda hub: _counts(hub, "beta"))
    assert got == sent

    async def demographics(hub: Any, tenant: str) -> int:
        return await (await hub.store.tenant(tenant)).count_entities("Demographics")

    assert a.run(lambda hub: demographics(hub, "alpha")) > 0
    assert b.run(lambda hub: demographics(hub, "beta")) == 0, "demographics need roster-demographics.readonly"

    # a deletion upstream reaches the follower as Delete and ends as tobedeleted
    async def delete_course(hub: Any) -> str:
        from sqlalchemy import select

        from hub.store._tables import changes

        store = await hub.store.tenant("alpha")
        course = (await store.list_entities("Course", limit=1))[0]
        async with hub.db.connect() as conn:
            seq = (await conn.execute(select(changes.c.seq).order_by(changes.c.seq.desc()).limit(1))).scalar_one()
        async with hub.db.begin() as conn:
            from datetime import UTC, datetime

            from hub.store._tables import entities, tenants

            await conn.execute(entities.update().where(entities.c.id == course.id).values(status="tobedeleted"))
            await conn.execute(changes.insert().values(
                tenant_id=store.tenant_id, seq=seq + 1, entity_type="Course", stable_id=course.stable_id, op="deleted",
                version=course.version + 1, data=dict(course.data), at=datetime.now(UTC)))
            await conn.execute(tenants.update().where(tenants.c.id == store.tenant_id).values(change_seq=seq + 1))
        return course.stable_id

    gone = a.run(delete_course)
    assert a.work()["delivered"] == 1
    b.work()

    async def status(hub: Any) -> str:
        return (await (await hub.store.tenant("beta")).get_entity("Course", gone)).status

    assert b.run(status) == "tobedeleted"


def test_public_actor_mastodon_view(start_hub: Any, tmp_path: Path) -> None:
    """The public org actor: JSON-LD for both media types, NodeInfo, a paged outbox with Notes, no personal data."""
    from hub.demo import generate_bundle

    a = start_hub("a", "alpha")
    generate_bundle(tmp_path / "bundle", users=10, seed=5)
    a.run(lambda hub: _import_bundle(hub, "alpha", tmp_path / "bundle"))
    with a.http() as http:
        for accept in ("application/activity+json", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'):
            resp = http.get("/ap/actors/alpha", headers={"Accept": accept})
            assert resp.status_code == 200
            assert resp.headers["content-type"].split(";")[0] == accept.split(";")[0]
        actor = resp.json()
        assert actor["type"] == "Organization" and actor["preferredUsername"] == "alpha"
        assert actor["@context"][:2] == ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
        assert actor["manuallyApprovesFollowers"] is False
        assert actor["publicKey"]["owner"] == actor["id"] and "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
        assert actor["endpoints"]["sharedInbox"] == f"{a.base_url}/ap/inbox"
        roster_unsigned = http.get("/ap/actors/alpha.roster/outbox?page=true")
        assert roster_unsigned.status_code == 401
        links = http.get("/.well-known/nodeinfo").json()["links"]
        info = http.get(links[0]["href"].removeprefix(a.base_url)).json()
        assert info["version"] == "2.1" and info["protocols"] == ["activitypub"]
        outbox = http.get("/ap/actors/alpha/outbox").json()
        assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] > 0
        page = http.get(outbox["first"].removeprefix(a.base_url)).json()
        assert page["type"] == "OrderedCollectionPage" and "next" in page
        items = page["orderedItems"]
        notes = [i for i in items if i["object"]["type"] == "Note"]
        assert notes and all("https://www.w3.org/ns/activitystreams#Public" in n["to"] for n in notes)
        assert {i["object"].get("fediflowType") for i in items if i["object"]["type"] == "Document"} <= {
            "Org", "AcademicSession", "Course", "Class"}
        acct = f"acct:alpha@{a.base_url.removeprefix('http://')}"
        assert http.get("/.well-known/webfinger", params={"resource": acct}).json()["subject"] == acct
        assert http.get("/.well-known/webfinger", params={"resource": "acct:alpha@elsewhere.example"}).status_code == 404
