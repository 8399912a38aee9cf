"""hub.demo: deterministic, realistic OneRoster bundles and their mutations."""

from __future__ import annotations

import csv
import hashlib
import zipfile
from pathlib import Path

import pytest

from connectors.oneroster_csv import OneRosterCsvConfig, OneRosterCsvConnector
from hub.demo import generate_bundle, mutate_bundle
from hub.errors import ConfigurationError
from hub.sdk import StreamState


def digest(path: Path) -> dict[str, str]:
    if path.is_dir():
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}
    return {"zip": hashlib.sha256(path.read_bytes()).hexdigest()}


def rows(path: Path, name: str) -> list[dict[str, str]]:
    with (path / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("as_zip", [False, True])
def test_same_seed_same_bytes(tmp_path: Path, as_zip: bool) -> None:
    suffix = ".zip" if as_zip else ""
    a = generate_bundle(tmp_path / f"a{suffix}", 1200, seed=7, zip=as_zip)
    b = generate_bundle(tmp_path / f"b{suffix}", 1200, seed=7, zip=as_zip)
    c = generate_bundle(tmp_path / f"c{suffix}", 1200, seed=8, zip=as_zip)
    assert digest(a.path) == digest(b.path)
    assert digest(a.path) != digest(c.path)
    assert a.counts == b.counts


def test_counts_and_shape_12(tmp_path: Path) -> None:
    stats = generate_bundle(tmp_path / "g", 2000, seed=1)
    assert stats.users == 2000 and stats.version == "1.2"
    assert 5.3 <= stats.enrollments / stats.users <= 6.3
    users = rows(stats.path, "users")
    assert len(users) == 2000 and len({u["sourcedId"] for u in users}) == 2000
    orgs = rows(stats.path, "orgs")
    assert [o["type"] for o in orgs].count("school") == 4 and orgs[0]["type"] == "district"
    roles = rows(stats.path, "roles")
    by_role: dict[str, int] = {}
    for r in roles:
        if r["roleType"] == "primary":
            by_role[r["role"]] = by_role.get(r["role"], 0) + 1
    assert sum(by_role.values()) == 2000
    assert 15 <= by_role["student"] / by_role["teacher"] <= 25
    assert by_role["districtAdministrator"] == 2 and by_role["principal"] == 4
    assert len(rows(stats.path, "demographics")) == by_role["student"]
    assert all(u["password"] == "" for u in users)
    assert {"metadata.homeroom", "x-sis-id"} <= set(users[0])
    manifest = (stats.path / "manifest.csv").read_text()
    assert "oneroster.version,1.2" in manifest and "file.roles,bulk" in manifest


def test_version_11_and_guardians(tmp_path: Path) -> None:
    stats = generate_bundle(tmp_path / "g11.zip", 600, seed=3, version="1.1", zip=True, guardians=True)
    with zipfile.ZipFile(stats.path) as zf:
        names = set(zf.namelist())
        assert "roles.csv" not in names and "userProfiles.csv" not in names
        header = zf.read("users.csv").decode().splitlines()[0]
        assert header.startswith("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,")
        assert b"guardian" in zf.read("users.csv")
        assert b"oneroster.version,1.1" in zf.read("manifest.csv")


async def test_generated_bundle_reads_cleanly(tmp_path: Path) -> None:
    stats = generate_bundle(tmp_path / "g.zip", 800, seed=2, zip=True)
    conn = OneRosterCsvConnector(OneRosterCsvConfig(path=str(stats.path)))
    assert (await conn.check()).ok
    for stream in ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics"):
        records = [r async for r in conn.read(stream, StreamState())]
        assert all(r.error is None for r in records), stream
        assert len(records) == stats.counts[stream]
        if stream == "users":
            assert all(r.data["roles"] for r in records)
            assert records[-1].data["metadata"]["homeroom"].startswith("HR-")
    await conn.aclose()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        generate_bundle(tmp_path / "x", 10, version="2.0")
    with pytest.raises(ConfigurationError):
        generate_bundle(tmp_path / "x", 0)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("dst_name", ["m", "m.zip"])
def test_mutate_bundle(tmp_path: Path, dst_name: str) -> None:
    src = generate_bundle(tmp_path / "src.zip", 1000, seed=4, zip=True).path
    result = mutate_bundle(src, tmp_path / dst_name, change_pct=10, delete_pct=5, seed=9)
    again = mutate_bundle(src, tmp_path / f"again-{dst_name}", change_pct=10, delete_pct=5, seed=9)
    assert digest(result.path) == digest(again.path)
    assert 50 <= len(result.changed) <= 150 and 20 <= len(result.deleted) <= 90
    assert not result.changed & result.deleted
    assert result.counts["users"] == 1000 - len(result.deleted)
    folder = result.path
    if dst_name.endswith(".zip"):
        folder = tmp_path / "unzipped"
        with zipfile.ZipFile(result.path) as zf:
            zf.extractall(folder)
    users = {u["sourcedId"]: u for u in rows(folder, "users")}
    assert not result.deleted & set(users)
    changed = next(iter(sorted(result.changed)))
    assert users[changed]["dateLastModified"] == "2025-09-15T08:30:00.000Z"
    for name in ("enrollments", "roles", "userProfiles"):
        assert not {r["userSourcedId"] for r in rows(folder, name)} & result.deleted
    assert not {r["sourcedId"] for r in rows(folder, "demographics")} & result.deleted
