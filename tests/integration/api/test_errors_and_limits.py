"""Problem details for bad input (never a 500), body size limit, rate limit, request ids."""

from __future__ import annotations

import logging

from api_support import assert_problem


def test_bad_input_is_a_problem_never_a_500(live_server):
    srv = live_server()
    with srv.client("admin") as c:
        headers = {"content-type": "application/json"}
        body = assert_problem(c.post("/api/v1/sources", content=b"{not json", headers=headers), 400)
        assert body["instance"] == "/api/v1/sources" and body["request_id"]
        unknown = assert_problem(c.post("/api/v1/sources", json={"name": "a", "connector": "c", "config": {},
                                                                 "surprise": 1}), 400)
        assert unknown["errors"]
        assert_problem(c.post("/api/v1/sources", json=[1, 2]), 400)
        assert_problem(c.post("/api/v1/sources", json={"name": "../etc", "connector": "c"}), 400)
        for url, params in [("/api/v1/runs", {"limit": "abc"}), ("/api/v1/runs", {"limit": 0}),
                            ("/api/v1/runs", {"offset": -1}), ("/api/v1/changes", {"after": "x"}),
                            ("/api/v1/changes", {"after": 2**70}), ("/api/v1/entities/User", {"limit": 10**6}),
                            ("/api/v1/sources/x/sync", {"dry_run": "maybe"})]:
            method = "POST" if url.endswith("/sync") else "GET"
            assert_problem(c.request(method, url, params=params), 400)
        assert_problem(c.get("/api/v1/runs/999999"), 404)
        assert c.get("/api/v1/runs/abc").status_code in (400, 404)
        assert_problem(c.get("/api/v1/nowhere"), 404)
        assert_problem(c.delete("/api/v1/changes"), 405)
        assert_problem(c.get("/api/v1/mappings/nope/users/preview", params={"source": "x"}), 404)
        assert_problem(c.get("/api/v1/mappings/oneroster_csv/users/preview"), 400)


def test_too_large_body_is_413(live_server):
    srv = live_server(env={"FEDIFLOW_API__REQUEST_MAX_BODY_BYTES": "2048"})
    with srv.client("admin") as c:
        big = {"name": "big", "connector": "oneroster_csv", "config": {"path": "x" * 5000}}
        assert_problem(c.post("/api/v1/sources", json=big), 413)
        assert c.post("/api/v1/sources", json={"name": "ok", "connector": "oneroster_csv",
                                               "config": {"path": "x"}}).status_code == 201


def test_rate_limit_per_client(live_server):
    srv = live_server(env={"FEDIFLOW_API__RATE_LIMIT_PER_MINUTE": "5"})
    with srv.client("reader") as c:  # the token request counted against the remote address, not the client
        codes = [c.get("/api/v1/sources").status_code for _ in range(5)]
        assert codes == [200] * 5
        resp = c.get("/api/v1/sources")
        assert_problem(resp, 429)
        assert int(resp.headers["retry-after"]) >= 1
    with srv.client("integrator") as other:
        assert other.get("/api/v1/sources").status_code == 200
    with srv.http() as anonymous:
        assert anonymous.get("/health/live").status_code == 200


def test_request_id_in_and_out_and_access_log(live_server, caplog):
    caplog.set_level(logging.INFO, logger="fediflow")
    srv = live_server()
    with srv.client("reader") as c:
        resp = c.get("/api/v1/sources", headers={"X-Request-ID": "abc-123"})
        assert resp.headers["x-request-id"] == "abc-123"
        generated = c.get("/api/v1/sources", headers={"X-Request-ID": "bad id with spaces"})
        assert len(generated.headers["x-request-id"]) == 32
    lines = [r for r in caplog.records if r.name == "fediflow.api.access" and r.__dict__.get("route") == "/api/v1/sources"]
    assert any(r.status == 200 and r.client_id == srv.creds["reader"].client_id for r in lines)
