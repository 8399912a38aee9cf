"""RosterQuery against a real database (SQLite and PostgreSQL): filters, sort, paging, relations."""

from __future__ import annotations

from typing import Any

import pytest

from hub.oneroster import (
    InvalidData,
    InvalidFilter,
    InvalidSelection,
    InvalidSort,
    ListParams,
    UnknownObject,
    find_relation,
)


def ids(page: Any) -> list[str]:
    return [r["sourcedId"] for r in page.records]


async def users(q: Any, flt: str | None = None, **kw: Any) -> list[str]:
    return ids(await q.list("users", ListParams(filter=flt, **kw)))


async def test_collection_default_order_and_total(roster: Any) -> None:
    q, _ = roster
    page = await q.list("users", ListParams(limit=3, offset=1))
    assert page.total == 7
    assert ids(page) == ["u2", "u3", "u4"]


async def test_single_record_rendering_has_hrefs(roster: Any) -> None:
    q, _ = roster
    user = await q.get("users", "u1")
    assert user["sourcedId"] == "u1" and user["status"] == "active"
    assert user["dateLastModified"].endswith("Z")
    assert user["primaryOrg"] == {"href": "http://test/ims/oneroster/rostering/v1p2/orgs/s1", "sourcedId": "s1",
                                  "type": "org"}
    assert user["roles"][0]["org"]["href"].endswith("/orgs/s1")
    assert user["agents"][0]["href"].endswith("/users/u7")


async def test_tenant_isolation(roster: Any) -> None:
    q, other = roster
    assert (await other.get("users", "u1"))["givenName"] == "Secret"
    assert (await q.get("users", "u1"))["givenName"] == "Ann Marie"
    with pytest.raises(UnknownObject):
        await q.get("users", "xu")
    with pytest.raises(UnknownObject):
        await other.get("orgs", "s1")
    assert await users(other) == ["u1", "xu"]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("givenName='Bob'", ["u2"]),
        ("givenName!='Bob'", ["u1", "u3", "u4", "u5", "u6", "u7"]),
        ("givenName='Ann Marie'", ["u1"]),
        ("familyName='O''Brien'", ["u1", "u7"]),
        ("familyName~'brien'", ["u1", "u7"]),
        ("familyName~'%'", []),
        ("givenName>'Eve'", ["u6", "u7"]),
        ("givenName>='Eve'", ["u5", "u6", "u7"]),
        ("givenName<'Bob'", ["u1"]),
        ("givenName<='Bob'", ["u1", "u2"]),
        ("givenName='Bob' OR givenName='Eve'", ["u2", "u5"]),
        ("familyName~'O' AND givenName='Gina'", ["u7"]),
        ("givenName='Bob' OR givenName='Eve' AND familyName='Smith'", ["u2"]),
        ("(givenName='Bob' OR givenName='Eve') AND familyName='Adams'", ["u5"]),
        ("enabledUser=false", ["u3"]),
        ("enabledUser='true' AND grades='07'", ["u4"]),
        ("enabledUser!=true", ["u3"]),
        ("status='tobedeleted'", ["u4"]),
        ("sourcedId='u3'", ["u3"]),
        ("roles.role='teacher'", ["u5", "u6"]),
        ("roles.org.sourcedId='s2'", ["u3", "u4", "u6"]),
        ("roles.org='s2' AND roles.role='student'", ["u3", "u4"]),
        ("primaryOrg.sourcedId='s1' AND roles.role!='student'", ["u5", "u7"]),
        ("grades='09'", ["u1"]),
        ("grades!='07'", ["u1", "u2", "u5", "u6", "u7"]),
        ("agents.sourcedId='u7'", ["u1"]),
        ("middleName!='x'", ["u1", "u2", "u3", "u4", "u5", "u6", "u7"]),
        ("metadata.homeroom='H1'", ["u1"]),
        ("metadata.rank>5", ["u2"]),
        ("metadata.rank<=3", ["u1"]),
        ("email~'EXAMPLE'", ["u1"]),
        ("dateLastModified>'2025-09-01T08:15:00Z'", ["u5", "u6", "u7"]),
        ("dateLastModified>='2025-09-01T08:15:00.000Z'", ["u4", "u5", "u6", "u7"]),
        ("dateLastModified<'2025-09-01'", []),
        ("dateLastModified>'2025-09-01T10:15:00+02:00'", ["u5", "u6", "u7"]),
    ],
)
async def test_user_filters(roster: Any, flt: str, expected: list[str]) -> None:
    q, _ = roster
    assert await users(q, flt) == expected


