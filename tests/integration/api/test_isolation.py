"""Two tenants: every route, called by tenant alpha with tenant beta's ids, answers 404 and never beta's data.

Routes are enumerated from the app, so a new route is covered (or must be listed as hub-wide) automatically.
"""

from __future__ import annotations

import re

from api_support import SECRET_TOKEN, in_imports, make_bundle, wait_for_run
from litestar.routes import HTTPRoute

#: hub-wide by design (admin role only), documented in docs/api.md
HUB_WIDE = ("/api/v1/tenants",)
PUBLIC = ("/oauth/token", "/health/live", "/health/ready", "/metrics",
          # ActivityPub (HTTP Signatures, personal actors only to approved followers: tests/integration/federation)
          "/ap/", "/.well-known/", "/nodeinfo/",
          # SCIM authenticates per source itself; its tenant isolation is tested in tests/integration/scim
          "/scim/v2")
#: bodies valid enough to get past validation, so the tenant check is what answers
BODIES = {("PUT", "/api/v1/sources/{name}"): {"config": {"path": "/tmp/x"}},
          ("PATCH", "/api/v1/sources/{name}"): {"enabled": False},
          ("PUT", "/api/v1/sources/{name}/safeguards"): {"max_delete_pct": 10},
          ("PATCH", "/api/v1/schedules/{schedule_id}"): {"enabled": False},
          ("PATCH", "/api/v1/webhooks/subscriptions/{sub_id}"): {"description": "x"},
          ("POST", "/api/v1/webhooks/subscriptions/{sub_id}/replay"): {"after_seq": 0}}


def _routes(app):
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in sorted(set(route.methods) - {"OPTIONS", "HEAD"}):
            yield method, re.sub(r"{(\w+):\w+}", r"{\1}", route.path)


def test_other_tenants_ids_are_404_on_every_route(live_server, tmp_path):
    bundle_b = make_bundle(in_imports("beta", "b"), users=20, seed=7)
    srv = live_server()
    with srv.client("admin_b") as b:
        assert b.post("/api/v1/sources", json={"name": "beta-sis", "connector": "oneroster_csv",
                                               "config": {"path": bundle_b.name}}).status_code == 201
        assert b.post("/api/v1/sources", json={"name": "beta-lms", "connector": "test_secret",
                                               "config": {"url": "u", "token": SECRET_TOKEN}}).status_code == 201
        run = wait_for_run(b, b.post("/api/v1/sources/beta-sis/sync").json()["run_id"])
        assert run["status"] == "succeeded"
        user = b.get("/api/v1/entities/User", params={"limit": 1}).json()["items"][0]
        org = b.get("/api/v1/entities/Org", params={"limit": 1}).json()["items"][0]
        klass = b.get("/api/v1/entities/Class", params={"limit": 1}).json()["items"][0]
        schedule = b.post("/api/v1/schedules", json={"source": "beta-sis", "interval_seconds": 3600})
        assert schedule.status_code == 201, schedule.text
        subscription = b.post("/api/v1/webhooks/subscriptions",
                              json={"url": "https://receiver.example.org/hook", "event_types": ["*"]})
        assert subscription.status_code == 201, subscription.text
        before = b.get("/api/v1/sources").json()
    # ids distinctive enough to search for (a generated bundle may use plain words like "district" too)
    beta_markers = ["beta-sis", "beta-lms", SECRET_TOKEN, *(e["id"] for e in (user, org, klass) if len(e["id"]) >= 12)]
    assert len(beta_markers) >= 4

    def value_for(param: str) -> str:
        p = param.lower()
        if p == "run_id":
            return str(run["id"])
        if p == "schedule_id":
            return str(schedule.json()["id"])
        if p in ("sub_id", "delivery_id"):
            return str(subscription.json()["id"])
        if p == "name":
            return "beta-sis"
        if p == "type_name":
            return "User"
        if p == "connector":
            return "oneroster_csv"
        if p == "stream":
            return "users"
        if "class" in p:
            return klass["id"]
        if "school" in p or "org" in p:
            return org["id"]
        return user["id"]

    checked = []
    with srv.client("admin") as a:
        for method, path in _routes(srv.app):
            if path.startswith(PUBLIC) or path.startswith(HUB_WIDE) or path.startswith("/schema"):
                continue
            params = re.findall(r"{(\w+)(?::\w+)?}", path)
            url = re.sub(r"{(\w+)(?::\w+)?}", lambda m: value_for(m.group(1)), path)
            query = {"source": "beta-sis"} if path.endswith("/preview") else {}
            resp = a.request(method, url, params=query, json=BODIES.get((method, path), {} if method in ("POST", "PUT", "PATCH") else None))
            echoed = {value_for(p) for p in params} | set(query.values())  # the caller's own input may be echoed
            for marker in (m for m in beta_markers if m not in echoed):
                assert marker not in resp.text, f"{method} {url} leaked {marker!r}: {resp.text[:300]}"
            if params and not (params == ["type_name"]) and path != "/api/v1/connectors/{name}":
                assert resp.status_code == 404, f"{method} {url} -> {resp.status_code} {resp.text[:300]}"
            else:
                assert resp.status_code < 500, f"{method} {url} -> {resp.status_code}"
            checked.append((method, path))
    assert ("DELETE", "/api/v1/sources/{name}") in checked and ("GET", "/api/v1/changes") in checked
    assert len(checked) >= 15
    with srv.client("admin_b") as b:
        assert b.get("/api/v1/sources").json() == before  # nothing of beta changed
        assert b.get(f"/api/v1/runs/{run['id']}").status_code == 200
