"""File sources created through the API stay inside the tenant's import directory, and the API is no oracle
on server paths: absolute paths, ``..`` and symlinks leading out get one answer, whether the path exists or not."""

from __future__ import annotations

import os

from api_support import assert_problem, wait_for_run
from imports_support import bundle_zip

from hub.imports import OUTSIDE_MESSAGE


def _create(c, name: str, path: str):
    return c.post("/api/v1/sources", json={"name": name, "connector": "oneroster_csv", "config": {"path": path}})


def test_paths_outside_the_tenant_dir_are_refused_alike(live_server, imports_root, tmp_path):
    beta_bundle = bundle_zip(imports_root / "beta" / "roster.zip", seed=3)
    (imports_root / "alpha").mkdir(parents=True)
    os.symlink(imports_root / "beta", imports_root / "alpha" / "to-beta")
    os.symlink(tmp_path / "nowhere", imports_root / "alpha" / "dangling-out")
    srv = live_server()
    with srv.client("integrator") as c:
        details = set()
        for path in (str(beta_bundle), str(imports_root / "beta" / "missing.zip"), "/etc/passwd", "/no/such/file",
                     "../beta/roster.zip", "../beta/missing.zip", "to-beta/roster.zip", "to-beta/missing.zip",
                     "dangling-out", "sub/../../beta/roster.zip", "~/x.zip", "C:\\x.zip"):
            body = assert_problem(_create(c, "sis", path), 422)
            assert body["type"].endswith("path-refused"), body
            details.add(body["detail"])
        assert len(details) == 1  # the same answer whether the target exists or not
        assert str(imports_root) not in details.pop()
        # updates are confined the same way
        assert _create(c, "sis", "roster.zip").status_code == 201
        assert_problem(c.put("/api/v1/sources/sis", json={"config": {"path": str(beta_bundle)}}), 422)
        assert_problem(c.patch("/api/v1/sources/sis", json={"config": {"path": "../beta/roster.zip"}}), 422)
        assert c.get("/api/v1/sources/sis").json()["config"]["path"] == "roster.zip"


def test_inside_paths_work_and_are_shown_relative(live_server, imports_root):
    bundle_zip(imports_root / "alpha" / "drop" / "roster.zip", users=15)
    srv = live_server()
    with srv.client("integrator") as c:
        created = _create(c, "sis", "drop/./roster.zip")
        assert created.status_code == 201, created.text
        assert created.json()["config"]["path"] == "drop/roster.zip"
        check = c.post("/api/v1/sources/sis/check").json()
        assert check["ok"] is True
        assert str(imports_root) not in check["message"] and str(imports_root) not in str(check["details"])
        run = wait_for_run(c, c.post("/api/v1/sources/sis/sync").json()["run_id"])
        assert run["status"] == "succeeded", run
        # a patch that leaves the path alone keeps it; a path to a file not there yet is fine (SFTP drops it later)
        assert c.patch("/api/v1/sources/sis", json={"enabled": True}).json()["config"]["path"] == "drop/roster.zip"
        assert _create(c, "later", "not-yet.zip").status_code == 201
        missing = c.post("/api/v1/sources/later/check").json()
        assert missing["ok"] is False and missing["message"] != OUTSIDE_MESSAGE
        assert "not-yet.zip" in missing["message"] and str(imports_root) not in missing["message"]


def test_host_set_outside_paths_are_no_oracle_through_the_api(live_server, imports_root, tmp_path):
    """The host's CLI may name any path; through the API, what fails there fails with one message."""
    not_a_zip = tmp_path / "secret.zip"
    not_a_zip.write_text("not a zip at all")
    real = bundle_zip(tmp_path / "real.zip", users=10)

    async def prepare(hub):
        tenant = await hub.store.tenant("alpha")
        cls = hub.plugins.connector("oneroster_csv")
        for name, path in (("missing", tmp_path / "missing.zip"), ("garbage", not_a_zip), ("real", real)):
            await tenant.add_source(name, "oneroster_csv", tenant.validate_config(cls.config_model, {"path": str(path)}))

    srv = live_server(prepare=prepare)
    with srv.client("integrator") as c:
        missing = c.post("/api/v1/sources/missing/check").json()
        garbage = c.post("/api/v1/sources/garbage/check").json()
        assert missing == garbage == {"ok": False, "message": OUTSIDE_MESSAGE, "details": {}}
        assert c.post("/api/v1/sources/real/check").json()["ok"] is True  # the host's own choice works
        previews = [assert_problem(c.get("/api/v1/mappings/oneroster_csv/users/preview", params={"source": s}), 422)
                    for s in ("missing", "garbage")]
        assert previews[0]["detail"] == previews[1]["detail"] == OUTSIDE_MESSAGE
        # a patch that does not touch the path keeps the host's path
        assert c.patch("/api/v1/sources/real", json={"enabled": True}).status_code == 200
        assert c.post("/api/v1/sources/real/check").json()["ok"] is True
