"""The oneroster_csv connector: bundles (folder, zip), manifest modes, header tolerance, errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from connectors.oneroster_csv import OneRosterCsvConfig, OneRosterCsvConnector
from connectors.oneroster_csv.plugin import register_connectors
from hub.sdk import Connector, ConnectorKind, RawRecord, SourceDataError, StreamState

MANIFEST_12 = {"orgs": "bulk", "users": "bulk", "roles": "bulk", "userProfiles": "bulk", "enrollments": "bulk"}
ORGS = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\no1,active,,District,district,,\r\n"
USERS_12 = (
    "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,password,"
    "primaryOrgSourcedId\r\n"
    "u1,active,2025-01-01T00:00:00Z,true,jdoe,{SIS:1},John,Doe,hunter2,o1\r\n"
    "u2,active,,false,asmith,,Ann,Smith,,o1\r\n"
)
ROLES = (
    "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
    "userProfileSourcedId\r\n"
    "r1,active,,u1,primary,teacher,2025-08-01,,o1,p1\r\n"
    "r2,active,,u1,secondary,teacher,,,o2,\r\n"
    "r3,tobedeleted,,u2,primary,student,,,o1,\r\n"
)
PROFILES = (
    "sourcedId,status,dateLastModified,userSourcedId,profileType,vendorId,applicationId,description,"
    "credentialType,username,password\r\n"
    "p1,active,,u1,lms,acme,app,LMS account,username,jdoe,s3cret\r\n"
)
ENROLLMENTS = (
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\r\n"
    "e1,active,,c1,o1,u1,teacher,true,,\r\n"
    "e2,active,,c1,o1,u2,student\r\n"
    "e3,active,,c1,o1,u2,student,false,,\r\n"
    "\r\n"
)


def manifest(version: str = "1.2", modes: dict[str, str] | None = None) -> str:
    lines = ["propertyName,value", "manifest.version,1.0", f"oneroster.version,{version}"]
    lines += [f"file.{k},{v}" for k, v in (modes or {}).items()]
    return "\r\n".join(lines) + "\r\n"


def bundle(tmp_path: Path, files: dict[str, str | bytes], *, as_zip: bool = False, name: str = "b") -> Path:
    if as_zip:
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for fname, content in files.items():
                zf.writestr(fname, content if isinstance(content, bytes) else content.encode())
        return path
    folder = tmp_path / name
    folder.mkdir()
    for fname, content in files.items():
        (folder / fname).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def standard(version: str = "1.2") -> dict[str, str]:
    return {
        "manifest.csv": manifest(version, MANIFEST_12),
        "orgs.csv": ORGS,
        "users.csv": USERS_12,
        "roles.csv": ROLES,
        "userProfiles.csv": PROFILES,
        "enrollments.csv": ENROLLMENTS,
    }


async def read(path: Path, stream: str, state: StreamState | None = None) -> list[RawRecord]:
    conn = OneRosterCsvConnector(OneRosterCsvConfig(path=str(path)))
    try:
        return [r async for r in conn.read(stream, state or StreamState())]
    finally:
        await conn.aclose()


def test_plugin_registers_the_connector() -> None:
    (cls,) = register_connectors()
    assert issubclass(cls, Connector)
    assert cls.name == "oneroster_csv" and cls.kind is ConnectorKind.SIS
    assert cls.config_model is OneRosterCsvConfig
    names = [s.name for s in cls(OneRosterCsvConfig(path="x")).streams()]
    assert names == ["orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics"]


def test_config_rejects_unknown_keys_and_empty_path() -> None:
    with pytest.raises(ValueError):
        OneRosterCsvConfig(path="x", other=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        OneRosterCsvConfig(path="")


@pytest.mark.parametrize("as_zip", [False, True])
async def test_users_12_with_roles_and_profiles(tmp_path: Path, as_zip: bool) -> None:
    path = bundle(tmp_path, standard(), as_zip=as_zip)
    state = StreamState()
    u1, u2 = await read(path, "users", state)
    assert state.complete is True and state.present is True
    assert u1.ref == "users.csv:2" and u1.error is None
    assert u1.data["sourcedId"] == "u1" and u1.data["givenName"] == "John"
    assert "password" not in u1.data
    assert u1.data["middleName"] == ""  # known column absent from the file -> ""
    assert u1.data["metadata"] == {}
    assert u1.data["roles"] == [
        {"roleType": "primary", "role": "teacher", "orgSourcedId": "o1", "userProfileSourcedId": "p1",
         "beginDate": "2025-08-01", "endDate": ""},
        {"roleType": "secondary", "role": "teacher", "orgSourcedId": "o2", "userProfileSourcedId": "",
         "beginDate": "", "endDate": ""},
    ]
    assert u1.data["userProfiles"] == [
        {"sourcedId": "p1", "profileType": "lms", "vendorId": "acme", "applicationId": "app",
         "description": "LMS account", "credentialType": "username", "username": "jdoe"}
    ]
    assert all("s3cret" not in str(v) and "hunter2" not in str(v) for v in (*u1.data.values(), *u2.data.values()))
    assert u2.data["roles"] == []  # its only role is tobedeleted
    assert u2.data["userProfiles"] == []


async def test_users_11_builds_roles_from_role_and_org_columns(tmp_path: Path) -> None:
    users = (
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
        "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\r\n"
        'u1,active,,true,"o1,o2",teacher,jdoe,,John,Doe,,,j@x.org,,,,,pw\r\n'
    )
    path = bundle(tmp_path, {"manifest.csv": manifest("1.1", {"users": "bulk"}), "users.csv": users})
    (u1,) = await read(path, "users")
    data = u1.data
    assert "role" not in data and "orgSourcedIds" not in data and "password" not in data
    assert data["primaryOrgSourcedId"] == "o1"
    assert [(r["roleType"], r["role"], r["orgSourcedId"]) for r in data["roles"]] == [
        ("primary", "teacher", "o1"), ("secondary", "teacher", "o2")]
    assert data["userProfiles"] == []


async def test_bom_header_case_spaces_and_misspellings(tmp_path: Path) -> None:
    users = (
        "\ufeff SOURCEDID ,Status,dateLastModifed,enabledUser,UserName,givenname , FAMILYNAME,Password\r\n"
        "u1,active,2025-01-01,true,jdoe,John,Doe,pw\r\n"
    )
    enrollments = (
        "sourcedid,classSourceId,schoolSourceId,userSourceId,role\r\n"
        "e1,c1,o1,u1,student\r\n"
    )
    path = bundle(tmp_path, {"manifest.csv": manifest("1.2", {"users": "bulk", "enrollments": "delta"}),
                             "users.csv": users.encode("utf-8"), "enrollments.csv": enrollments})
    (u1,) = await read(path, "users")
    assert u1.data["sourcedId"] == "u1" and u1.data["givenName"] == "John" and u1.data["familyName"] == "Doe"
    assert u1.data["dateLastModified"] == "2025-01-01"
    assert "password" not in u1.data and u1.data["metadata"] == {}
    state = StreamState()
    (e1,) = await read(path, "enrollments", state)
    assert state.complete is False
    assert (e1.data["classSourcedId"], e1.data["schoolSourcedId"], e1.data["userSourcedId"]) == ("c1", "o1", "u1")


async def test_extra_columns_go_to_metadata(tmp_path: Path) -> None:
    orgs = "sourcedId,name,type,Vendor Code,metadata.region,metadata.empty\r\no1,D,district,V1,North,\r\n"
    path = bundle(tmp_path, {"manifest.csv": manifest("1.2", {"orgs": "bulk"}), "orgs.csv": orgs})
    (o1,) = await read(path, "orgs")
    assert o1.data["metadata"] == {"Vendor Code": "V1", "region": "North"}


async def test_missing_required_column_raises_before_any_record(tmp_path: Path) -> None:
    users = "sourcedId,enabledUser,givenName\r\nu1,true,John\r\n"
    path = bundle(tmp_path, {"manifest.csv": manifest("1.2", {"users": "bulk"}), "users.csv": users})
    with pytest.raises(SourceDataError) as info:
        await read(path, "users")
    assert "users.csv" in str(info.value)
    assert "familyName" in str(info.value) and "username" in str(info.value)


async def test_row_with_wrong_cell_count_is_an_error_record(tmp_path: Path) -> None:
    path = bundle(tmp_path, standard())
    records = await read(path, "enrollments")
    assert [r.ref for r in records] == ["enrollments.csv:2", "enrollments.csv:3", "enrollments.csv:4"]
    bad = records[1]
    assert bad.error == "expected 10 cells, got 7"
    assert bad.data["sourcedId"] == "e2" and bad.data["role"] == "student"
    assert records[0].error is None and records[2].error is None


async def test_manifest_absent_stream_yields_nothing(tmp_path: Path) -> None:
    path = bundle(tmp_path, {**standard(), "manifest.csv": manifest("1.2", {"orgs": "absent"}),
                             "classes.csv": "garbage"})
    state = StreamState()
    assert await read(path, "orgs", state) == []
    assert state.present is False
    state = StreamState()
    assert await read(path, "classes", state) == []  # not listed at all -> absent
    assert state.present is False


async def test_file_listed_but_missing(tmp_path: Path) -> None:
    path = bundle(tmp_path, {"manifest.csv": manifest("1.2", {"courses": "bulk"})})
    with pytest.raises(SourceDataError, match="courses.csv"):
        await read(path, "courses")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"orgs.csv": ORGS}, "manifest.csv is missing"),
        ({"manifest.csv": "propertyName,value\r\nfile.orgs,bulk\r\n", "orgs.csv": ORGS}, "oneroster.version"),
        ({"manifest.csv": manifest("2.0", {"orgs": "bulk"}), "orgs.csv": ORGS}, "unsupported oneroster.version"),
        ({"manifest.csv": manifest("1.2", {"orgs": "sometimes"}), "orgs.csv": ORGS}, "bulk, delta or absent"),
        ({"manifest.csv": b"\xff\xfe\x00bad", "orgs.csv": ORGS}, "manifest.csv is unreadable"),
    ],
)
async def test_bad_manifest(tmp_path: Path, files: dict[str, str], message: str) -> None:
    path = bundle(tmp_path, files)
    with pytest.raises(SourceDataError, match=message):
        await read(path, "orgs")
    conn = OneRosterCsvConnector(OneRosterCsvConfig(path=str(path)))
    result = await conn.check()
    assert result.ok is False and message.split()[0] in result.message


async def test_corrupt_zip_and_nonexistent_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(SourceDataError, match="not a readable zip") as info:
        await read(bad, "orgs")
    assert str(bad) in str(info.value)
    missing = tmp_path / "nope"
    with pytest.raises(SourceDataError, match="no such file or folder"):
        await read(missing, "orgs")
    result = await OneRosterCsvConnector(OneRosterCsvConfig(path=str(missing))).check()
    assert result.ok is False and str(missing) in result.message


async def test_zip_with_files_in_a_subfolder_and_odd_case(tmp_path: Path) -> None:
    files = {f"export/{('Manifest.csv' if k == 'manifest.csv' else k)}": v for k, v in standard().items()}
    path = bundle(tmp_path, files, as_zip=True)
    assert [r.data["sourcedId"] for r in await read(path, "orgs")] == ["o1"]


async def test_check_ok_and_header_problem(tmp_path: Path) -> None:
    path = bundle(tmp_path, standard())
    result = await OneRosterCsvConnector(OneRosterCsvConfig(path=str(path))).check()
    assert result.ok is True and "1.2" in result.message and result.details["files"]["users"] == "bulk"
    assert result.details["problems"] == {}
    # a header problem stops that file's stream only: the bundle is usable, the message names the file
    broken = bundle(tmp_path, {**standard(), "orgs.csv": "sourcedId,name\r\no1,D\r\n"}, name="broken")
    result = await OneRosterCsvConnector(OneRosterCsvConfig(path=str(broken))).check()
    assert result.ok is True and "orgs.csv" in result.message and "type" in result.message
    assert result.details["problems"] == {"orgs": "orgs.csv: missing required column(s): type"}


async def test_unknown_stream(tmp_path: Path) -> None:
    path = bundle(tmp_path, standard())
    with pytest.raises(SourceDataError, match="unknown stream"):
        await read(path, "lineItems")


async def fingerprint(path: Path, stream: str) -> str | None:
    conn = OneRosterCsvConnector(OneRosterCsvConfig(path=str(path)))
    try:
        return await conn.fingerprint(stream)
    finally:
        await conn.aclose()


async def test_fingerprint_follows_the_bytes_of_a_streams_files(tmp_path: Path) -> None:
    files = standard()
    folder = bundle(tmp_path, files)
    zipped = bundle(tmp_path, files, as_zip=True)
    for stream in ("orgs", "users", "enrollments"):
        value = await fingerprint(folder, stream)
        assert value is not None and value == await fingerprint(zipped, stream), stream
    assert await fingerprint(folder, "orgs") != await fingerprint(folder, "enrollments")

    changed_roles = bundle(tmp_path, {**files, "roles.csv": ROLES.replace("teacher", "aide", 1)}, name="roles")
    assert await fingerprint(changed_roles, "users") != await fingerprint(folder, "users")
    assert await fingerprint(changed_roles, "orgs") == await fingerprint(folder, "orgs")
    v11 = bundle(tmp_path, {**files, "manifest.csv": manifest("1.1", MANIFEST_12)}, name="v11")
    assert await fingerprint(v11, "orgs") != await fingerprint(folder, "orgs"), "the version is part of it"


async def test_no_fingerprint_for_delta_absent_or_unknown_streams(tmp_path: Path) -> None:
    path = bundle(tmp_path, {**standard(), "manifest.csv": manifest("1.2", {**MANIFEST_12, "orgs": "delta"})})
    assert await fingerprint(path, "orgs") is None
    assert await fingerprint(path, "courses") is None  # absent
    assert await fingerprint(path, "nonsense") is None
