"""The SCIM server against a real uvicorn server: Okta-like and Entra-like provisioning, ETags,
tenant isolation, errors as SCIM errors, and pushed users arriving as canonical Users."""

from __future__ import annotations

import time
from typing import Any

import httpx

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def scim_error(resp: httpx.Response, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, f"{resp.status_code} != {status}: {resp.text}"
    assert resp.headers["content-type"].startswith("application/scim+json"), resp.headers["content-type"]
    body = resp.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status), body
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


def entity(api: httpx.Client, sourced_id: str, predicate: Any = None, timeout: float = 30) -> dict[str, Any]:
    """The canonical User ``sourced_id`` once it exists (and satisfies ``predicate``)."""
    deadline = time.monotonic() + timeout
    while True:
        items = api.get("/api/v1/entities/User", params={"limit": 100}).json()["items"]
        found = next((e for e in items if e["id"] == sourced_id), None)
        if found is not None and (predicate is None or predicate(found)):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"User {sourced_id} not (yet) as expected: {found}")
        time.sleep(0.1)


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def test_okta_like_provisioning(scim_server):
    srv = scim_server()
    with srv.scim("okta") as idp, srv.api("admin") as api:
        # Okta looks the user up by userName first (RFC 7644 §3.4.2.2 filter)
        found = idp.get("Users", params={"filter": 'userName eq "dana.scully@example.edu"', "startIndex": 1, "count": 100})
        assert found.status_code == 200 and found.headers["content-type"].startswith("application/scim+json")
        assert found.json() == {"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}
        created = idp.post("Users", json={
            "schemas": [USER], "userName": "dana.scully@example.edu",
            "name": {"givenName": "Dana", "familyName": "Scully"},
            "emails": [{"primary": True, "value": "dana.scully@example.edu", "type": "work"}],
            "displayName": "Dana Scully", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [], "password": "1mz050nq", "active": True, "userType": "Teacher"})
        assert created.status_code == 201, created.text
        user = created.json()
        assert "password" not in created.text  # returned: never, and never stored
        assert user["meta"]["resourceType"] == "User" and user["meta"]["version"] == 'W/"1"'
        assert created.headers["ETag"] == 'W/"1"' and created.headers["Location"] == user["meta"]["location"]
        assert user["meta"]["location"].endswith(f"/scim/v2/idp/Users/{user['id']}")
        uid = user["id"]
        # a second create with the same userName (any case) is a uniqueness conflict
        scim_error(idp.post("Users", json={"schemas": [USER], "userName": "Dana.Scully@example.edu"}), 409, "uniqueness")
        listed = idp.get("Users", params={"filter": 'userName eq "DANA.SCULLY@example.edu"'}).json()
        assert listed["totalResults"] == 1 and listed["Resources"][0]["id"] == uid
        assert idp.get(f"Users/{uid}").json()["name"] == {"givenName": "Dana", "familyName": "Scully"}
        canonical = entity(api, uid)
        assert canonical["data"]["username"] == "dana.scully@example.edu"
        assert canonical["data"]["roles"][0]["role"] == "teacher" and canonical["data"]["enabledUser"] is True
        assert canonical["data"]["userIds"] == [{"type": "scimExternalId", "identifier": "00ujl29u0le5T6Aj10h7"}]

        # Okta deactivates with a replace without path
        deactivated = idp.patch(f"Users/{uid}", json=patch({"op": "replace", "value": {"active": False}}))
        assert deactivated.status_code == 200, deactivated.text
        assert deactivated.json()["active"] is False and deactivated.headers["ETag"] == 'W/"2"'
        entity(api, uid, lambda e: e["data"]["enabledUser"] is False)

        renamed = idp.patch(f"Users/{uid}", json=patch(
            {"op": "replace", "path": "name", "value": {"givenName": "Dana K.", "familyName": "Scully-Mulder"}}))
        assert renamed.status_code == 200, renamed.text
        entity(api, uid, lambda e: e["data"]["familyName"] == "Scully-Mulder" and e["data"]["givenName"] == "Dana K.")

        assert idp.delete(f"Users/{uid}").status_code == 204
        scim_error(idp.get(f"Users/{uid}"), 404)
        entity(api, uid, lambda e: e["status"] == "tobedeleted")
        # the userName is free again
        assert idp.post("Users", json={"schemas": [USER], "userName": "dana.scully@example.edu"}).status_code == 201


def test_entra_like_provisioning(scim_server):
    srv = scim_server()
    with srv.scim("okta", mode="static") as idp, srv.api("admin") as api:
        assert idp.get("Users", params={"filter": 'userName eq "fox@contoso.edu"'}).json()["totalResults"] == 0
        created = idp.post("Users", json={
            "schemas": [USER, ENTERPRISE], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "userName": "fox@contoso.edu", "active": True, "displayName": "Fox Mulder",
            "emails": [{"primary": True, "type": "work", "value": "fox@contoso.edu"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Fox Mulder", "familyName": "Mulder", "givenName": "Fox"},
            "roles": [], ENTERPRISE: {"employeeNumber": "1013", "department": "X-Files",
                                      "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}})
        assert created.status_code == 201, created.text
        uid = created.json()["id"]
        assert created.json()[ENTERPRISE]["manager"]["value"] == "26118915-6090-4610-87e4-49d8ca9f808d"
        by_external = idp.get("Users", params={"filter": 'externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"'}).json()
        assert [r["id"] for r in by_external["Resources"]] == [uid]
        # Entra: capitalised op names, string booleans, paths into the enterprise extension
        resp = idp.patch(f"Users/{uid}", json=patch(
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "name.familyName", "value": "Mulder-Scully"},
            {"op": "Add", "path": 'emails[type eq "home"].value', "value": "fox@home.example"},
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Basement"},
            {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": "a0f4c1b2"}))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["active"] is False and body["name"]["familyName"] == "Mulder-Scully"
        assert {"type": "home", "value": "fox@home.example"} in body["emails"]
        assert body[ENTERPRISE]["department"] == "Basement" and body[ENTERPRISE]["manager"]["value"] == "a0f4c1b2"
        canonical = entity(api, uid, lambda e: e["data"]["enabledUser"] is False)
        assert canonical["data"]["familyName"] == "Mulder-Scully" and canonical["data"]["identifier"] == "1013"
        assert canonical["data"]["metadata"]["department"] == "Basement"

        group = idp.post("Groups", json={"schemas": [GROUP], "displayName": "Teachers", "externalId": "g-1",
                                         "members": [{"value": uid}]})
        assert group.status_code == 201, group.text
        gid = group.json()["id"]
        assert idp.get("Groups", params={"filter": 'displayName eq "teachers"'}).json()["totalResults"] == 1
        removed = idp.patch(f"Groups/{gid}", json=patch({"op": "Remove", "path": "members", "value": [{"value": uid}]}))
        assert removed.status_code == 200 and "members" not in removed.json()
        assert "members" not in idp.get(f"Groups/{gid}", params={"excludedAttributes": "members"}).json()
        assert idp.delete(f"Users/{uid}").status_code == 204
        entity(api, uid, lambda e: e["status"] == "tobedeleted")
        orgs = api.get("/api/v1/entities/Org").json()["items"]
        assert any(o["id"] == gid and o["data"]["type"] == "ext:group" for o in orgs)


def test_etags_and_errors(scim_server):
    srv = scim_server()
    with srv.scim("okta", mode="basic") as idp:
        uid = idp.post("Users", json={"schemas": [USER], "userName": "a@x.org"}).json()["id"]
        # If-Match with a stale version: 412, nothing written
        scim_error(idp.patch(f"Users/{uid}", headers={"If-Match": 'W/"7"'},
                             json=patch({"op": "replace", "path": "displayName", "value": "A"})), 412)
        ok = idp.patch(f"Users/{uid}", headers={"If-Match": 'W/"1"'},
                       json=patch({"op": "replace", "path": "displayName", "value": "A"}))
        assert ok.status_code == 200 and ok.headers["ETag"] == 'W/"2"'
        assert idp.get(f"Users/{uid}", headers={"If-None-Match": 'W/"2"'}).status_code == 304
        scim_error(idp.put(f"Users/{uid}", headers={"If-Match": 'W/"1"'},
                           json={"schemas": [USER], "userName": "a@x.org"}), 412)
        scim_error(idp.delete(f"Users/{uid}", headers={"If-Match": '"1"'}), 412)
        replaced = idp.put(f"Users/{uid}", headers={"If-Match": 'W/"2"'},
                           json={"schemas": [USER], "userName": "a@x.org", "title": "Dr"})
        assert replaced.status_code == 200 and replaced.json()["title"] == "Dr" and "displayName" not in replaced.json()
        # filter errors are SCIM errors, never 500
        for bad in ['userName eq', 'userName xx "a"', '(userName eq "a"', 'userName eq "a', 'active gt true',
                    'userName eq "a" junk', "((((((((((((((((((((((((((((((((((((a pr" + ")" * 36, "]"]:
            scim_error(idp.get("Users", params={"filter": bad}), 400, "invalidFilter")
        result = idp.get("Users", params={"filter": 'userName sw "A@" and (title pr or not (displayName co "zz"))'})
        assert result.status_code == 200 and result.json()["totalResults"] == 1
        assert idp.get("Users", params={"filter": 'meta.lastModified gt "2000-01-01T00:00:00Z"'}).json()["totalResults"] == 1
        scim_error(idp.post("Users", content=b"{not json"), 400, "invalidSyntax")
        scim_error(idp.post("Users", json={"schemas": [USER]}), 400)
        scim_error(idp.post("Users", json={"schemas": [USER], "userName": "b", "nickname": 1, "unknownAttr": 2}), 400)
        scim_error(idp.patch(f"Users/{uid}", json=patch({"op": "replace", "path": "id", "value": "x"})), 400, "mutability")
        scim_error(idp.patch(f"Users/{uid}", json=patch({"op": "remove"})), 400, "noTarget")
        scim_error(idp.patch(f"Users/{uid}", json=patch({"op": "replace", "path": 'emails[type eq "work" and value co "@"]',
                                                          "value": {"value": "x@y.org"}})), 400, "noTarget")
        scim_error(idp.patch(f"Users/{uid}", json=patch({"op": "move", "path": "title"})), 400, "invalidSyntax")
        scim_error(idp.patch(f"Users/{uid}", json={"Operations": []}), 400, "invalidSyntax")
        scim_error(idp.patch(f"Users/{uid}", json=patch({"op": "add", "path": "title[", "value": 1})), 400, "invalidPath")
        scim_error(idp.get("Users/no-such-id"), 404)
        scim_error(idp.get("Widgets"), 404)
        page = idp.get("Users", params={"startIndex": 1, "count": 0}).json()
        assert page["totalResults"] == 1 and page["Resources"] == []
        scim_error(idp.get("Users", params={"count": "many"}), 400)
        spc = idp.get("ServiceProviderConfig").json()
        assert spc["patch"]["supported"] is True and spc["etag"]["supported"] is True
        types = idp.get("ResourceTypes").json()
        assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
        assert idp.get("ResourceTypes/User").json()["schemaExtensions"][0]["schema"] == ENTERPRISE
        assert {s["id"] for s in idp.get("Schemas").json()["Resources"]} == {USER, ENTERPRISE, GROUP}
        assert idp.get(f"Schemas/{ENTERPRISE}").status_code == 200


def test_auth_and_tenant_isolation(scim_server):
    srv = scim_server()
    with srv.scim("okta") as alpha:
        uid = alpha.post("Users", json={"schemas": [USER], "userName": "alpha-only@x.org"}).json()["id"]
    with srv.scim("other") as beta:  # tenant beta has a source named "idp" too: its own, empty
        assert beta.get("Users").json()["totalResults"] == 0
        scim_error(beta.get(f"Users/{uid}"), 404)
        scim_error(beta.patch(f"Users/{uid}", json=patch({"op": "replace", "value": {"active": False}})), 404)
        scim_error(beta.delete(f"Users/{uid}"), 404)
        assert "alpha-only" not in beta.get("Users", params={"filter": 'userName pr'}).text
    with srv.scim("other", source="nope") as beta:
        scim_error(beta.get("Users"), 404)
    with srv.scim("reader") as reader:
        scim_error(reader.get("Users"), 403)
    with httpx.Client(base_url=f"{srv.base_url}/scim/v2/idp/") as anon:
        body = scim_error(anon.get("Users"), 401)
        assert "authentication" in body["detail"]
        scim_error(anon.get("Users", headers={"Authorization": "Bearer not-a-token"}), 401)
        scim_error(anon.get("Users", headers={"Authorization": "Bearer ff_x.wrong"}), 401)
        scim_error(anon.get("Users", auth=(srv.creds["okta"][0], "wrong")), 401)
    with srv.scim("okta") as alpha:
        assert alpha.get(f"Users/{uid}").status_code == 200  # still there, unchanged
        assert alpha.get(f"Users/{uid}").json()["meta"]["version"] == 'W/"1"'


def test_push_source_check_and_replaced_config(scim_server):
    import asyncio

    from connectors.scim.push import ScimPushConnector

    srv = scim_server()

    async def check(tenant_slug: str) -> tuple[bool, str]:
        from hub.context import Hub
        from hub.settings import load_settings

        hub = Hub.from_settings(load_settings())
        try:
            tenant = await hub.store.tenant(tenant_slug)
            source = await tenant.get_source("idp")
            connector = ScimPushConnector(await tenant.source_config(source, ScimPushConnector.config_model))
            try:
                result = await connector.check()
            finally:
                await connector.aclose()
            return result.ok, result.message
        finally:
            await hub.close()

    ok, message = asyncio.run(check("alpha"))
    assert not ok and "nothing was pushed" in message
    with srv.scim("okta") as idp:
        assert idp.post("Users", json={"schemas": [USER], "userName": "c@x.org"}).status_code == 201
    ok, message = asyncio.run(check("alpha"))
    assert ok and message.startswith("1 users and 0 groups pushed")
    with srv.api("admin") as api:  # replacing the config generates a new store key ...
        assert api.put("/api/v1/sources/idp", json={"config": {"sync_delay_seconds": 0.05}}).status_code == 200
    assert not asyncio.run(check("alpha"))[0]  # ... so a sync would fail its check rather than delete users
    with srv.scim("okta") as idp:  # the next SCIM write re-keys the stored resources
        assert idp.post("Users", json={"schemas": [USER], "userName": "d@x.org"}).status_code == 201
    ok, message = asyncio.run(check("alpha"))
    assert ok and message.startswith("2 users")
