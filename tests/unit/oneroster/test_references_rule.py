"""The OneRoster API never emits a reference to a missing or tobedeleted object unless asked
(``references=all``): the rule of hub.oneroster._references through RosterQuery, on SQLite and
PostgreSQL, over the seeded roster (where user u4 is tobedeleted) plus a few damaged records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from oneroster_roster_data import T0, insert_records

from hub.oneroster import ListParams, UnknownObject, apply_references, find_relation


def _ref(sid: str, type_: str) -> dict[str, str]:
    return {"sourcedId": sid, "type": type_}


DAMAGED = [
    # optional refs dangle: primaryOrg, one agent, one of two roles
    ("User", {"sourcedId": "u8", "username": "u8", "enabledUser": True, "givenName": "Hal", "familyName": "Ng",
              "roles": [{"roleType": "primary", "role": "student", "org": _ref("s1", "org")},
                        {"roleType": "secondary", "role": "student", "org": _ref("s9", "org")}],
              "primaryOrg": _ref("s9", "org"), "agents": [_ref("u7", "user"), _ref("ghost", "user")]}),
    # the only role's org dangles: the user is left out
    ("User", {"sourcedId": "u9", "username": "u9", "enabledUser": True, "givenName": "Ida", "familyName": "Ng",
              "roles": [{"roleType": "primary", "role": "student", "org": _ref("s9", "org")}]}),
    # one of two terms dangles: kept without it; a missing course: left out
    ("Class", {"sourcedId": "k4", "title": "Chemistry", "classType": "scheduled", "course": _ref("c2", "course"),
               "school": _ref("s2", "org"), "terms": [_ref("t2", "academicSession"), _ref("tX", "academicSession")]}),
    ("Class", {"sourcedId": "k5", "title": "Lost", "classType": "scheduled", "course": _ref("cX", "course"),
               "school": _ref("s2", "org"), "terms": [_ref("t2", "academicSession")]}),
    ("Enrollment", {"sourcedId": "e9", "user": _ref("u1", "user"), "class": _ref("k5", "class"),
                    "school": _ref("s2", "org"), "role": "student"}),
]


def ids(page: Any) -> list[str]:
    return [r["sourcedId"] for r in page.records]


@pytest.fixture
async def damaged(roster: Any) -> Any:
    q, _ = roster
    await insert_records(q.db, q.tenant_id, DAMAGED, start=T0 + timedelta(days=1))
    return q


async def test_an_enrollment_of_a_tobedeleted_user_is_left_out_unless_asked(roster: Any) -> None:
    q, _ = roster
    page = await q.list("enrollments", ListParams())
    assert page.total == 7 and "e7" not in ids(page)
    everything = await q.list("enrollments", ListParams(references="all"))
    assert everything.total == 8 and "e7" in ids(everything)
    with pytest.raises(UnknownObject):
        await q.get("enrollments", "e7")
    assert (await q.get("enrollments", "e7", references="all"))["user"]["sourcedId"] == "u4"
    # the tobedeleted user itself is still listed: it announces its removal
    assert (await q.get("users", "u4"))["status"] == "tobedeleted"


async def test_dangling_optional_references_are_dropped_and_required_ones_leave_the_record_out(damaged: Any) -> None:
    q = damaged
    u8 = await q.get("users", "u8")
    assert "primaryOrg" not in u8
    assert [a["sourcedId"] for a in u8["agents"]] == ["u7"]
    assert [r["org"]["sourcedId"] for r in u8["roles"]] == ["s1"]
    with pytest.raises(UnknownObject):
        await q.get("users", "u9")
    assert [t["sourcedId"] for t in (await q.get("classes", "k4"))["terms"]] == ["t2"]
    with pytest.raises(UnknownObject):
        await q.get("classes", "k5")

    users = await q.list("users", ListParams(limit=100))
    assert users.total == len(users.records) == 8 and "u9" not in ids(users)
    classes = await q.list("classes", ListParams(limit=100))
    assert ids(classes) == ["k1", "k2", "k3", "k4"] and classes.total == 4
    # the enrollment in the left-out class k5 points at a stored class, but one that is not emitted
    # either: k5 is active in the store, so e9 is kept (its class is there; the class's own course is not)
    assert "e9" in ids(await q.list("enrollments", ListParams(limit=100)))

    # a nested collection under a parent that is left out is 404, like the parent itself
    with pytest.raises(UnknownObject):
        await q.list_related(find_relation(["classes"], "students"), ["k5"], ListParams())
    assert (await q.list_related(find_relation(["classes"], "students"), ["k5"],
                                 ListParams(references="all"))).records[0]["sourcedId"] == "u1"  # through e9

    raw = await q.get("users", "u8", references="all")
    assert raw["primaryOrg"]["sourcedId"] == "s9" and len(raw["agents"]) == 2 and len(raw["roles"]) == 2
    assert (await q.list("classes", ListParams(references="all"))).total == 5


async def test_paging_counts_agree_with_what_is_rendered(damaged: Any) -> None:
    q = damaged
    seen: list[str] = []
    for offset in range(0, 20, 3):
        page = await q.list("users", ListParams(limit=3, offset=offset))
        assert page.total == 8
        seen += ids(page)
    assert len(seen) == 8 and "u9" not in seen


def test_the_rule_on_one_record() -> None:
    present = {("Org", "s1"), ("User", "u7")}

    def resolve(target: str, sourced_id: str) -> str | None:
        return sourced_id if (target, sourced_id) in present else None

    user = dict(DAMAGED[0][1])
    out = apply_references("User", user, resolve)
    assert out is not None and "primaryOrg" not in out and len(out["roles"]) == 1 and len(out["agents"]) == 1
    assert user["primaryOrg"] == _ref("s9", "org"), "the input is never changed"
    assert apply_references("User", DAMAGED[1][1], resolve) is None
    assert apply_references("User", DAMAGED[1][1], resolve, status="tobedeleted") == DAMAGED[1][1]
    # a reference to a type the hub does not store cannot be checked and is kept
    with_resource = {**DAMAGED[0][1], "resources": [_ref("r1", "resource")]}
    assert apply_references("User", with_resource, resolve)["resources"] == [_ref("r1", "resource")]  # type: ignore[index]
