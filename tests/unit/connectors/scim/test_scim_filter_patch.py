"""hub.scim's filter parser/evaluator and PATCH applier on RFC 7644 examples (§3.4.2.2, §3.5.2)."""

from __future__ import annotations

import pytest

from hub.scim import USER_SCHEMA, ScimError, apply_patch, matches, parse_filter

DOC = {
    "schemas": [USER_SCHEMA], "id": "2819c223", "userName": "bjensen", "title": "Tour Guide", "userType": "Employee",
    "name": {"familyName": "Jensen", "givenName": "Barbara"},
    "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}, {"value": "babs@jensen.org", "type": "home"}],
    "meta": {"resourceType": "User", "lastModified": "2011-05-13T04:42:34Z"},
}
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.mark.parametrize(("text", "expected"), [
    ('userName Eq "BJENSEN"', True),
    ('name.familyName co "O"', False),
    ('userName sw "J"', False),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b"', True),
    ("title pr", True),
    ('meta.lastModified gt "2011-05-13T04:42:34Z"', False),
    ('meta.lastModified ge "2011-05-13T04:42:34Z"', True),
    ('title pr and userType eq "Employee"', True),
    ('title pr or userType eq "Intern"', True),
    ('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', True),
    ('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', False),
    ('emails[type eq "work" and value co "@example.com"]', True),
    ('emails[type eq "work" and value co "@jensen.org"]', False),
    ('id eq "2819C223"', False),  # id is caseExact
    ("nickName pr", False),
])
def test_rfc_filter_examples(text, expected):
    assert matches(parse_filter(text), DOC, USER_SCHEMA) is expected


@pytest.mark.parametrize("text", ["", "userName", 'userName eq "a" or', "not userName pr", 'a[b eq "c"', 'x eq 01x', "title gt false"])
def test_bad_filters_are_invalid_filter(text):
    with pytest.raises(ScimError) as info:
        parse_filter(text)
    assert info.value.status == 400 and info.value.scim_type == "invalidFilter"


def _patch(*ops):
    return apply_patch(DOC, {"schemas": [PATCH], "Operations": list(ops)}, USER_SCHEMA)


def test_patch_operations():
    out = _patch({"op": "Add", "path": "emails", "value": [{"value": "b@x.org", "type": "other"}]},
                 {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "barbara@example.com"},
                 {"op": "remove", "path": 'emails[type eq "home"]'},
                 {"op": "replace", "value": {"title": "Manager", "name.givenName": "Babs"}},
                 {"op": "remove", "path": "userType"})
    assert [e["value"] for e in out["emails"]] == ["barbara@example.com", "b@x.org"]
    assert out["title"] == "Manager" and out["name"]["givenName"] == "Babs" and "userType" not in out
    assert DOC["title"] == "Tour Guide"  # the input is never modified


@pytest.mark.parametrize(("op", "scim_type"), [
    ({"op": "remove"}, "noTarget"),
    ({"op": "replace", "path": "id", "value": "x"}, "mutability"),
    ({"op": "replace", "path": 'emails[type eq "fax"]', "value": {"value": "1"}}, "noTarget"),
    ({"op": "replace", "path": "name..x", "value": 1}, "invalidPath"),
    ({"op": "copy", "path": "title"}, "invalidSyntax"),
])
def test_patch_errors(op, scim_type):
    with pytest.raises(ScimError) as info:
        _patch(op)
    assert info.value.scim_type == scim_type
