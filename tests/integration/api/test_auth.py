"""The token endpoint (OAuth 2.0 client credentials) and bearer authentication, through a real server."""

from __future__ import annotations

import base64

from api_support import assert_problem
from litestar import Router, get

from hub.api.guards import require_scopes
from hub.auth import ROSTER_CORE_READONLY, ROSTER_DEMOGRAPHICS_READONLY, TokenIssuer, jwt_key_from_settings

CORE = "roster-core.readonly"


def test_token_with_basic_and_with_form_fields(live_server):
    srv = live_server()
    admin = srv.creds["admin"]
    resp = srv.token_response(admin)
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert ROSTER_CORE_READONLY in body["scope"].split()
    with srv.http() as c:
        form = {"grant_type": "client_credentials", "client_id": admin.client_id, "client_secret": admin.secret}
        assert c.post("/oauth/token", data=form).status_code == 200
    with srv.http(body["access_token"]) as c:
        assert c.get("/api/v1/sources").status_code == 200


def test_token_errors_follow_rfc6749(live_server):
    srv = live_server()
    admin = srv.creds["admin"]
    with srv.http() as c:
        bad = c.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(admin.client_id, "wrong"))
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
        assert bad.headers["www-authenticate"].startswith("Basic")
        unknown = c.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("ff_nobody", "x"))
        assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
        grant = c.post("/oauth/token", data={"grant_type": "password"}, auth=(admin.client_id, admin.secret))
        assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
        missing = c.post("/oauth/token", data={}, auth=(admin.client_id, admin.secret))
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
        both = c.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": admin.client_id},
                      auth=(admin.client_id, admin.secret))
        assert both.status_code == 400 and both.json()["error"] == "invalid_request"
        garbage = c.post("/oauth/token", data={"grant_type": "client_credentials"},
                         headers={"Authorization": "Basic !!!notbase64"})
        assert garbage.status_code == 401 and garbage.json()["error"] == "invalid_client"
        as_json = c.post("/oauth/token", json={"grant_type": "client_credentials"}, auth=(admin.client_id, admin.secret))
        assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    # RFC 6749 2.3.1: Basic credentials are form-urlencoded first
    encoded = base64.b64encode(f"{admin.client_id}:{admin.secret}".encode()).decode()
    with srv.http() as c:
        ok = c.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {encoded}"})
        assert ok.status_code == 200


def test_scope_narrowing_and_invalid_scope(live_server):
    srv = live_server()
    narrowed = srv.token_response(srv.creds["admin"], scope=CORE)
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == ROSTER_CORE_READONLY
    reader = srv.token_response(srv.creds["reader"])
    assert reader.json()["scope"] == ROSTER_CORE_READONLY  # the reader's default
    wider = srv.token_response(srv.creds["reader"], scope="roster-demographics.readonly")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    unknown = srv.token_response(srv.creds["admin"], scope="everything")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_scope"


def test_scopes_are_enforced_by_require_scopes(live_server):
    @get("/probe", opt={})
    async def probe() -> dict[str, bool]:
        return {"ok": True}

    router = Router("/scoped", route_handlers=[probe], guards=[require_scopes(ROSTER_DEMOGRAPHICS_READONLY)])
    srv = live_server(extra_routers=[router])
    with srv.client("admin") as c:
        assert c.get("/scoped/probe").json() == {"ok": True}
    with srv.client("admin", scope=CORE) as c:
        body = assert_problem(c.get("/scoped/probe"), 403)
        assert "insufficient scope" in body["detail"]
    with srv.client("reader") as c:
        assert_problem(c.get("/scoped/probe"), 403)


def test_missing_bad_expired_and_revoked_tokens_are_401(live_server):
    srv = live_server()
    with srv.http() as c:
        resp = c.get("/api/v1/sources")
        assert_problem(resp, 401)
        assert resp.headers["www-authenticate"].startswith("Bearer")
        resp = c.get("/api/v1/sources", headers={"Authorization": "Token abc"})
        assert_problem(resp, 401)
        resp = c.get("/api/v1/sources", headers={"Authorization": "Bearer not.a.jwt"})
        assert_problem(resp, 401)
        assert 'error="invalid_token"' in resp.headers["www-authenticate"]
    token = srv.token("admin")
    with srv.http(token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")) as c:
        assert_problem(c.get("/api/v1/sources"), 401)
    admin = srv.creds["admin"]
    expired = TokenIssuer(jwt_key_from_settings(srv.hub.settings), lifetime_seconds=-60).issue(
        client_id=admin.client_id, tenant=admin.tenant, role=admin.role, scopes=[]
    )
    with srv.http(expired.access_token) as c:
        assert_problem(c.get("/api/v1/sources"), 401)
    forged = TokenIssuer(b"k" * 32, lifetime_seconds=60).issue(
        client_id=admin.client_id, tenant=admin.tenant, role="admin", scopes=[]
    )
    with srv.http(forged.access_token) as c:
        assert_problem(c.get("/api/v1/sources"), 401)


def test_revoked_client_cannot_get_or_use_tokens(live_server):
    import asyncio

    from hub.store import ApiClientStore

    srv = live_server()
    token = srv.token("integrator")

    async def revoke() -> None:
        from hub.context import Hub

        hub = Hub.from_settings(srv.hub.settings)
        try:
            await ApiClientStore(hub.db).revoke(srv.creds["integrator"].client_id)
        finally:
            await hub.close()

    asyncio.run(revoke())
    with srv.http(token) as c:
        assert_problem(c.get("/api/v1/sources"), 401)
    assert srv.token_response(srv.creds["integrator"]).status_code == 401


def test_secret_is_stored_hashed(live_server):
    import asyncio

    from hub.store import ApiClientStore

    srv = live_server()
    admin = srv.creds["admin"]

    async def read() -> str:
        from hub.context import Hub

        hub = Hub.from_settings(srv.hub.settings)
        try:
            return (await ApiClientStore(hub.db).get(admin.client_id)).secret_hash
        finally:
            await hub.close()

    stored = asyncio.run(read())
    assert stored.startswith("scrypt$") and admin.secret not in stored
