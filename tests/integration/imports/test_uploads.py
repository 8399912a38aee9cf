"""HTTPS upload of a bundle: streamed to the tenant's import directory, capped, checked, hashed, logged."""

from __future__ import annotations

import hashlib
import zlib

from api_support import assert_problem, wait_for_run
from imports_support import bundle_zip, zip_with


def _source(c, name: str = "sis", path: str = "roster.zip") -> None:
    resp = c.post("/api/v1/sources", json={"name": name, "connector": "oneroster_csv", "config": {"path": path}})
    assert resp.status_code == 201, resp.text


def _leftovers(root) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.name.startswith(".upload-"))


def test_upload_lands_on_the_source_path_is_logged_and_syncs(live_server, imports_root, tmp_path):
    data = bundle_zip(tmp_path / "export.zip", users=25).read_bytes()
    srv = live_server()
    with srv.client("integrator") as c:
        _source(c)
        resp = c.post("/api/v1/sources/sis/uploads", params={"sync": "true", "filename": "export.zip"}, content=data,
                      headers={"Content-Type": "application/zip"})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["size"] == len(data)
        assert body["path"] == "roster.zip" and body["file_name"] == "export.zip" and body["channel"] == "api"
        assert body["uploaded_by"] == srv.creds["integrator"].client_id
        assert (imports_root / "alpha" / "roster.zip").read_bytes() == data
        assert resp.headers["location"] == f"/api/v1/runs/{body['run_id']}"
        run = wait_for_run(c, body["run_id"])
        assert run["status"] == "succeeded" and run["created"] > 25 and not run["dry_run"], run
        listed = c.get("/api/v1/sources/sis/uploads").json()
        assert [(u["id"], u["sha256"], u["run_id"]) for u in listed] == [(body["id"], body["sha256"], run["id"])]
        # a dry run on arrival writes nothing
        again = c.post("/api/v1/sources/sis/uploads", params={"dry_run": "true"}, content=data).json()
        dry = wait_for_run(c, again["run_id"])
        assert dry["dry_run"] is True and dry["status"] == "succeeded"
        assert _leftovers(imports_root) == []


def test_upload_points_a_folder_source_at_its_zip(live_server, imports_root, tmp_path):
    data = bundle_zip(tmp_path / "export.zip").read_bytes()
    (imports_root / "alpha" / "folder").mkdir(parents=True)
    srv = live_server()
    with srv.client("integrator") as c:
        _source(c, path="folder")
        assert c.post("/api/v1/sources/sis/uploads", content=data).status_code == 201
        assert c.get("/api/v1/sources/sis").json()["config"]["path"] == "sis.zip"
        assert (imports_root / "alpha" / "sis.zip").read_bytes() == data
        assert c.post("/api/v1/sources/sis/check").json()["ok"] is True


def test_uploads_are_not_held_to_the_json_body_limit(live_server, imports_root, tmp_path):
    data = bundle_zip(tmp_path / "export.zip", users=30).read_bytes()
    assert len(data) > 4096
    srv = live_server(env={"FEDIFLOW_API__REQUEST_MAX_BODY_BYTES": "4096"})
    with srv.client("integrator") as c:
        _source(c)
        assert c.post("/api/v1/sources/sis/uploads", content=data).status_code == 201
        assert (imports_root / "alpha" / "roster.zip").read_bytes() == data


def test_too_large_is_413_streamed_or_declared(live_server, imports_root, tmp_path):
    data = bundle_zip(tmp_path / "export.zip", users=40).read_bytes()
    srv = live_server(env={"FEDIFLOW_IMPORTS__MAX_UPLOAD_BYTES": str(len(data) - 1)})
    with srv.client("integrator") as c:
        _source(c)
        assert_problem(c.post("/api/v1/sources/sis/uploads", content=data), 413)

        def chunks():  # no Content-Length: the cap is enforced while streaming
            for i in range(0, len(data), 1000):
                yield data[i:i + 1000]

        body = assert_problem(c.post("/api/v1/sources/sis/uploads", content=chunks()), 413)
        assert body["type"].endswith("upload-too-large")
        assert not (imports_root / "alpha" / "roster.zip").exists() and _leftovers(imports_root) == []
        assert c.get("/api/v1/sources/sis/uploads").json() == []


