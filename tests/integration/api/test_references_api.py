"""Reference checks through the real API: run warnings, the severity filter, the OneRoster API's
``references`` parameter and the OpenAPI document (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from api_support import assert_problem, in_imports, make_bundle, wait_for_run

ONEROSTER = "/ims/oneroster/rostering/v1p2"


def _ghost_enrollment(bundle: Path) -> str:
    """Point the first enrollment at a user that does not exist; returns its sourcedId."""
    path = bundle / "enrollments.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows[0]["userSourcedId"] = "usr-ghost"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(rows)
    return rows[0]["sourcedId"]


def test_warnings_of_a_run_and_the_oneroster_api_through_http(live_server: Any) -> None:
    bundle = make_bundle(in_imports("alpha", "bundle"), users=30)
    ghost = _ghost_enrollment(bundle)
    srv = live_server()
    with srv.client("admin") as c:
        assert c.post("/api/v1/sources", json={"name": "sis", "connector": "oneroster_csv",
                                               "config": {"path": bundle.name}}).status_code == 201
        run = wait_for_run(c, c.post("/api/v1/sources/sis/sync").json()["run_id"])
        assert run["status"] == "succeeded", run
        assert (run["errors"], run["warnings"]) == (0, 1)
        assert run["per_stream"]["enrollments"]["warnings"] == 1
        assert [r["warnings"] for r in c.get("/api/v1/runs").json() if r["id"] == run["id"]] == [1]

        warnings = c.get(f"/api/v1/runs/{run['id']}/errors", params={"severity": "warning"}).json()
        assert warnings["total"] == 1
        assert warnings["items"] == [{"stream": "enrollments", "ref": ghost, "field": "user",
                                      "message": "user 'usr-ghost' is not in the store", "severity": "warning"}]
        assert c.get(f"/api/v1/runs/{run['id']}/errors", params={"severity": "error"}).json()["total"] == 0
        assert c.get(f"/api/v1/runs/{run['id']}/errors").json()["total"] == 1
        assert_problem(c.get(f"/api/v1/runs/{run['id']}/errors", params={"severity": "fatal"}), 400)

        default = c.get(f"{ONEROSTER}/enrollments", params={"limit": 1000})
        everything = c.get(f"{ONEROSTER}/enrollments", params={"limit": 1000, "references": "all"})
        assert int(everything.headers["X-Total-Count"]) == int(default.headers["X-Total-Count"]) + 1
        assert ghost not in {e["sourcedId"] for e in default.json()["enrollments"]}
        assert ghost in {e["sourcedId"] for e in everything.json()["enrollments"]}
        assert c.get(f"{ONEROSTER}/enrollments/{ghost}").status_code == 404
        assert c.get(f"{ONEROSTER}/enrollments/{ghost}", params={"references": "all"}).status_code == 200
        bad = c.get(f"{ONEROSTER}/enrollments", params={"references": "some"})
        assert bad.status_code == 400 and "references" in bad.text

        doc = c.get("/schema/openapi.json").json()
    params = {p["name"]: p for p in doc["paths"]["/api/v1/runs/{run_id}/errors"]["get"]["parameters"]}
    assert "severity" in params and "warning" in str(params["severity"]["schema"])
    schemas = doc["components"]["schemas"]
    run_out = next(s for name, s in schemas.items() if name.endswith("RunOut"))
    error_out = next(s for name, s in schemas.items() if name.endswith("RunErrorOut"))
    assert "warnings" in run_out["properties"] and "severity" in error_out["properties"]
    enrollments = {p["name"] for p in doc["paths"][f"{ONEROSTER}/enrollments"]["get"].get("parameters", [])}
    assert "references" in enrollments
