"""Stable ids, lookups into other streams, metadata, and secrets kept out of messages."""

from __future__ import annotations

import uuid

import pytest

from hub.errors import RecordError
from hub.mapping import ID_NAMESPACE, LookupSpec, build_lookup_table, load_mapping, stable_id

HEAD = "connector: demo\nstream: people\ntarget: Person\n"


def test_id_from_source_path(compile_fields) -> None:
    m = compile_fields("username: username")
    assert m.apply({"sourcedId": " u1 ", "username": "x"})["sourcedId"] == "u1"
    with pytest.raises(RecordError) as info:
        m.apply({"sourcedId": "", "username": "x"})
    assert info.value.field == "sourcedId" and "missing" in info.value.message


def test_uuid5_id_is_stable_and_scoped(compile_fields) -> None:
    head = HEAD + "id: {uuid5: [school, code]}\n"
    m = compile_fields("username: username", head=head)
    first = m.apply({"school": "s1", "code": 7, "username": "x"})["sourcedId"]
    again = m.apply({"school": "s1", "code": "7", "username": "y"})["sourcedId"]
    other = m.apply({"school": "s1", "code": "8", "username": "x"})["sourcedId"]
    assert first == again != other
    assert uuid.UUID(first).version == 5
    assert first == str(uuid.uuid5(ID_NAMESPACE, 'demo/Person/["s1","7"]')) == stable_id("demo", "Person", ["s1", 7])
    # another connector with the same natural key gets another id
    assert stable_id("other", "Person", ["s1", "7"]) != first
    # parts are not ambiguous when joined
    assert stable_id("demo", "Person", ["a,b", "c"]) != stable_id("demo", "Person", ["a", "b,c"])
    with pytest.raises(RecordError) as info:
        m.apply({"school": "s1", "code": "", "username": "x"})
    assert info.value.field == "sourcedId" and "'code'" in info.value.message


def test_source_id_with_uuid5_fallback(compile_fields) -> None:
    m = compile_fields("username: username", head=HEAD + "id: {path: id, uuid5: [username]}\n")
    assert m.apply({"id": "abc", "username": "x"})["sourcedId"] == "abc"
    assert m.apply({"username": "x"})["sourcedId"] == stable_id("demo", "Person", ["x"])


def test_id_from_expression(compile_fields) -> None:
    m = compile_fields("username: username", head=HEAD + "id: {expr: \"concat('u-', num)\"}\n")
    assert m.apply({"num": 5, "username": "x"})["sourcedId"] == "u-5"


def test_lookup_into_another_stream(compile_fields) -> None:
    m = compile_fields(
        """
        username: username
        email:
          lookup: {stream: accounts, key: owner, value: mail, match: sourcedId}
        nickname:
          lookup: {stream: accounts, key: owner, value: "profile.nick", match: {expr: "lower(alias)"}, unmatched: error}
        agents:
          lookup: {stream: accounts, key: owner, value: mail, match: guardians}
          ref: user
        """
    )
    specs = {spec.value: spec for spec in m.lookups}
    assert set(specs) == {"mail", "profile.nick"}
    assert specs["mail"] == LookupSpec("accounts", "owner", "mail")  # the shared spec appears once
    accounts = [
        {"owner": "u1", "mail": "u1@x", "profile": {"nick": "one"}},
        {"owner": "p1", "mail": "p1@x", "profile": {"nick": "pee"}},
        {"owner": "", "mail": "nobody"},
    ]
    tables = {spec: build_lookup_table(spec, accounts) for spec in m.lookups}
    assert tables[specs["mail"]] == {"u1": "u1@x", "p1": "p1@x"}
    out = m.apply({"sourcedId": "u1", "username": "x", "alias": "P1", "guardians": ["p1", "zz"]}, tables)
    assert out["email"] == "u1@x" and out["nickname"] == "pee"
    assert out["agents"] == [{"sourcedId": "p1@x", "type": "user"}]  # an unmatched item is dropped
    missing = m.apply({"sourcedId": "u9", "username": "x"}, tables)
    assert "email" not in missing and "nickname" not in missing
    with pytest.raises(RecordError) as info:
        m.apply({"sourcedId": "u1", "username": "x", "alias": "nobody-here"}, tables)
    assert info.value.field == "nickname" and "no accounts record with owner" in info.value.message
    with pytest.raises(RecordError) as info:
        m.apply({"sourcedId": "u1", "username": "x"})
    assert info.value.field == "email" and "lookup table of stream 'accounts' was not provided" in info.value.message


