"""Conformance of what the hub serves (issue 12, item 7), through the real app on loopback.

Every id the hub mints dereferences, with the rules of the object it names; a signed stranger cannot
tell an existing personal object from an unknown one; the outbox pages hold ``federation.page_size``
items and ``totalItems`` counts exactly the items a client can page through; every WebFinger link
serves the media type it announces.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_federation_signatures import _key
from test_federation_two_hubs import _import_bundle

pytestmark = pytest.mark.slow

AP = "application/activity+json"


def _walk_outbox(http: httpx.Client, base: str, path: str, headers: dict[str, str] | None = None,
                 ) -> tuple[dict[str, Any], list[list[dict[str, Any]]]]:
    outbox = http.get(path, headers={"Accept": AP, **(headers or {})})
    assert outbox.status_code == 200, outbox.text
    collection = outbox.json()
    pages: list[list[dict[str, Any]]] = []
    url: str | None = collection["first"]
    while url:
        resp = http.get(url.removeprefix(base), headers={"Accept": AP, **(headers or {})})
        assert resp.status_code == 200, resp.text
        page = resp.json()
        assert page["type"] == "OrderedCollectionPage" and page["partOf"] == collection["id"]
        pages.append(page["orderedItems"])
        url = page.get("next")
        assert len(pages) < 100
    return collection, pages


def _signed_get(http: httpx.Client, url: str, key: tuple[str, str]) -> httpx.Response:
    from hub.federation import sign_request

    headers = sign_request("GET", url, None, key_id=key[0], private_key_pem=key[1])
    return http.get(url, headers={**headers, "Accept": AP})


def _without_request_id(resp: httpx.Response) -> tuple[int, str, str]:
    """Status, media type and body of an answer, less what differs on every request (id, path)."""
    body = {k: v for k, v in resp.json().items() if k not in ("request_id", "instance")}
    return resp.status_code, resp.headers["content-type"], json.dumps(body, sort_keys=True)


def test_public_outbox_pages_and_every_minted_id_dereferences(start_hub: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.demo import generate_bundle

    # an odd page size: a new record is two activities (its Create, the Create of its Note), so some
    # pages end between the two and the next page must start with the second one
    monkeypatch.setenv("FEDIFLOW_FEDERATION__PAGE_SIZE", "7")
    a = start_hub("a", "alpha")
    generate_bundle(tmp_path / "bundle", users=10, seed=5)
    a.run(lambda hub: _import_bundle(hub, "alpha", tmp_path / "bundle"))
    size = a.settings.federation.page_size
    assert size == 7
    with a.http() as http:
        collection, pages = _walk_outbox(http, a.base_url, "/ap/actors/alpha/outbox")
        items = [item for page in pages for item in page]
        assert len(pages) > 2
        assert all(len(page) == size for page in pages[:-1]) and 0 < len(pages[-1]) <= size
        assert any(page[-1]["id"].endswith("/note") for page in pages[:-1])  # a change split across pages
        assert collection["totalItems"] == len(items)
        assert len({item["id"] for item in items}) == len(items)
        assert any(item["object"]["type"] == "Note" for item in items)

        for item in items:
            resp = http.get(item["id"].removeprefix(a.base_url), headers={"Accept": AP})
            assert resp.status_code == 200, (item["id"], resp.text)
            assert resp.headers["content-type"].startswith(AP)
            assert resp.json() == item  # the activity as the outbox lists it
            obj = item["object"]
            resp = http.get(obj["id"].removeprefix(a.base_url), headers={"Accept": AP})
            assert resp.status_code == 200, (obj["id"], resp.text)
            got = resp.json()
            assert got["id"] == obj["id"] and got["type"] == obj["type"]
            if obj["type"] == "Note":
                assert got == {"@context": item["@context"], **obj}

        # ids the hub never minted are unknown, under this actor or another one
        seq = max(int(item["id"].split("/activities/")[1].split("/")[0]) for item in items)
        for path in (f"/ap/actors/alpha/activities/{seq + 1}", f"/ap/actors/alpha/notes/{seq + 1}",
                     f"/ap/actors/alpha/activities/{seq + 1}/note", "/ap/actors/nobody/activities/1",
                     "/ap/actors/alpha.library/activities/1"):
            assert http.get(path, headers={"Accept": AP}).status_code == 404, path


def test_course_actor_outbox_lists_what_it_publishes(start_hub: Any, tmp_path: Path) -> None:
    """A course actor publishes the course and its classes: its outbox lists exactly those, and they dereference."""
    from hub.demo import generate_bundle

    a = start_hub("a", "alpha")
    generate_bundle(tmp_path / "bundle", users=10, seed=5)
    a.run(lambda hub: _import_bundle(hub, "alpha", tmp_path / "bundle"))

    async def course_with_classes(hub: Any) -> tuple[str, set[str]]:
        store = await hub.store.tenant("alpha")
        classes = await store.list_entities("Class", limit=1000)
        course = classes[0].data["course"]["sourcedId"]
        return course, {c.stable_id for c in classes if c.data["course"]["sourcedId"] == course}

    course, classes = a.run(course_with_classes)
    with a.http() as http:
        collection, pages = _walk_outbox(http, a.base_url, f"/ap/actors/alpha.course.{course}/outbox")
        items = [item for page in pages for item in page]
        assert collection["totalItems"] == len(items)
        documents = [i["object"] for i in items if i["object"]["type"] == "Document"]
        assert {(d["fediflowType"], d["oneRoster"]["sourcedId"]) for d in documents} == {
            ("Course", course), *(("Class", c) for c in classes)}
        for item in items:
            resp = http.get(item["id"].removeprefix(a.base_url), headers={"Accept": AP})
            assert resp.status_code == 200 and resp.json() == item, item["id"]


def test_personal_ids_unknown_and_forbidden_are_indistinguishable(start_hub: Any, tmp_path: Path) -> None:
    from hub.demo import generate_bundle

    a = start_hub("a", "alpha")
    b = start_hub("b", "beta")
    generate_bundle(tmp_path / "bundle", users=5, seed=3)
    a.run(lambda hub: _import_bundle(hub, "alpha", tmp_path / "bundle"))
    key = _key(b, "beta")

    async def first_user(hub: Any) -> str:
        return (await (await hub.store.tenant("alpha")).list_entities("User", limit=1))[0].stable_id

    user = a.run(first_user)
    roster = f"{a.base_url}/ap/actors/alpha.roster"
    existing = [f"{a.base_url}/ap/objects/alpha/User/{user}", f"{roster}/activities/1"]
    unknown = [f"{a.base_url}/ap/objects/alpha/User/no-such-user", f"{roster}/activities/99999",
               f"{a.base_url}/ap/objects/nosuchtenant/User/{user}", f"{a.base_url}/ap/objects/alpha/Nothing/x"]
    with a.http() as http:
        assert http.get(existing[0], headers={"Accept": AP}).status_code == 401  # unsigned: sign first
        answers = {_without_request_id(_signed_get(http, url, key)) for url in existing + unknown}
        assert len(answers) == 1, answers  # a signed stranger learns nothing
        assert next(iter(answers))[0] == 404

    with b.admin() as admin:
        host = a.base_url.removeprefix("http://")
        assert admin.post("/api/v1/federation/following", json={"actor": f"alpha.roster@{host}"}).status_code == 201
    b.work()
    with a.admin() as admin:
        pending = admin.get("/api/v1/federation/followers", params={"state": "pending"}).json()
        with a.http() as http:  # pending is not approved
            assert {_without_request_id(_signed_get(http, url, key))[0] for url in existing} == {404}
        assert admin.post(f"/api/v1/federation/followers/{pending[0]['id']}/approve").status_code == 200

    async def minted(hub: Any) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from hub.store._tables import federation_deliveries

        async with hub.db.connect() as conn:
            return [row.activity for row in (await conn.execute(select(federation_deliveries))).all()]

    sent = a.run(minted)
    assert any("/backfills/" in act["id"] for act in sent)
    with a.http() as http:
        for url in existing:
            resp = _signed_get(http, url, key)
            assert resp.status_code == 200 and resp.json()["id"] == url, resp.text
        for activity in sent:  # the Accept (a fragment of the actor) and the backfill of the roster
            if "#" in activity["id"]:
                continue
            resp = _signed_get(http, activity["id"], key)
            assert resp.status_code == 200, (activity["id"], resp.text)
            assert resp.json() == activity
        # approved, yet still nothing for ids that were never minted
        assert {_without_request_id(_signed_get(http, url, key))[0] for url in unknown} == {404}
        backfill = next(act["id"] for act in sent if "/backfills/" in act["id"])
        run = backfill.rsplit("/", 2)[1]
        assert _signed_get(http, backfill.replace(f"/{run}/", f"/{'0' * len(run)}/"), key).status_code == 404
        assert _signed_get(http, f"{backfill.rsplit('/', 1)[0]}/999999", key).status_code == 404
        assert http.get(backfill.removeprefix(a.base_url), headers={"Accept": AP}).status_code == 401


def test_deleted_object_is_a_tombstone_gone(start_hub: Any, tmp_path: Path) -> None:
    from hub.demo import generate_bundle

    a = start_hub("a", "alpha")
    generate_bundle(tmp_path / "bundle", users=3, seed=4)
    a.run(lambda hub: _import_bundle(hub, "alpha", tmp_path / "bundle"))

    async def retire_course(hub: Any) -> str:
        from hub.store._tables import entities

        course = (await (await hub.store.tenant("alpha")).list_entities("Course", limit=1))[0]
        async with hub.db.begin() as conn:
            await conn.execute(entities.update().where(entities.c.id == course.id).values(status="tobedeleted"))
        return course.stable_id

    course = a.run(retire_course)
    with a.http() as http:
        resp = http.get(f"/ap/objects/alpha/Course/{course}", headers={"Accept": AP})
        assert resp.status_code == 410 and resp.json()["type"] == "Tombstone"


def test_webfinger_links_serve_the_type_they_announce(start_hub: Any) -> None:
    a = start_hub("a", "alpha")
    host = a.base_url.removeprefix("http://")
    with a.http() as http:
        for user in ("alpha", "alpha.library", "fediflow.instance"):
            jrd = http.get("/.well-known/webfinger", params={"resource": f"acct:{user}@{host}"}).json()
            assert any(link["rel"] == "self" and link["type"] == AP for link in jrd["links"])
            for link in jrd["links"]:
                if "href" not in link:
                    continue
                resp = http.get(link["href"].removeprefix(a.base_url), headers={"Accept": link.get("type", "*/*")})
                assert resp.status_code == 200, link
                if "type" in link:
                    assert resp.headers["content-type"].split(";")[0] == link["type"], link