def test_unsafe_zips_are_refused_and_nothing_is_written(live_server, imports_root, tmp_path):
    manifest = b"propertyName,value\noneroster.version,1.2\n"
    bomb = tmp_path / "bomb.zip"
    import zipfile

    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.csv", manifest)
        zf.writestr("users.csv", b"\0" * (8 * 1024 * 1024))  # compresses ~1000:1
    cases = {
        "slip": zip_with(tmp_path / "slip.zip", {"manifest.csv": manifest, "../../escaped.csv": b"x"}),
        "absolute": zip_with(tmp_path / "abs.zip", {"/tmp/escaped.csv": b"x"}),
        "drive": zip_with(tmp_path / "drive.zip", {"C:\\escaped.csv": b"x"}),
        "symlink": zip_with(tmp_path / "link.zip", {"manifest.csv": manifest}, symlink="users.csv"),
        "bomb": bomb,
        "garbage": tmp_path / "garbage.zip",
    }
    cases["garbage"].write_bytes(zlib.compress(b"not a zip" * 100))
    srv = live_server(env={"FEDIFLOW_IMPORTS__MAX_COMPRESSION_RATIO": "100"})
    with srv.client("integrator") as c:
        _source(c)
        for name, path in cases.items():
            body = assert_problem(c.post("/api/v1/sources/sis/uploads", params={"sync": "true"},
                                         content=path.read_bytes()), 422)
            assert body["type"].endswith("upload-refused"), (name, body)
        assert not (imports_root / "alpha" / "roster.zip").exists() and _leftovers(imports_root) == []
        assert not list(tmp_path.rglob("escaped.csv")) and not list(imports_root.rglob("escaped.csv"))
        assert c.get("/api/v1/runs").json() == []
    srv2_env = {"FEDIFLOW_IMPORTS__MAX_UNCOMPRESSED_BYTES": "1048576", "FEDIFLOW_IMPORTS__MAX_COMPRESSION_RATIO": "10000"}
    srv2 = live_server(env=srv2_env)
    with srv2.client("integrator") as c:
        body = assert_problem(c.post("/api/v1/sources/sis/uploads", content=bomb.read_bytes()), 422)
        assert "unpacks to more than" in body["detail"]


def test_uploads_are_tenant_scoped_and_documented(live_server, imports_root, tmp_path):
    data = bundle_zip(tmp_path / "export.zip").read_bytes()
    srv = live_server()
    with srv.client("integrator") as a:
        _source(a)
        assert a.post("/api/v1/sources/sis/uploads", content=data).status_code == 201
    with srv.client("integrator_b") as b:
        assert_problem(b.post("/api/v1/sources/sis/uploads", content=data), 404)
        assert_problem(b.get("/api/v1/sources/sis/uploads"), 404)
        _source(b, name="own")
        assert b.get("/api/v1/sources/own/uploads").json() == []
    with srv.client("reader") as r:
        assert_problem(r.post("/api/v1/sources/sis/uploads", content=data), 403)
        assert len(r.get("/api/v1/sources/sis/uploads").json()) == 1
    assert not (imports_root / "beta" / "roster.zip").exists()
    with srv.http() as anonymous:
        spec = anonymous.get("/schema/openapi.json").json()
    op = spec["paths"]["/api/v1/sources/{name}/uploads"]["post"]
    assert op["requestBody"]["content"]["application/zip"]["schema"]["format"] == "binary"
    assert {"201", "413", "422", "409"} <= set(op["responses"])
    assert {p["name"] for p in op["parameters"]} >= {"sync", "dry_run", "filename"}
    assert "get" in spec["paths"]["/api/v1/sources/{name}/uploads"]
