"""RFC 7644 conformance found missing by scim2-tester (issue 12, item 4): ``.search``, SCIM Error
bodies for every error under /scim/v2, revocation without a cache delay, and the SCIM source's own
rate limit (item 5). A real uvicorn server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from test_scim_server import GROUP, LIST, USER, scim_error

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _search(**fields: Any) -> dict[str, Any]:
    return {"schemas": [SEARCH], **fields}


def _seed(idp: httpx.Client) -> dict[str, str]:
    ids = {}
    for name, family in (("carol@x.org", "Young"), ("alice@x.org", "Zhou"), ("bob@x.org", "Adams")):
        resp = idp.post("Users", json={"schemas": [USER], "userName": name, "name": {"familyName": family},
                                       "emails": [{"value": f"home-{name}", "type": "home"},
                                                  {"value": name, "type": "work", "primary": True}]})
        assert resp.status_code == 201, resp.text
        ids[name] = resp.json()["id"]
    group = idp.post("Groups", json={"schemas": [GROUP], "displayName": "Staff",
                                     "members": [{"value": ids["bob@x.org"]}]})
    assert group.status_code == 201, group.text
    ids["Staff"] = group.json()["id"]
    return ids


def test_search_with_a_search_request_per_type_and_at_the_root(scim_server):
    srv = scim_server()
    with srv.scim("okta") as idp:
        ids = _seed(idp)
        found = idp.post("Users/.search", json=_search(filter='userName ew "@x.org"', sortBy="userName",
                                                        attributes=["userName"], startIndex=2, count=1))
        assert found.status_code == 200, found.text
        assert found.headers["content-type"].startswith("application/scim+json")
        body = found.json()
        assert body["schemas"] == [LIST] and body["totalResults"] == 3 and body["startIndex"] == 2
        assert body["itemsPerPage"] == 1 and body["Resources"][0]["userName"] == "bob@x.org"
        assert "name" not in body["Resources"][0] and body["Resources"][0]["id"] == ids["bob@x.org"]

        by_family = idp.post("Users/.search", json=_search(sortBy="name.familyName", sortOrder="descending"))
        assert [r["userName"] for r in by_family.json()["Resources"]] == ["alice@x.org", "carol@x.org", "bob@x.org"]
        by_email = idp.post("Users/.search", json=_search(sortBy="emails", excludedAttributes=["emails"]))
        assert [r["userName"] for r in by_email.json()["Resources"]] == ["alice@x.org", "bob@x.org", "carol@x.org"]
        assert all("emails" not in r for r in by_email.json()["Resources"])
        # GET takes the same sortBy / sortOrder
        listed = idp.get("Users", params={"sortBy": "userName", "sortOrder": "descending"}).json()
        assert [r["userName"] for r in listed["Resources"]] == ["carol@x.org", "bob@x.org", "alice@x.org"]

        groups = idp.post("Groups/.search", json=_search(filter='displayName eq "Staff"')).json()
        assert [g["id"] for g in groups["Resources"]] == [ids["Staff"]]

        everything = idp.post(".search", json=_search()).json()
        assert everything["totalResults"] == 4
        assert {r["meta"]["resourceType"] for r in everything["Resources"]} == {"User", "Group"}
        staff = idp.post(".search", json=_search(filter='displayName eq "Staff" or userName eq "bob@x.org"')).json()
        assert sorted(r["id"] for r in staff["Resources"]) == sorted([ids["Staff"], ids["bob@x.org"]])
        assert idp.get("ServiceProviderConfig").json()["sort"]["supported"] is True

        scim_error(idp.post("Users/.search", json={"filter": "userName pr"}), 400, "invalidSyntax")  # no schemas
        scim_error(idp.post("Users/.search", json=_search(filter="userName eq")), 400, "invalidFilter")
        scim_error(idp.post("Users/.search", json=_search(sortOrder="sideways")), 400, "invalidValue")
        scim_error(idp.post("Users/.search", json=_search(count="ten")), 400, "invalidValue")
        scim_error(idp.post("Users/.search", json=_search(surprise=1)), 400, "invalidSyntax")
        scim_error(idp.post("Users/.search", content=b"[1"), 400, "invalidSyntax")
        scim_error(idp.post("Widgets/.search", json=_search()), 404)


def test_every_error_under_scim_is_a_scim_error(scim_server, monkeypatch):
    monkeypatch.setenv("FEDIFLOW_API__REQUEST_MAX_BODY_BYTES", "4096")
    srv = scim_server()
    with srv.scim("okta") as idp:
        uid = idp.post("Users", json={"schemas": [USER], "userName": "a@x.org"}).json()["id"]
        for method, path in (("GET", f"Users/{uid}/extra"), ("GET", "Users/a/b/c/d"), ("DELETE", "Users/a/b/c")):
            scim_error(idp.request(method, path), 404)
        with httpx.Client(base_url=srv.base_url) as bare:
            scim_error(bare.get("/scim/v2"), 404)
            scim_error(bare.get("/scim/v2/"), 404)
            scim_error(bare.post("/scim/v2/idp", json={}), 404)
            paths = bare.get("/schema/openapi.json").json()["paths"]
        scim_ops = [op for path, item in paths.items() if path.startswith("/scim/v2/") for op in item.values()
                    if isinstance(op, dict) and "responses" in op]
        assert len(scim_ops) == 13
        for op in scim_ops:  # documented as what they answer: SCIM Errors, not problem details
            for status in ("400", "401", "404", "429", "500"):
                assert list(op["responses"][status]["content"]) == ["application/scim+json"], (op, status)
        scim_error(idp.put("Users", json={"schemas": [USER], "userName": "x"}), 405)
        allowed = idp.post(f"Users/{uid}", json={"schemas": [USER], "userName": "x"})
        scim_error(allowed, 405)
        scim_error(idp.get("Users/.search"), 405)
        scim_error(idp.post("Bulk", json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                                          "Operations": []}), 501)
        scim_error(idp.get("Me"), 501)
        scim_error(idp.post("Users", json={"schemas": [USER], "userName": "big", "title": "x" * 8000}), 413)
        assert idp.get(f"Users/{uid}").status_code == 200


def _revoke(client_id: str) -> None:
    """What ``fediflow clients revoke`` does: another process, another pool, the same database."""
    from hub.context import Hub
    from hub.settings import load_settings
    from hub.store import ApiClientStore

    async def main() -> None:
        hub = Hub.from_settings(load_settings())
        try:
            await ApiClientStore(hub.db).revoke(client_id)
        finally:
            await hub.close()

    asyncio.run(main())


def test_a_revoked_client_stops_at_once_whatever_it_authenticates_with(scim_server):
    srv = scim_server()
    clients = {mode: srv.scim("okta", mode=mode) for mode in ("basic", "static", "token")}
    try:
        for client in clients.values():  # verified once: the next ones are served from the cache
            assert client.get("Users").status_code == 200
            assert client.get("Users").status_code == 200
        _revoke(srv.creds["okta"][0])
        for mode, client in clients.items():
            body = scim_error(client.get("Users"), 401)
            assert "revoked" in body["detail"] or "wrong secret" in body["detail"], (mode, body)
    finally:
        for client in clients.values():
            client.close()
    with srv.scim("admin") as other:  # another client of the tenant is untouched
        assert other.get("Users").status_code == 200


def test_the_scim_source_has_its_own_budget_and_its_requests_name_the_client(scim_server, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="fediflow.api.access")
    monkeypatch.setenv("FEDIFLOW_API__RATE_LIMIT_SCIM_PER_MINUTE", "4")
    monkeypatch.setenv("FEDIFLOW_API__RATE_LIMIT_PER_MINUTE", "2")
    srv = scim_server()
    with srv.scim("okta", mode="static") as okta, srv.scim("admin", mode="basic") as admin:
        answers = [okta.get("Users"), admin.get("Users"), okta.get("Groups"), admin.get("Users")]
        assert [r.status_code for r in answers] == [200] * 4
        assert answers[0].headers["RateLimit-Limit"] == "4" and answers[3].headers["RateLimit-Remaining"] == "0"
        refused = okta.get("Users")  # the budget is the source's, whichever client of the tenant pushes
        scim_error(refused, 429)
        assert int(refused.headers["Retry-After"]) >= 1
        scim_error(admin.post("Users", json={"schemas": [USER], "userName": "late@x.org"}), 429)
    with srv.scim("other", mode="basic") as beta:  # another tenant's source: its own budget
        assert beta.get("Users").status_code == 200
    with srv.api("okta") as api:  # the same client on the REST API: the API client budget, untouched
        assert api.get("/api/v1/sources").status_code == 200
    lines = [r for r in caplog.records if r.name == "fediflow.api.access" and r.__dict__.get("path", "").startswith(
        "/scim/v2/idp/")]
    assert lines and {r.client_id for r in lines if r.status == 200} == {srv.creds[who][0] for who in ("okta", "admin",
                                                                                                     "other")}
    assert any(r.status == 429 and r.client_id == srv.creds["okta"][0] for r in lines)


def test_failed_logins_are_limited_per_address_before_any_secret_is_checked(scim_server, monkeypatch):
    monkeypatch.setenv("FEDIFLOW_API__RATE_LIMIT_AUTH_FAILURES_PER_MINUTE", "3")
    srv = scim_server()
    client_id = srv.creds["okta"][0]
    with httpx.Client(base_url=f"{srv.base_url}/scim/v2/idp/") as anon:
        for _ in range(3):
            scim_error(anon.get("Users", auth=(client_id, "wrong")), 401)
        refused = anon.get("Users", auth=(client_id, "wrong"))
        scim_error(refused, 429)
        assert int(refused.headers["Retry-After"]) >= 1
        scim_error(anon.get("Users", auth=(client_id, srv.creds["okta"][1])), 429)  # the address, not the client
