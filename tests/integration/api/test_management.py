"""Sources, connectors, mappings, syncs, runs, changes and entities through a real server; secrets never leak."""

from __future__ import annotations

import logging

from api_support import SECRET_TOKEN, assert_problem, in_imports, make_bundle, wait_for_run


def _all_log_text(caplog) -> str:
    return "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)


def test_sources_crud_and_secrets_never_returned_or_logged(live_server, caplog):
    caplog.set_level(logging.DEBUG)
    srv = live_server()
    with srv.client("integrator") as c:
        created = c.post("/api/v1/sources", json={"name": "lms", "connector": "test_secret",
                                                  "config": {"url": "https://lms.example", "token": SECRET_TOKEN}})
        assert created.status_code == 201, created.text
        assert created.json()["config"] == {"url": "https://lms.example", "page_size": 100, "token": "***"}
        assert created.json()["secret_fields"] == ["token"]
        assert c.post("/api/v1/sources/lms/check").json()["ok"] is True
        patched = c.patch("/api/v1/sources/lms", json={"config": {"page_size": 5}})
        assert patched.status_code == 200 and patched.json()["config"]["page_size"] == 5
        assert c.post("/api/v1/sources/lms/check").json()["ok"] is True  # the secret was kept
        replaced = c.put("/api/v1/sources/lms", json={"config": {"url": "https://x", "token": "other"}, "enabled": False})
        assert replaced.status_code == 200 and replaced.json()["enabled"] is False
        assert c.post("/api/v1/sources/lms/check").json()["ok"] is False
        texts = [c.get("/api/v1/sources").text, c.get("/api/v1/sources/lms").text, created.text, patched.text]
        dup = c.post("/api/v1/sources", json={"name": "lms", "connector": "test_secret",
                                              "config": {"url": "u", "token": SECRET_TOKEN}})
        assert_problem(dup, 409)
        bad = c.post("/api/v1/sources", json={"name": "x", "connector": "test_secret",
                                              "config": {"url": "", "token": SECRET_TOKEN, "nope": 1}})
        body = assert_problem(bad, 422)
        assert {e["field"] for e in body["errors"]} == {"config.url", "config.nope"}
        texts.append(bad.text)
        unknown = c.post("/api/v1/sources", json={"name": "y", "connector": "nope", "config": {}})
        assert assert_problem(unknown, 422)["errors"][0]["field"] == "connector"
        assert c.delete("/api/v1/sources/lms").status_code == 204
        assert_problem(c.get("/api/v1/sources/lms"), 404)
    assert all(SECRET_TOKEN not in t for t in texts)
    everything = _all_log_text(caplog)
    assert SECRET_TOKEN not in everything
    assert all(cr.secret not in everything for cr in srv.creds.values())


def test_connectors_catalogue_marks_secrets_write_only(live_server):
    srv = live_server()
    with srv.client("reader") as c:
        catalogue = {x["name"]: x for x in c.get("/api/v1/connectors").json()}
        schema = catalogue["test_secret"]["config_schema"]
        assert schema["properties"]["token"]["writeOnly"] is True
        assert "writeOnly" not in schema["properties"]["url"]
        assert "oneroster_csv" in catalogue
        assert any(s["name"] == "users" and s["mapped"] for s in catalogue["oneroster_csv"]["streams"])
        assert c.get("/api/v1/connectors/test_secret").json()["name"] == "test_secret"
        assert_problem(c.get("/api/v1/connectors/none"), 404)


def test_reader_is_read_only_and_only_admin_manages_tenants(live_server):
    srv = live_server()
    with srv.client("reader") as c:
        assert c.get("/api/v1/sources").status_code == 200
        assert_problem(c.post("/api/v1/sources", json={"name": "a", "connector": "oneroster_csv",
                                                       "config": {"path": "x"}}), 403)
        assert_problem(c.post("/api/v1/mappings/check"), 403)
        assert_problem(c.get("/api/v1/tenants"), 403)
    with srv.client("integrator") as c:
        assert_problem(c.get("/api/v1/tenants"), 403)
        assert_problem(c.post("/api/v1/tenants", json={"slug": "gamma"}), 403)
    with srv.client("admin") as c:
        assert c.post("/api/v1/tenants", json={"slug": "gamma", "name": "Gamma"}).status_code == 201
        assert "gamma" in [t["slug"] for t in c.get("/api/v1/tenants").json()]
        assert c.get("/api/v1/tenants/gamma").json()["name"] == "Gamma"
        assert_problem(c.post("/api/v1/tenants", json={"slug": "gamma"}), 409)
        assert_problem(c.post("/api/v1/tenants", json={"slug": "Bad Slug"}), 400)


