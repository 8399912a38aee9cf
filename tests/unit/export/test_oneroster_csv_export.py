"""hub.export.write_bundle: OneRoster CSV bundles from canonical records."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import hub.export
from connectors.oneroster_csv import OneRosterCsvConfig, OneRosterCsvConnector
from hub.errors import ConfigurationError
from hub.export import write_bundle
from hub.sdk import RawRecord, StreamState

ORG = {"sourcedId": "o1", "status": "active", "dateLastModified": "2025-08-01T12:00:00Z", "name": "District",
       "type": "district", "metadata": {"region": "North"}}
SCHOOL = {"sourcedId": "s1", "status": "active", "name": "School, One", "type": "school",
          "parent": {"sourcedId": "o1", "type": "org"}}
USER = {
    "sourcedId": "u1", "status": "active", "dateLastModified": "2025-08-01T12:00:00Z", "username": "jdoe",
    "userIds": [{"type": "SIS", "identifier": "1"}, {"type": "LDAP", "identifier": "jd"}], "enabledUser": True,
    "givenName": "John", "familyName": "Doe", "preferredFirstName": "Johnny",
    "roles": [{"roleType": "primary", "role": "teacher", "org": {"sourcedId": "s1", "type": "org"},
               "userProfile": "p1", "beginDate": "2025-08-20"},
              {"roleType": "secondary", "role": "teacher", "org": {"sourcedId": "o1", "type": "org"}}],
    "userProfiles": [{"profileId": "p1", "profileType": "lms", "vendorId": "acme",
                      "credentials": [{"type": "username", "username": "jdoe", "password": "never"}]}],
    "primaryOrg": {"sourcedId": "s1", "type": "org"}, "grades": ["09", "10"],
    "agents": [{"sourcedId": "g1", "type": "user"}], "password": "never", "metadata": {"homeroom": "HR-1"},
}
ENROLLMENT = {"sourcedId": "e1", "status": "active", "user": {"sourcedId": "u1", "type": "user"},
              "class": {"sourcedId": "c1", "type": "class"}, "school": {"sourcedId": "s1", "type": "org"},
              "role": "teacher", "primary": True}


async def read_all(path: Path, stream: str) -> tuple[list[RawRecord], StreamState]:
    conn = OneRosterCsvConnector(OneRosterCsvConfig(path=str(path)))
    state = StreamState()
    try:
        return [r async for r in conn.read(stream, state)], state
    finally:
        await conn.aclose()


def test_public_surface() -> None:
    assert hub.export.__all__ == ["MANIFEST_FILES", "ExportResult", "export_tenant_oneroster_csv", "staged_bundle",
                                  "write_bundle", "write_manifest"]


@pytest.mark.parametrize("name", ["out", "out.zip"])
async def test_write_and_read_back(tmp_path: Path, name: str) -> None:
    result = write_bundle(tmp_path / name, {"Org": [ORG, SCHOOL], "User": iter([USER]),
                                            "Enrollment": (e for e in [ENROLLMENT])})
    assert result.counts == {"orgs": 2, "users": 1, "roles": 2, "userProfiles": 1, "enrollments": 1}
    assert result.path.is_dir() == (name == "out")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch left
    orgs, state = await read_all(result.path, "orgs")
    assert state.complete is True
    assert orgs[0].data["metadata"] == {"region": "North"} and orgs[1].data["metadata"] == {}
    assert orgs[1].data["name"] == "School, One" and orgs[1].data["parentSourcedId"] == "o1"
    (user,), _ = await read_all(result.path, "users")
    data = user.data
    assert data["userIds"] == "{SIS:1},{LDAP:jd}" and data["enabledUser"] == "true"
    assert data["preferredGivenName"] == "Johnny" and data["grades"] == "09,10"
    assert data["agentSourcedIds"] == "g1" and data["primaryOrgSourcedId"] == "s1"
    assert data["metadata"] == {"homeroom": "HR-1"}
    assert [(r["roleType"], r["orgSourcedId"], r["userProfileSourcedId"], r["beginDate"]) for r in data["roles"]] == [
        ("primary", "s1", "p1", "2025-08-20"), ("secondary", "o1", "", "")]
    assert data["userProfiles"] == [{"sourcedId": "p1", "profileType": "lms", "vendorId": "acme",
                                     "applicationId": "", "description": "", "credentialType": "username",
                                     "username": "jdoe"}]
    (enr,), _ = await read_all(result.path, "enrollments")
    assert (enr.data["classSourcedId"], enr.data["primary"]) == ("c1", "true")
    _, state = await read_all(result.path, "classes")
    assert state.present is False


def test_passwords_are_never_written(tmp_path: Path) -> None:
    result = write_bundle(tmp_path / "out.zip", {"User": [USER]})
    with zipfile.ZipFile(result.path) as zf:
        for member in zf.namelist():
            content = zf.read(member).decode()
            assert "never" not in content and "password" not in content.lower(), member


def test_manifest_bulk_or_absent(tmp_path: Path) -> None:
    result = write_bundle(tmp_path / "out", lambda type_name: [] if type_name == "Course" else None)
    manifest = (result.path / "manifest.csv").read_text()
    assert "oneroster.version,1.2" in manifest
    assert "file.courses,bulk" in manifest and "file.users,absent" in manifest
    assert (result.path / "courses.csv").read_text().startswith("sourcedId,status,dateLastModified,")
    assert not (result.path / "users.csv").exists()


def test_metadata_keys_found_late_get_columns(tmp_path: Path) -> None:
    orgs = [{"sourcedId": "a", "name": "A", "type": "school"},
            {"sourcedId": "b", "name": "B", "type": "school", "metadata": {"x": "1"}},
            {"sourcedId": "c", "name": "C", "type": "school", "metadata": {"y": "2", "x": "3"}}]
    result = write_bundle(tmp_path / "out", {"Org": orgs})
    lines = (result.path / "orgs.csv").read_text().splitlines()
    assert lines[0].endswith(",metadata.x,metadata.y")
    assert all(line.count(",") == lines[0].count(",") for line in lines)


async def test_version_11(tmp_path: Path) -> None:
    result = write_bundle(tmp_path / "out11", {"User": [USER]}, version="1.1")
    assert set(result.counts) == {"users"}
    (user,), _ = await read_all(result.path, "users")
    assert [(r["roleType"], r["role"], r["orgSourcedId"]) for r in user.data["roles"]] == [
        ("primary", "teacher", "s1"), ("secondary", "teacher", "o1")]
    with pytest.raises(ConfigurationError):
        write_bundle(tmp_path / "bad", {}, version="3.0")


@pytest.mark.parametrize("name", ["out", "out.zip"])
def test_failure_mid_write_leaves_nothing(tmp_path: Path, name: str) -> None:
    def users() -> Iterator[Mapping[str, Any]]:
        yield USER
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_bundle(tmp_path / name, {"Org": [ORG], "User": users()})
    assert list(tmp_path.iterdir()) == []
    # an earlier bundle at the target stays as it was
    first = write_bundle(tmp_path / name, {"Org": [ORG]})
    before = sorted(p.name for p in first.path.iterdir()) if first.path.is_dir() else first.path.read_bytes()
    with pytest.raises(RuntimeError):
        write_bundle(tmp_path / name, {"Org": [ORG], "User": users()})
    after = sorted(p.name for p in first.path.iterdir()) if first.path.is_dir() else first.path.read_bytes()
    assert before == after
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_one_manifest_writer_for_the_exporter_and_the_demo_generator(tmp_path: Path) -> None:
    from hub.demo import generate_bundle
    from hub.export import MANIFEST_FILES, write_manifest

    write_manifest(tmp_path, "1.2", ["users"], system_name="S", system_code="s")
    rows = (tmp_path / "manifest.csv").read_text(encoding="utf-8").splitlines()
    assert rows[:3] == ["propertyName,value", "manifest.version,1.0", "oneroster.version,1.2"]
    assert len(rows) == 3 + len(MANIFEST_FILES["1.2"]) + 2 and "file.users,bulk" in rows and "file.orgs,absent" in rows
    assert rows[-2:] == ["source.systemName,S", "source.systemCode,s"]
    demo = generate_bundle(tmp_path / "demo", users=20)
    lines = (demo.path / "manifest.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in lines] == [line.split(",")[0] for line in rows]
    assert lines[-1] == "source.systemCode,fediflow-generate"
