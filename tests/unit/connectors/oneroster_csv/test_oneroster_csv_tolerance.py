"""What real SIS exports get wrong that the connector reads anyway, each time with a warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from test_oneroster_csv_connector import bundle, manifest

from connectors.oneroster_csv import OneRosterCsvConfig, OneRosterCsvConnector
from hub.sdk import RawRecord, StreamState

USERS = "sourcedId,status,enabledUser,username,givenName,familyName\r\n"
ROLES = "sourcedId,status,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId\r\n"


async def read(path: Path, stream: str, **config: Any) -> list[RawRecord]:
    connector = OneRosterCsvConnector(OneRosterCsvConfig(path=str(path), **config))
    try:
        return [record async for record in connector.read(stream, StreamState())]
    finally:
        await connector.aclose()


async def test_enum_values_in_another_case_are_read_with_a_warning(tmp_path: Path) -> None:
    files = {
        "manifest.csv": manifest("1.2", {"users": "bulk", "roles": "bulk"}),
        "users.csv": USERS + "u1,Active,true,a,A,B\r\nu2,INACTIVE,true,b,A,B\r\nu3,active,true,c,A,B\r\n",
        "roles.csv": ROLES + "r1,active,u1,Primary,Teacher,,,o1\r\nr3,active,u3,primary,teacher,,,o1\r\n",
    }
    u1, u2, u3 = await read(bundle(tmp_path, files), "users")
    assert u1.data["status"] == "active"
    assert (u1.data["roles"][0]["roleType"], u1.data["roles"][0]["role"]) == ("primary", "teacher")
    assert [f for f, _ in u1.warnings] == ["status", "roles[0].roleType", "roles[0].role"]
    assert "'Active' read as 'active'" in u1.warnings[0][1]
    assert u2.data["status"] == "tobedeleted" and "inactive" in u2.warnings[0][1]
    assert u3.warnings == ()


async def test_an_unknown_enum_value_is_left_for_the_mapping(tmp_path: Path) -> None:
    files = {"manifest.csv": manifest("1.2", {"users": "bulk"}), "users.csv": USERS + "u1,sleeping,true,a,A,B\r\n"}
    (u1,) = await read(bundle(tmp_path, files), "users")
    assert u1.data["status"] == "sleeping" and u1.warnings == ()


async def test_dates_in_the_sources_format(tmp_path: Path) -> None:
    enrollments = ("sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,beginDate,"
                   "endDate\r\ne1,active,1/5/2023 10:30,c1,o1,u1,Student,1/05/2023,2023-06-30\r\n")
    path = bundle(tmp_path, {"manifest.csv": manifest("1.2", {"enrollments": "bulk"}), "enrollments.csv": enrollments})
    (e1,) = await read(path, "enrollments", date_format="%m/%d/%Y")
    assert (e1.data["beginDate"], e1.data["endDate"]) == ("2023-01-05", "2023-06-30")
    assert e1.data["dateLastModified"] == "2023-01-05T10:30:00" and e1.data["role"] == "student"
    assert sorted(f for f, _ in e1.warnings) == ["beginDate", "dateLastModified", "role"]
    (raw,) = await read(path, "enrollments")  # no date_format: nothing is guessed
    assert raw.data["beginDate"] == "1/05/2023" and [f for f, _ in raw.warnings] == ["role"]


def test_a_date_format_needs_a_day_and_a_month() -> None:
    with pytest.raises(ValidationError):
        OneRosterCsvConfig(path="x", date_format="%Y")
    assert OneRosterCsvConfig(path="x", date_format="%d.%m.%Y").date_format == "%d.%m.%Y"


async def test_trailing_empty_header_cells_are_ignored_with_one_warning(tmp_path: Path) -> None:
    files = {
        "manifest.csv": manifest("1.2", {"users": "bulk", "roles": "bulk"}),
        "users.csv": USERS.replace("\r\n", ",,\r\n") + "u1,active,true,a,A,B\r\nu2,active,true,b,A,B,,\r\n"
        "u3,active,true,c,A,B,x,y\r\n",
        "roles.csv": ROLES.replace("\r\n", ",,\r\n") + "r1,active,u1,primary,teacher,,,o1\r\n",
    }
    u1, u2, u3 = await read(bundle(tmp_path, files), "users")
    assert u1.error is None and u2.error is None and u1.data["roles"][0]["orgSourcedId"] == "o1"
    assert [m.split(":")[0] for f, m in u1.warnings if f is None] == ["users.csv", "roles.csv"]
    assert u2.warnings == ()  # once per file
    assert u3.error is None  # the extra cells have no column: dropped, as before


async def test_a_vendor_userid_column_becomes_userids(tmp_path: Path) -> None:
    users = "sourcedId,userId,enabledUser,username,givenName,familyName\r\nu1,12345,true,a,A,B\r\n" \
            "u2,{LDAP:jdoe},true,b,A,B\r\nu3,,true,c,A,B\r\n"
    files = {"manifest.csv": manifest("1.2", {"users": "bulk"}), "users.csv": users}
    u1, u2, u3 = await read(bundle(tmp_path, files), "users")
    assert (u1.data["userIds"], u2.data["userIds"], u3.data["userIds"]) == ("{userId:12345}", "{LDAP:jdoe}", "")
    assert "userId" not in u1.data
    assert [f for f, _ in u1.warnings] == ["userId"] and u2.warnings == ()