@pytest.mark.parametrize(
    ("path", "flt", "expected"),
    [
        ("academicSessions", "startDate>'2026-01-01'", ["t2"]),
        ("academicSessions", "endDate<='2026-01-15'", ["t1", "g1"]),
        ("academicSessions", "parent.sourcedId='y1'", ["t1", "t2"]),
        ("classes", "terms.sourcedId='t2'", ["k2", "k3"]),
        ("classes", "school='s1' AND course.sourcedId='c1'", ["k1", "k2"]),
        ("classes", "periods='1'", ["k1"]),
        ("courses", "grades='07' OR subjects~'math'", ["c1", "c2"]),
        ("demographics", "birthDate<'2011-01-01'", ["u1"]),
        ("enrollments", "class.sourcedId='k1' AND role='student'", ["e1", "e2"]),
        ("enrollments", "user='u5'", ["e4", "e5"]),
        ("orgs", "type='school'", ["s1", "s2"]),
        ("orgs", "identifier>'150'", ["s2"]),
    ],
)
async def test_filters_other_types(roster: Any, path: str, flt: str, expected: list[str]) -> None:
    q, _ = roster
    assert ids(await q.list(path, ListParams(filter=flt))) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("schools", ["s1", "s2"]),
        ("terms", ["t1", "t2"]),
        ("gradingPeriods", ["g1"]),
        ("students", ["u1", "u2", "u3", "u4"]),
        ("teachers", ["u5", "u6"]),
        ("demographics", ["u1", "u3"]),
    ],
)
async def test_narrowed_collections(roster: Any, path: str, expected: list[str]) -> None:
    q, _ = roster
    page = await q.list(path, ListParams())
    assert ids(page) == expected and page.total == len(expected)


async def test_narrowed_single_records(roster: Any) -> None:
    q, _ = roster
    assert (await q.get("schools", "s1"))["name"] == "North High"
    with pytest.raises(UnknownObject):
        await q.get("schools", "d1")
    with pytest.raises(UnknownObject):
        await q.get("teachers", "u1")
    assert (await q.get("terms", "t1"))["title"] == "Fall"


@pytest.mark.parametrize(
    ("parents", "segment", "parent_ids", "expected"),
    [
        (("classes",), "students", ["k1"], ["u1", "u2"]),
        (("classes",), "teachers", ["k1"], ["u5"]),
        (("courses",), "classes", ["c1"], ["k1", "k2"]),
        (("schools",), "classes", ["s1"], ["k1", "k2"]),
        (("schools",), "courses", ["s2"], ["c2"]),
        (("schools",), "enrollments", ["s2"], ["e6", "e8"]),  # e7 is tobedeleted u4's: left out (see test_references_rule)
        (("schools",), "students", ["s1"], ["u1", "u2"]),
        (("schools",), "teachers", ["s2"], ["u6"]),
        (("schools",), "terms", ["s2"], ["t2"]),
        (("schools",), "terms", ["s1"], ["t1", "t2"]),
        (("schools", "classes"), "enrollments", ["s1", "k1"], ["e1", "e2", "e4"]),
        (("schools", "classes"), "students", ["s1", "k2"], ["u1"]),
        (("schools", "classes"), "teachers", ["s1", "k2"], ["u5"]),
        (("students",), "classes", ["u1"], ["k1", "k2"]),
        (("teachers",), "classes", ["u5"], ["k1", "k2"]),
        (("terms",), "classes", ["t1"], ["k1", "k2"]),
        (("terms",), "gradingPeriods", ["t1"], ["g1"]),
        (("users",), "classes", ["u5"], ["k1", "k2"]),
        (("users",), "agents", ["u1"], ["u7"]),
        (("users",), "agentFor", ["u7"], ["u1"]),
    ],
)
async def test_relations(roster: Any, parents: tuple[str, ...], segment: str, parent_ids: list[str],
                         expected: list[str]) -> None:
    q, _ = roster
    relation = find_relation(parents, segment)
    assert relation is not None
    page = await q.list_related(relation, parent_ids, ListParams())
    assert ids(page) == expected and page.total == len(expected)


