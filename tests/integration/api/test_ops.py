"""Health, metrics and the OpenAPI document."""

from __future__ import annotations

from api_support import in_imports, make_bundle, wait_for_run


def test_health(live_server):
    srv = live_server()
    with srv.http() as c:
        assert c.get("/health/live").json()["status"] == "ok"
        ready = c.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_metrics(live_server, tmp_path):
    bundle = make_bundle(in_imports("alpha", "b"), users=20)
    srv = live_server()
    with srv.client("admin") as c:
        c.post("/api/v1/sources", json={"name": "sis", "connector": "oneroster_csv", "config": {"path": bundle.name}})
        wait_for_run(c, c.post("/api/v1/sources/sis/sync").json()["run_id"])
        c.get("/api/v1/runs/424242")
    with srv.http() as c:
        resp = c.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    text = resp.text
    assert 'fediflow_http_requests_total{method="GET",route="/api/v1/runs/{run_id}",status="404"} 1.0' in text
    assert 'fediflow_sync_runs{status="succeeded"} 1.0' in text
    assert 'fediflow_queue_depth{queue="sync_runs"} 0.0' in text
    assert 'fediflow_records_written_total{op="created"}' in text
    assert "fediflow_record_errors_total" in text
    assert "fediflow_http_request_duration_seconds_bucket" in text


def test_openapi_documents_every_operation_with_its_errors(live_server):
    srv = live_server()
    with srv.http() as c:
        resp = c.get("/schema/openapi.json")
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["openapi"].startswith("3.1")
    schemes = doc["components"]["securitySchemes"]
    assert schemes["BearerAuth"]["scheme"] == "bearer"
    assert schemes["OAuth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    operations = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()
                  if method in {"get", "post", "put", "patch", "delete"}]
    assert len(operations) >= 20
    for path, method, op in operations:
        codes = set(op["responses"])
        four = {c for c in codes if c.startswith("4")}
        assert four, f"{method} {path} documents no 4xx"
        assert "429" in codes, f"{method} {path}"
        if path.startswith("/api/"):
            assert {"400", "401", "403", "404"} <= codes, f"{method} {path}: {sorted(codes)}"
            problem = op["responses"]["401"]["content"]
            assert "application/problem+json" in problem
    assert "Problem" in doc["components"]["schemas"]