def test_sync_through_the_api(live_server, tmp_path):
    bundle = make_bundle(in_imports("alpha", "bundle"), users=50)
    srv = live_server()
    with srv.client("integrator") as c:
        assert c.post("/api/v1/sources", json={"name": "sis", "connector": "oneroster_csv",
                                               "config": {"path": bundle.name}}).status_code == 201
        dry = c.post("/api/v1/sources/sis/sync", params={"dry_run": "true"})
        assert dry.status_code == 202 and dry.json()["dry_run"] is True
        dry_run = wait_for_run(c, dry.json()["run_id"])
        assert dry_run["status"] == "succeeded" and dry_run["created"] > 0, dry_run
        assert c.get("/api/v1/changes").json()["items"] == []  # a dry run writes nothing
        started = c.post("/api/v1/sources/sis/sync")
        assert started.status_code == 202 and started.headers["location"] == started.json()["href"]
        run = wait_for_run(c, started.json()["run_id"])
        assert run["status"] == "succeeded", run
        assert run["created"] > 50
        errors = c.get(f"/api/v1/runs/{run['id']}/errors", params={"limit": 5}).json()
        assert errors["total"] == run["errors"] and len(errors["items"]) <= 5
        runs = c.get("/api/v1/runs", params={"source": "sis"}).json()
        assert [r["id"] for r in runs][:2] == [run["id"], dry_run["id"]]
        page = c.get("/api/v1/changes", params={"after": 0, "limit": 10, "types": "User"}).json()
        assert len(page["items"]) == 10 and {i["type"] for i in page["items"]} == {"User"}
        assert page["next"] == page["items"][-1]["seq"]
        following = c.get("/api/v1/changes", params={"after": page["next"], "limit": 10}).json()
        assert following["items"][0]["seq"] > page["next"]
        users = c.get("/api/v1/entities/User", params={"limit": 7}).json()
        assert users["total"] >= 50 and len(users["items"]) == 7
        one = users["items"][0]
        assert c.get(f"/api/v1/entities/User/{one['id']}").json()["data"] == one["data"]
        assert_problem(c.get("/api/v1/entities/NoSuchType"), 404)
        mappings = c.get("/api/v1/mappings").json()
        assert any(m["connector"] == "oneroster_csv" and m["stream"] == "users" for m in mappings)
        check = c.post("/api/v1/mappings/check").json()
        assert check["checked"] > 0 and check["ok"] is (not check["problems"])
        assert not [p for p in check["problems"] if "oneroster_csv" in p], check
        preview = c.get("/api/v1/mappings/oneroster_csv/users/preview", params={"source": "sis", "limit": 3}).json()
        assert preview["target"] == "User" and len(preview["rows"]) == 3 and preview["rows"][0]["ok"]


def test_pagination_is_capped(live_server, tmp_path):
    bundle = make_bundle(in_imports("alpha", "bundle"), users=30)
    srv = live_server(env={"FEDIFLOW_API__MAX_PAGE_SIZE": "10"})
    with srv.client("admin") as c:
        c.post("/api/v1/sources", json={"name": "sis", "connector": "oneroster_csv", "config": {"path": bundle.name}})
        wait_for_run(c, c.post("/api/v1/sources/sis/sync").json()["run_id"])
        assert len(c.get("/api/v1/changes", params={"limit": 5000}).json()["items"]) == 10
        page = c.get("/api/v1/entities/User", params={"limit": 5000}).json()
        assert page["limit"] == 10 and len(page["items"]) == 10