def test_lookup_spec_entry() -> None:
    spec = LookupSpec("users", "ids[0]", "name")
    assert spec.entry({"ids": [3], "name": ""}) == ("3", None)
    assert spec.entry({"ids": [], "name": "x"}) is None
    assert spec.entry({"ids": [{"a": 1}], "name": "x"}) is None


def test_metadata_copies_vendor_data_without_secrets(compile_fields, types) -> None:
    head = HEAD + "id: sourcedId\nmetadata:\n  path: metadata\n  fields:\n    source: {const: demo}\n    legacyId: oldId\n"
    m = compile_fields("username: username", head=head)
    out = m.apply(
        {"sourcedId": "u1", "username": "x", "oldId": "42",
         "metadata": {"vendor.color": "red", "empty": "", "api_token": "t0k", "PasswordHash": "h", "x_secret": "s"}}
    )  # fmt: skip
    assert out["metadata"] == {"vendor.color": "red", "source": "demo", "legacyId": "42"}
    assert list(out)[-1] == "metadata"
    bare = load_mapping(m.path, types).apply({"sourcedId": "u1", "username": "x"})
    assert bare["metadata"] == {"source": "demo"}
    with pytest.raises(RecordError) as info:
        m.apply({"sourcedId": "u1", "username": "x", "metadata": "oops"})
    assert info.value.field == "metadata"


def test_metadata_shorthand_and_empty(compile_fields) -> None:
    m = compile_fields("username: username", head=HEAD + "id: sourcedId\nmetadata: extra\n")
    assert "metadata" not in m.apply({"sourcedId": "u1", "username": "x", "extra": {}})
    assert m.apply({"sourcedId": "u1", "username": "x", "extra": {"a": 1}})["metadata"] == {"a": 1}


SECRET = "hunter2-very-secret"


@pytest.mark.parametrize(
    "rule",
    [
        "apiToken: {path: password, type: int}",
        "apiToken: {path: v, type: date}",  # the target's name says token
        "age: {path: password, type: int}",  # the source's name says password
        "age: {path: user_secret, map: {a: 1}}",
        "age: {expr: \"int(password)\"}",
        "age: {expr: \"concat(password, 1) + 1\"}",
        "email: {lookup: {stream: s, key: k, value: v, match: password, unmatched: error}}",
        "roles: {path: roles, fields: {roleType: {const: x}, role: {path: password, type: int}, org: {const: {sourcedId: a, type: org}}}}",
    ],
)
def test_secret_values_never_in_messages(compile_fields, rule: str) -> None:
    m = compile_fields("username: username\n" + rule)
    record = {"sourcedId": "u1", "username": "x", "password": SECRET, "v": SECRET, "user_secret": SECRET,
              "roles": [{"password": SECRET}]}  # fmt: skip
    tables = {spec: {} for spec in m.lookups}
    with pytest.raises(RecordError) as info:
        m.apply(record, tables)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.args)
    assert info.value.message  # says what is wrong


def test_non_secret_values_are_shown(compile_fields) -> None:
    m = compile_fields("username: username\nage: {path: years, type: int}")
    with pytest.raises(RecordError, match="'ten'"):
        m.apply({"sourcedId": "u1", "username": "x", "years": "ten"})
