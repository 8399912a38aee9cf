"""Every rule key of a field rule, applied to records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from hub.errors import RecordError

BASE = {"sourcedId": "u1", "username": "jdoe"}


def rec(**extra: object) -> dict[str, object]:
    return {**BASE, **extra}


def test_path_shorthand_dotted_and_indexed(compile_fields) -> None:
    m = compile_fields(
        """
        username: username
        givenName: {path: name.given}
        email: {path: "contacts[1].value"}
        nickname: {path: "contacts[-1].value"}
        age: {path: "contacts[5].value"}
        """
    )
    out = m.apply(rec(name={"given": "Jane"}, contacts=[{"value": "a"}, {"value": "b@x"}, {"value": "c"}]))
    assert out == {"sourcedId": "u1", "username": "jdoe", "givenName": "Jane", "email": "b@x", "nickname": "c"}
    # a missing path or a wrong shape on the way is just missing
    assert m.apply(rec(name="flat", contacts={"1": 2})) == {"sourcedId": "u1", "username": "jdoe"}


def test_empty_string_is_missing(compile_fields) -> None:
    m = compile_fields("username: username\ngivenName: givenName\nnickname: {path: nick, default: none-given}")
    assert m.apply(rec(givenName="", nick="")) == {"sourcedId": "u1", "username": "jdoe", "nickname": "none-given"}


def test_const_and_default(compile_fields) -> None:
    m = compile_fields(
        """
        username: username
        status: {const: active}
        tags: {const: [1, 2]}
        enabledUser: {path: enabled, type: bool, default: "yes"}
        givenName: {default: Anonymous}
        """
    )
    out = m.apply(rec())
    assert out["status"] == "active" and out["tags"] == [1, 2] and out["enabledUser"] is True
    assert out["givenName"] == "Anonymous"
    out["tags"].append(3)  # a constant list is fresh for every record
    assert m.apply(rec())["tags"] == [1, 2]
    assert m.apply(rec(enabled="0"))["enabledUser"] is False


def test_map_with_unmapped_modes(compile_fields) -> None:
    m = compile_fields(
        """
        username: username
        status: {path: s, map: {A: active, D: tobedeleted}}
        givenName: {path: g, map: {x: ex}, unmapped: keep}
        nickname: {path: n, map: {x: ex}, unmapped: null, default: dflt}
        email: {path: e, map: {x: ex}, unmapped: {const: other}}
        enabledUser: {path: y, map: {Y: true, N: false, 1: true}}
        """
    )
    out = m.apply(rec(s="D", g="zz", n="zz", e="zz", y="Y"))
    assert out | {} == {**BASE, "status": "tobedeleted", "givenName": "zz", "nickname": "dflt", "email": "other",
                        "enabledUser": True}  # fmt: skip
    assert m.apply(rec(y=1))["enabledUser"] is True  # keys are compared as text
    with pytest.raises(RecordError) as info:
        m.apply(rec(s="Q"))
    assert info.value.field == "status"
    assert "not in the map" in info.value.message and "'Q'" in info.value.message


def test_map_over_a_list(compile_fields) -> None:
    m = compile_fields("username: username\ngrades: {path: g, split: ',', map: {K: KG, '1': '01'}, unmapped: keep}")
    assert m.apply(rec(g="K, 1,,5"))["grades"] == ["KG", "01", "5"]


@pytest.mark.parametrize("raw", ["true", "TRUE", "1", "yes", "Y", "on", True, 1])
def test_bool_true_spellings(compile_fields, raw: object) -> None:
    m = compile_fields("username: username\nenabledUser: {path: e, type: bool}")
    assert m.apply(rec(e=raw))["enabledUser"] is True


@pytest.mark.parametrize("raw", ["false", "False", "0", "no", "N", "off", False, 0])
def test_bool_false_spellings(compile_fields, raw: object) -> None:
    m = compile_fields("username: username\nenabledUser: {path: e, type: bool}")
    assert m.apply(rec(e=raw))["enabledUser"] is False


def test_type_coercions(compile_fields) -> None:
    m = compile_fields(
        """
        username: {path: username, type: str}
        age: {path: age, type: int}
        score: {path: score, type: float}
        birthDate: {path: born, type: date}
        dateLastModified: {path: changed, type: datetime}
        tags: {path: tags, type: "list[int]"}
        grades: {path: grade, type: list}
        """
    )
    out = m.apply(rec(username=42, age=" 12 ", score="1.5", born="2010-05-06", changed="2025-01-02T03:04:05",
                      tags="7", grade="09"))  # fmt: skip
    assert out["username"] == "42" and out["age"] == 12 and out["score"] == 1.5
    assert out["birthDate"] == date(2010, 5, 6)
    assert out["dateLastModified"] == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)  # naive -> UTC
    assert out["tags"] == [7] and out["grades"] == ["09"]
    # offsets are normalised to UTC; a date-only value is midnight UTC; a date accepts a date-time
    out = m.apply(rec(changed="2025-01-02T03:04:05+02:00", born="2010-05-06T23:00:00Z", age=3.0))
    assert out["dateLastModified"] == datetime(2025, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert out["birthDate"] == date(2010, 5, 6) and out["age"] == 3
    out = m.apply(rec(changed="2025-01-02", born=date(2001, 1, 1)))
    assert out["dateLastModified"] == datetime(2025, 1, 2, tzinfo=UTC)
    tz = timezone(timedelta(hours=-5))
    assert m.apply(rec(changed=datetime(2025, 1, 1, 12, tzinfo=tz)))["dateLastModified"].hour == 17


@pytest.mark.parametrize(
    ("field", "raw", "reason"),
    [
        ("age", "twelve", "not a valid integer"),
        ("age", "1.5", "not a whole number"),
        ("score", "x", "not a valid number"),
        ("enabledUser", "maybe", "not a boolean"),
        ("birthDate", "06/05/2010", "not an ISO 8601 date"),
        ("dateLastModified", "yesterday", "not an ISO 8601 date-time"),
    ],
)
def test_type_errors_name_the_field(compile_fields, field: str, raw: str, reason: str) -> None:
    m = compile_fields(
        """
        username: username
        age: {path: v, type: int}
        score: {path: v, type: float}
        enabledUser: {path: v, type: bool}
        birthDate: {path: v, type: date}
        dateLastModified: {path: v, type: datetime}
        """.replace("path: v", "path: other").replace(f"{field}: {{path: other", f"{field}: {{path: v")
    )
    with pytest.raises(RecordError) as info:
        m.apply(rec(v=raw))
    assert info.value.field == field
    assert reason in info.value.message and repr(raw) in info.value.message


def test_split_options(compile_fields) -> None:
    m = compile_fields(
        """
        username: username
        grades: {path: g, split: ","}
        tags: {path: t, split: {sep: ";"}, type: int}
        anything: {path: a, split: {sep: "|", strip: false, drop_empty: false}}
        """
    )
    out = m.apply(rec(g=" 09 , 10,, ", t="1;2", a=" x||y"))
    assert out["grades"] == ["09", "10"] and out["tags"] == [1, 2] and out["anything"] == [" x", "", "y"]
    assert "grades" not in m.apply(rec(g=" , "))  # nothing left: missing
    assert m.apply(rec(g=["a", "b"]))["grades"] == ["a", "b"]  # already a list


def test_ref_single_and_over_a_split_list(compile_fields, person) -> None:
    m = compile_fields(
        """
        username: username
        primaryOrg: {path: org, ref: org}
        agents: {path: agentSourcedIds, split: ",", ref: user}
        class: {path: classSourcedId, ref: class}
        """
    )
    out = m.apply(rec(org=" s1 ", agentSourcedIds="p1, p2", classSourcedId="c9"))
    assert out["primaryOrg"] == {"sourcedId": "s1", "type": "org"}
    assert out["agents"] == [{"sourcedId": "p1", "type": "user"}, {"sourcedId": "p2", "type": "user"}]
    assert out["class"] == {"sourcedId": "c9", "type": "class"}  # the alias is the output key
    person.model_validate(out)


def test_field_named_by_python_name_outputs_alias(compile_fields) -> None:
    m = compile_fields("username: username\nclass_: {path: c, ref: class}")
    assert m.apply(rec(c="c1"))["class"] == {"sourcedId": "c1", "type": "class"}


def test_nested_list_of_records(compile_fields, person) -> None:
    m = compile_fields(
        """
        username: username
        roles:
          path: roles
          fields:
            roleType: {path: roleType, default: primary}
            role: {path: role, map: {student: student, teacher: teacher}}
            org: {path: orgSourcedId, ref: org}
            beginDate: {path: beginDate, type: date}
        """
    )
    roles = [
        {"role": "student", "orgSourcedId": "s1", "beginDate": "2024-09-01"},
        {"roleType": "secondary", "role": "teacher", "orgSourcedId": "s2", "beginDate": ""},
    ]
    out = m.apply(rec(roles=roles))
    assert out["roles"] == [
        {"roleType": "primary", "role": "student", "org": {"sourcedId": "s1", "type": "org"}, "beginDate": date(2024, 9, 1)},
        {"roleType": "secondary", "role": "teacher", "org": {"sourcedId": "s2", "type": "org"}},
    ]
    person.model_validate(out)
    assert "roles" not in m.apply(rec(roles=[]))
    with pytest.raises(RecordError) as info:
        m.apply(rec(roles=[roles[0], {"role": "student"}]))  # org is required in Role
    assert info.value.field == "roles[1].org"
    with pytest.raises(RecordError) as info:
        m.apply(rec(roles=[{"role": "janitor", "orgSourcedId": "s"}]))
    assert info.value.field == "roles[0].role"


def test_nested_over_split_strings(compile_fields) -> None:
    m = compile_fields(
        """
        username: username
        userIds:
          path: userIds
          split: ","
          fields:
            type: {expr: "split(strip(_, '{}'), ':', 1)[0]"}
            identifier: {expr: "split(strip(_, '{}'), ':', 1)[1]"}
        """
    )
    out = m.apply(rec(userIds="{Fed:1234},{LDAP:a:b}"))
    assert out["userIds"] == [{"type": "Fed", "identifier": "1234"}, {"type": "LDAP", "identifier": "a:b"}]


def test_nested_object_from_the_record_itself(compile_fields) -> None:
    m = compile_fields(
        """
        username: username
        primaryOrg:
          fields:
            sourcedId: orgId
            type: {const: org}
        roles:
          fields:
            roleType: {const: primary}
            role: role
            org: {path: orgId, ref: org}
        """
    )
    out = m.apply(rec(orgId="s1", role="student"))
    assert out["primaryOrg"] == {"sourcedId": "s1", "type": "org"}
    assert out["roles"] == [{"roleType": "primary", "role": "student", "org": {"sourcedId": "s1", "type": "org"}}]


def test_expressions(compile_fields) -> None:
    m = compile_fields(
        """
        username: {expr: "lower(coalesce(login, email))"}
        givenName: {expr: "concat(first, ' ', last) if first else None"}
        nickname: {expr: "upper(first) if len(first) > 3 and not startswith(first, 'X') else 'short'"}
        email: {expr: "replace(get('contact.mail'), ' ', '')"}
        age: {expr: "int(years) + 1"}
        grades: {expr: "split(g, '/')"}
        status: {expr: "'active' if kind in ['a', 'b'] else 'tobedeleted'"}
        """
    )
    out = m.apply(rec(login="", email="JD@X", first="Jane", last="Doe", contact={"mail": "j d@x"}, years="9",
                      g="a/b", kind="b"))  # fmt: skip
    assert out == {**BASE, "username": "jd@x", "givenName": "Jane Doe", "nickname": "JANE", "email": "jd@x",
                   "age": 10, "grades": ["a", "b"], "status": "active"}  # fmt: skip
    with pytest.raises(RecordError) as info:
        m.apply(rec(login="jo", years="x", first="Jo"))
    assert info.value.field == "age" and "not a valid integer" in info.value.message


def test_expression_runtime_error_is_a_record_error(compile_fields) -> None:
    m = compile_fields("username: username\ngivenName: {expr: \"first + 1\"}")
    with pytest.raises(RecordError) as info:
        m.apply(rec(first="a"))
    assert info.value.field == "givenName" and "expression failed (TypeError" in info.value.message


def test_required_field_missing_at_runtime(compile_fields) -> None:
    m = compile_fields("username: login\nnickname: {path: nick, required: true}")
    with pytest.raises(RecordError) as info:
        m.apply({"sourcedId": "u1", "login": "", "nick": "n"})
    assert info.value.field == "username" and "missing" in info.value.message
    with pytest.raises(RecordError) as info:
        m.apply({"sourcedId": "u1", "login": "x"})
    assert info.value.field == "nickname"


def test_record_must_be_a_mapping(compile_fields) -> None:
    m = compile_fields("username: username")
    with pytest.raises(RecordError, match="not a mapping"):
        m.apply(["u1"])  # type: ignore[arg-type]


def test_regex_step(compile_fields) -> None:
    m = compile_fields(
        r"""
        username: {path: login, regex: '^(?:.*\\)?([^\\]+)$'}
        userIds: {path: ids, split: ",", regex: '^\{(?P<type>[^:]+):(?P<identifier>.*)\}$'}
        grades: {path: g, split: ",", regex: '\d+'}
        """
    )
    out = m.apply(rec(login="DOMAIN\\jdoe", ids="{Fed:1},{LDAP:a:b}", g="grade 9, grade 10"))
    assert out["username"] == "jdoe" and out["grades"] == ["9", "10"]
    assert out["userIds"] == [{"type": "Fed", "identifier": "1"}, {"type": "LDAP", "identifier": "a:b"}]
    with pytest.raises(RecordError) as info:
        m.apply(rec(login="x", ids="nope"))
    assert info.value.field == "userIds" and "does not match the regex: 'nope'" in info.value.message


def test_empty_nested_object_is_dropped_partial_one_is_an_error(compile_fields) -> None:
    m = compile_fields(
        """
        username: username
        primaryOrg:
          fields:
            sourcedId: orgId
            type: orgType
        """
    )
    assert "primaryOrg" not in m.apply(rec(orgId="", orgType=""))
    with pytest.raises(RecordError) as info:
        m.apply(rec(orgId="s1"))
    assert info.value.field == "primaryOrg.type"
