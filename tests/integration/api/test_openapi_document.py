"""The OpenAPI document says what the API does: id bounds, request bodies, NodeInfo, SCIM ``Allow``.

Each test pins one answer schemathesis (tests/integration/api/oneroster/test_hub_openapi.py) found
to disagree with ``/schema/openapi.json``; these say which, on both databases, without the fuzzer.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from api_support import assert_problem

MAX_ID = 2**53 - 1
#: every integer path parameter: ids and sequences live in bigint columns
_ID_PATHS = [
    ("DELETE", "/api/v1/webhooks/subscriptions/{}"),
    ("GET", "/api/v1/webhooks/subscriptions/{}"),
    ("POST", "/api/v1/webhooks/subscriptions/{}/disable"),
    ("GET", "/api/v1/webhooks/deliveries/{}"),
    ("POST", "/api/v1/webhooks/deliveries/{}/replay"),
    ("POST", "/api/v1/federation/followers/{}/approve"),
    ("GET", "/api/v1/runs/{}"),
    ("GET", "/api/v1/schedules/{}"),
    ("GET", "/ap/actors/default/notes/{}"),
]


def _doc(c: Any) -> dict[str, Any]:
    resp = c.get("/schema/openapi.json")
    assert resp.status_code == 200
    return dict(resp.json())


def test_out_of_range_ids_are_400_never_500(live_server):
    srv = live_server()
    with srv.client("admin") as c:
        for method, path in _ID_PATHS:
            for value in (MAX_ID + 1, 2**63, 2**70, -(2**70)):
                assert_problem(c.request(method, path.format(value)), 400)
            assert c.request(method, path.format(MAX_ID)).status_code == 404, (method, path)


def test_changes_bounds_are_documented_and_enforced_alike(live_server):
    srv = live_server()
    with srv.client("admin") as c:
        params = {p["name"]: p["schema"] for p in _doc(c)["paths"]["/api/v1/changes"]["get"]["parameters"]}
        assert params["after"]["maximum"] == MAX_ID and params["after"]["minimum"] == 0
        assert c.get("/api/v1/changes", params={"after": MAX_ID}).status_code == 200
        assert_problem(c.get("/api/v1/changes", params={"after": MAX_ID + 1}), 400)
        assert_problem(c.get("/api/v1/changes", params={"limit": params["limit"]["maximum"] + 1}), 400)


def test_request_bodies_are_documented_as_validated(live_server):
    srv = live_server()
    with srv.client("admin") as c:
        schemas = _doc(c)["components"]["schemas"]
        tenant = schemas["TenantCreate"]
        assert tenant["additionalProperties"] is False and tenant["properties"]["slug"]["pattern"]
        assert schemas["SourceOptionsIn"]["additionalProperties"] is False
        assert schemas["SubscriptionPatch"]["properties"]["event_types"]["anyOf"][0]["minItems"] == 1
        # what the document rejects, the API rejects, and the other way round
        for body in ({"slug": ""}, {"slug": "ok", "surprise": 1}):
            assert_problem(c.post("/api/v1/tenants", json=body), 400)
            try:
                jsonschema.validate(body, tenant)
            except jsonschema.ValidationError:
                continue
            raise AssertionError(f"the document accepts {body}")
        schedule = {"source": "nope", "cron": None}
        assert_problem(c.post("/api/v1/schedules", json=schedule), 400)
        try:
            jsonschema.validate(schedule, schemas["ScheduleCreate"])
        except jsonschema.ValidationError:
            pass
        else:
            raise AssertionError("the document accepts a schedule without cron or interval_seconds")


def test_follow_documents_its_422(live_server):
    srv = live_server()
    with srv.client("admin") as c:
        documented = _doc(c)["paths"]["/api/v1/federation/following"]["post"]["responses"]
        assert_problem(c.post("/api/v1/federation/following", json={"actor": "000"}), 422)
        assert "422" in documented


def test_nodeinfo_is_what_the_document_says(live_server):
    srv = live_server()
    with srv.client("admin") as c:
        paths = _doc(c)["paths"]
        for path in ("/.well-known/nodeinfo", "/nodeinfo/2.1"):
            schema = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            resp = c.get(path)
            assert resp.status_code == 200
            jsonschema.validate(resp.json(), schema)
            assert schema["type"] == "object"


def test_scim_options_allow_lists_every_method_of_the_path(live_server):
    srv = live_server()
    with srv.http() as c:
        for path, methods in (("/scim/v2/x/Users", {"GET", "POST", "OPTIONS"}),
                              ("/scim/v2/x/Groups/1", {"GET", "PUT", "PATCH", "DELETE", "OPTIONS"}),
                              ("/scim/v2/x/Schemas/1", {"GET", "OPTIONS"})):
            resp = c.options(path)
            assert resp.status_code == 204
            assert {m.strip() for m in resp.headers["allow"].split(",")} == methods, path
            refused = c.request("TRACE", path)  # a 405 names the same methods
            assert refused.status_code == 405
            assert {m.strip() for m in refused.headers["allow"].split(",")} == methods, path
