"""A small, hand-made roster in two tenants, inserted straight into the store's tables.

Shared by the unit tests of hub.oneroster and the API integration tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import schemas
from hub.jsonutil import canonical_bytes, content_hash
from hub.store._tables import entities

T0 = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)


def _ref(sid: str, type_: str) -> dict[str, str]:
    return {"sourcedId": sid, "type": type_}


def _role(role: str, org: str, role_type: str = "primary") -> dict[str, Any]:
    return {"roleType": role_type, "role": role, "org": _ref(org, "org")}


def _user(sid: str, given: str, family: str, role: str, org: str, **extra: Any) -> dict[str, Any]:
    return {"sourcedId": sid, "username": sid, "enabledUser": True, "givenName": given, "familyName": family,
            "roles": [_role(role, org)], "primaryOrg": _ref(org, "org"), **extra}


def _class(sid: str, title: str, course: str, school: str, terms: list[str], **extra: Any) -> dict[str, Any]:
    return {"sourcedId": sid, "title": title, "classType": "scheduled", "course": _ref(course, "course"),
            "school": _ref(school, "org"), "terms": [_ref(t, "academicSession") for t in terms], **extra}


def _enr(sid: str, user: str, cls: str, school: str, role: str) -> dict[str, Any]:
    return {"sourcedId": sid, "user": _ref(user, "user"), "class": _ref(cls, "class"),
            "school": _ref(school, "org"), "role": role}


def default_records() -> list[tuple[str, dict[str, Any]]]:
    session = {"startDate": "2025-08-20", "endDate": "2026-06-12", "schoolYear": "2026"}
    return [
        ("Org", {"sourcedId": "d1", "name": "Springfield District", "type": "district"}),
        ("Org", {"sourcedId": "s1", "name": "North High", "type": "school", "parent": _ref("d1", "org"),
                 "identifier": "100"}),
        ("Org", {"sourcedId": "s2", "name": "South Middle", "type": "school", "parent": _ref("d1", "org"),
                 "identifier": "200"}),
        ("AcademicSession", {"sourcedId": "y1", "title": "2025-2026", "type": "schoolYear", **session}),
        ("AcademicSession", {"sourcedId": "t1", "title": "Fall", "type": "term", **session,
                             "endDate": "2026-01-15", "parent": _ref("y1", "academicSession")}),
        ("AcademicSession", {"sourcedId": "t2", "title": "Spring", "type": "term", **session,
                             "startDate": "2026-01-16", "parent": _ref("y1", "academicSession")}),
        ("AcademicSession", {"sourcedId": "g1", "title": "Fall Q1", "type": "gradingPeriod", **session,
                             "endDate": "2025-10-31", "parent": _ref("t1", "academicSession")}),
        ("Course", {"sourcedId": "c1", "title": "Algebra I", "org": _ref("s1", "org"), "courseCode": "MATH1",
                    "grades": ["09", "10"], "subjects": ["Mathematics"]}),
        ("Course", {"sourcedId": "c2", "title": "Biology", "org": _ref("s2", "org"), "courseCode": "SCI1",
                    "grades": ["07"]}),
        ("Class", _class("k1", "Algebra I - P1", "c1", "s1", ["t1"], classCode="ALG-1", periods=["1"])),
        ("Class", _class("k2", "Algebra I - P2", "c1", "s1", ["t1", "t2"], classCode="ALG-2")),
        ("Class", _class("k3", "Biology - P3", "c2", "s2", ["t2"], classCode="BIO-3")),
        ("User", _user("u1", "Ann Marie", "O'Brien", "student", "s1", grades=["09"], agents=[_ref("u7", "user")],
                       email="ann@example.org", metadata={"homeroom": "H1", "rank": 3})),
        ("User", _user("u2", "Bob", "Smith", "student", "s1", grades=["10"], metadata={"rank": 12})),
        ("User", _user("u3", "Chloe", "Zhang", "student", "s2", grades=["07"], enabledUser=False)),
        ("User", _user("u4", "Dan", "Müller", "student", "s2", grades=["07"])),
        ("User", _user("u5", "Eve", "Adams", "teacher", "s1")),
        ("User", _user("u6", "Frank", "Baker", "teacher", "s2")),
        ("User", _user("u7", "Gina", "O'Brien", "guardian", "s1")),
        ("Enrollment", _enr("e1", "u1", "k1", "s1", "student")),
        ("Enrollment", _enr("e2", "u2", "k1", "s1", "student")),
        ("Enrollment", _enr("e3", "u1", "k2", "s1", "student")),
        ("Enrollment", _enr("e4", "u5", "k1", "s1", "teacher")),
        ("Enrollment", _enr("e5", "u5", "k2", "s1", "teacher")),
        ("Enrollment", _enr("e6", "u3", "k3", "s2", "student")),
        ("Enrollment", _enr("e7", "u4", "k3", "s2", "student")),
        ("Enrollment", _enr("e8", "u6", "k3", "s2", "teacher")),
        ("Demographics", {"sourcedId": "u1", "birthDate": "2010-04-02", "sex": "female"}),
        ("Demographics", {"sourcedId": "u3", "birthDate": "2012-11-30", "sex": "male"}),
    ]


def other_records() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("Org", {"sourcedId": "x1", "name": "Other School", "type": "school"}),
        ("User", _user("u1", "Secret", "Other", "student", "x1")),
        ("User", _user("xu", "Xavier", "Other", "student", "x1")),
    ]


async def insert_records(db: Any, tenant_id: int, records: list[tuple[str, dict[str, Any]]],
                         start: datetime = T0, deleted: tuple[str, ...] = ()) -> None:
    """Insert canonical records (validated by their pydantic model), one minute apart from ``start``."""
    rows = []
    for n, (type_, data) in enumerate(records):
        model = getattr(schemas, type_)
        canonical = model.model_validate(data).model_dump(mode="json", by_alias=True, exclude_none=True)
        status = "tobedeleted" if canonical["sourcedId"] in deleted else "active"
        canonical["status"] = status
        stamp = start + timedelta(minutes=n)
        encoded = canonical_bytes(canonical)
        rows.append({"tenant_id": tenant_id, "type": type_, "stable_id": canonical["sourcedId"], "source_id": None,
                     "data": canonical, "hash": content_hash(encoded), "raw_hash": None, "version": 1,
                     "status": status, "created_at": stamp, "updated_at": stamp})
    async with db.begin() as conn:
        await conn.execute(entities.insert(), rows)


async def seed(hub: Any) -> tuple[Any, Any]:
    """Both tenants seeded; returns (default TenantStore, other TenantStore)."""
    await hub.store.ensure_tenant("other")
    default = await hub.store.tenant("default")
    other = await hub.store.tenant("other")
    await insert_records(hub.db, default.tenant_id, default_records(), deleted=("u4",))
    await insert_records(hub.db, other.tenant_id, other_records())
    return default, other
