"""Source options and cross-source links through a real server (docs/identity.md), on both databases:
options set and shown through the management API, each record's source and links in
/api/v1/entities, and the OneRoster API listing one record per linked group with references
rewritten to the record it shows."""

from __future__ import annotations

from api_support import assert_problem, in_imports, make_bundle, wait_for_run

OR = "/ims/oneroster/rostering/v1p2"


def _sync(c, name: str) -> dict:
    run = wait_for_run(c, c.post(f"/api/v1/sources/{name}/sync").json()["run_id"])
    assert run["status"] == "succeeded", run
    return run


def test_options_links_and_what_oneroster_shows(live_server):
    bundle = make_bundle(in_imports("alpha", "bundle"), users=30, seed=7)
    srv = live_server()
    with srv.client("admin") as c:
        sis = c.post("/api/v1/sources", json={"name": "sis", "connector": "oneroster_csv", "config": {"path": bundle.name},
                                             "options": {"precedence": 10}})
        assert sis.status_code == 201, sis.text
        assert sis.json()["options"] == {"id_prefix": "", "precedence": 10, "references": "warn"}
        lms = c.post("/api/v1/sources", json={"name": "lms", "connector": "oneroster_csv", "config": {"path": bundle.name}})
        assert lms.json()["options"]["id_prefix"] == "lms:"
        bad = c.patch("/api/v1/sources/lms", json={"options": {"references": "sometimes"}})
        assert_problem(bad, 400 if bad.status_code == 400 else 422)
        bad = c.patch("/api/v1/sources/lms", json={"options": {"id_prefix": "has space"}})
        assert_problem(bad, 422)
        _sync(c, "sis")
        _sync(c, "lms")

        users = c.get(f"{OR}/users", params={"limit": 1000})
        assert users.status_code == 200
        shown = [u["sourcedId"] for u in users.json()["users"]]
        assert shown and not any(s.startswith("lms:") for s in shown), "one record per linked person: the sis one"
        assert int(users.headers["x-total-count"]) == len(shown)
        # the lms records stay readable by their own sourcedId
        assert c.get(f"{OR}/users/lms:{shown[0]}").status_code == 200

        entity = c.get(f"/api/v1/entities/User/{shown[0]}").json()
        assert entity["source"] == "sis"
        assert [(x["id"], x["source"], x["primary"]) for x in entity["links"]] == [
            (shown[0], "sis", True), (f"lms:{shown[0]}", "lms", False)]

        # an lms enrollment refers to lms users; shown, it refers to the linked sis user
        enrollments = c.get(f"{OR}/enrollments", params={"limit": 1000}).json()["enrollments"]
        lms_enrollment = next(e for e in enrollments if e["sourcedId"].startswith("lms:"))
        assert not lms_enrollment["user"]["sourcedId"].startswith("lms:")
        assert lms_enrollment["user"]["href"].endswith(f"/users/{lms_enrollment['user']['sourcedId']}")

        # precedence: the lms wins after the next sync
        patched = c.patch("/api/v1/sources/lms", json={"options": {"precedence": 1}})
        assert patched.status_code == 200 and patched.json()["options"]["precedence"] == 1
        _sync(c, "sis")
        shown = [u["sourcedId"] for u in c.get(f"{OR}/users", params={"limit": 1000}).json()["users"]]
        assert shown and all(s.startswith("lms:") for s in shown)