async def test_relation_parent_checks(roster: Any) -> None:
    q, other = roster
    with pytest.raises(UnknownObject):
        await q.list_related(find_relation(("schools",), "classes"), ["nope"], ListParams())
    with pytest.raises(UnknownObject):  # a district is not a school
        await q.list_related(find_relation(("schools",), "classes"), ["d1"], ListParams())
    with pytest.raises(UnknownObject):  # k3 is not in s1
        await q.list_related(find_relation(("schools", "classes"), "students"), ["s1", "k3"], ListParams())
    with pytest.raises(UnknownObject):  # other tenant
        await other.list_related(find_relation(("classes",), "students"), ["k1"], ListParams())


async def test_relation_with_filter_sort_paging(roster: Any) -> None:
    q, _ = roster
    rel = find_relation(("schools",), "enrollments")
    page = await q.list_related(rel, ["s1"], ListParams(filter="role='student'", sort="sourcedId",
                                                        order_by="desc", limit=2, offset=1))
    assert page.total == 3 and ids(page) == ["e2", "e1"]


@pytest.mark.parametrize(
    ("sort", "order", "expected"),
    [
        ("familyName", "asc", ["u5", "u6", "u4", "u1", "u7", "u2", "u3"]),
        ("familyName", "desc", ["u3", "u2", "u7", "u1", "u4", "u6", "u5"]),
        ("givenName", "desc", ["u7", "u6", "u5", "u4", "u3", "u2", "u1"]),
        ("dateLastModified", "desc", ["u7", "u6", "u5", "u4", "u3", "u2", "u1"]),
        ("primaryOrg.sourcedId", "asc", ["u1", "u2", "u5", "u7", "u3", "u4", "u6"]),
        ("middleName", "asc", ["u1", "u2", "u3", "u4", "u5", "u6", "u7"]),
    ],
)
async def test_sort(roster: Any, sort: str, order: str, expected: list[str]) -> None:
    q, _ = roster
    assert await users(q, sort=sort, order_by=order) == expected


async def test_fields_selection(roster: Any) -> None:
    q, _ = roster
    page = await q.list("users", ListParams(fields="givenName,sourcedId", limit=1))
    assert page.records == [{"givenName": "Ann Marie", "sourcedId": "u1"}]
    rec = await q.get("enrollments", "e1", fields="class,role")
    assert list(rec) == ["class", "role"] and rec["class"]["href"].endswith("/classes/k1")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (ListParams(filter="nope='x'"), InvalidFilter),
        (ListParams(filter="givenName='x"), InvalidFilter),
        (ListParams(filter="roles='x'"), InvalidFilter),
        (ListParams(filter="roles.nope='x'"), InvalidFilter),
        (ListParams(filter="enabledUser>true"), InvalidFilter),
        (ListParams(filter="enabledUser='maybe'"), InvalidFilter),
        (ListParams(filter="dateLastModified>'yesterday'"), InvalidFilter),
        (ListParams(filter="dateLastModified~'2025'"), InvalidFilter),
        (ListParams(filter="metadata='x'"), InvalidFilter),
        (ListParams(filter="sourcedId.x='x'"), InvalidFilter),
        (ListParams(sort="roles"), InvalidSort),
        (ListParams(sort="nope"), InvalidSort),
        (ListParams(sort="primaryOrg.nope"), InvalidSort),
        (ListParams(fields="givenName,nope"), InvalidSelection),
        (ListParams(fields="givenName,"), InvalidSelection),
    ],
)
async def test_invalid_requests(roster: Any, params: ListParams, error: type[Exception]) -> None:
    q, _ = roster
    with pytest.raises(error):
        await q.list("users", params)


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"orderBy": "up"}],
)
def test_invalid_params(query: dict[str, str]) -> None:
    with pytest.raises(InvalidData):
        ListParams.from_query(query)


def test_params_defaults_and_clamp() -> None:
    assert ListParams.from_query({}) == ListParams()
    assert ListParams.from_query({"limit": "999999", "orderBy": "DESC"}).limit == 10_000


async def test_offset_past_end(roster: Any) -> None:
    q, _ = roster
    page = await q.list("users", ListParams(offset=100))
    assert page.total == 7 and page.records == []
