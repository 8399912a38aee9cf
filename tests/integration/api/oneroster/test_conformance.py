"""OneRoster 1.2 conformance: the hub's responses validated against 1EdTech's own OpenAPI document.

The document is vendored, unmodified, under ``spec/`` (see spec/README.md). For every path it
lists, the hub is asked with real ids of the seeded roster, and the body is validated (formats
included: ``uri``, ``date``, ``date-time``) against the schema the document gives for that path and
status; error bodies against ``imsx_StatusInfoDType``. Real uvicorn server, SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

_DATA = Path(__file__).parents[3] / "unit" / "oneroster" / "oneroster_roster_data.py"
_spec = importlib.util.spec_from_file_location("_oneroster_roster_data_conformance", _DATA)
assert _spec and _spec.loader
roster_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(roster_data)

SPEC = Path(__file__).parent / "spec" / "onerosterv1p2rostersservice_openapi3_v1p0.json"

#: a real id of the seeded roster for each path parameter of the official document
IDS = {
    "classSourcedId": "k1", "courseSourcedId": "c1", "schoolSourcedId": "s1", "studentSourcedId": "u1",
    "teacherSourcedId": "u5", "termSourcedId": "t1", "userSourcedId": "u5",
}
SINGLE_IDS = {
    "academicSessions": "y1", "classes": "k1", "courses": "c1", "demographics": "u2", "enrollments": "e9",
    "gradingPeriods": "g1", "orgs": "d1", "schools": "s1", "students": "u1", "teachers": "u5", "terms": "t1",
    "users": "u8",
}

#: records with every kind of value the binding renders specially: booleans, profile URIs, optional
#: fields the official document requires (an org's identifier, a course's courseCode)
EXTRA = [
    ("Course", {"sourcedId": "c9", "title": "Chemistry", "org": {"sourcedId": "s1", "type": "org"}}),
    ("User", {"sourcedId": "u8", "username": "u8", "enabledUser": True, "givenName": "Hal", "familyName": "Ito",
              "roles": [{"roleType": "primary", "role": "student", "org": {"sourcedId": "s1", "type": "org"},
                         "userProfile": "canvas u8"}],
              "userProfiles": [{"profileId": "canvas u8", "profileType": "lms", "vendorId": "instructure"},
                               {"profileId": "https://idp.example.org/profiles/u8", "profileType": "idp",
                                "vendorId": "example"}]}),
    ("Enrollment", {"sourcedId": "e9", "user": {"sourcedId": "u8", "type": "user"},
                    "class": {"sourcedId": "k2", "type": "class"}, "school": {"sourcedId": "s1", "type": "org"},
                    "role": "student", "primary": True}),
    ("Demographics", {"sourcedId": "u2", "sex": "male", "asian": False, "white": True,
                      "hispanicOrLatinoEthnicity": False}),
]


@cache
def _document() -> dict[str, Any]:
    return dict(json.loads(SPEC.read_text(encoding="utf-8")))


def _validate(body: Any, schema: dict[str, Any]) -> None:
    doc = _document()
    root = {**schema, "components": doc["components"]}
    validator = jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])


def _response_schema(path: str, status: int) -> dict[str, Any]:
    responses = _document()["paths"][path]["get"]["responses"]
    spec = responses.get(str(status)) or responses["default"]
    return dict(spec["content"]["application/json"]["schema"])


def _concrete(template: str) -> str:
    single = re.fullmatch(r"/(\w+)/\{sourcedId\}", template)
    if single:
        return f"/{single.group(1)}/{SINGLE_IDS[single.group(1)]}"
    return re.sub(r"\{(\w+)\}", lambda m: IDS[m.group(1)], template)


def test_the_vendored_document_is_the_official_one() -> None:
    doc = _document()
    assert doc["info"]["title"] == "OneRoster OpenAPI (JSON) Definition" and doc["info"]["version"] == "1.2"
    assert doc["servers"][0]["variables"]["basePath"]["default"] == "/ims/oneroster/rostering/v1p2"
    assert len(doc["paths"]) == 41


async def _add_extra(hub: Any) -> None:
    default = await hub.store.tenant("default")
    await roster_data.insert_records(hub.db, default.tenant_id, EXTRA, start=roster_data.T0.replace(hour=9))


async def test_every_official_path_answers_what_the_document_says(hub: Any, api: Any) -> None:
    await _add_extra(hub)
    checked = 0
    async with api.client() as http:
        for template in _document()["paths"]:
            res = await http.get(_concrete(template))
            assert res.status_code == 200, (template, res.text)
            body = res.json()
            (records,) = body.values()
            assert records, template  # a non-empty answer, so the record schemas are exercised
            _validate(body, _response_schema(template, 200))
            checked += 1
    assert checked == 41


async def test_booleans_are_the_strings_of_the_binding(hub: Any, api: Any) -> None:
    await _add_extra(hub)
    async with api.client() as http:
        users = {u["sourcedId"]: u for u in (await http.get("/users")).json()["users"]}
        assert users["u1"]["enabledUser"] == "true" and users["u3"]["enabledUser"] == "false"
        assert (await http.get("/enrollments/e9")).json()["enrollment"]["primary"] == "true"
        demo = (await http.get("/demographics/u2")).json()["demographics"]
        assert (demo["asian"], demo["white"], demo["hispanicOrLatinoEthnicity"]) == ("false", "true", "false")
        for flt, expected in (("enabledUser='false'", ["u3"]), ("enabledUser=false", ["u3"]),
                              ("enabledUser!='true'", ["u3"])):
            res = await http.get("/users", params={"filter": flt})
            assert [u["sourcedId"] for u in res.json()["users"]] == expected, flt
        res = await http.get("/enrollments", params={"filter": "primary='true'"})
        assert [e["sourcedId"] for e in res.json()["enrollments"]] == ["e9"]
        selected = (await http.get("/users/u3", params={"fields": "enabledUser"})).json()["user"]
        assert selected == {"enabledUser": "false"}
    # the canonical store and the management API keep real booleans
    async with api.management() as http:
        res = await http.get("/entities/User/u3")
        assert res.status_code == 200, res.text
        assert res.json()["data"]["enabledUser"] is False


async def test_profile_ids_are_uris(hub: Any, api: Any) -> None:
    await _add_extra(hub)
    async with api.client() as http:
        user = (await http.get("/users/u8")).json()["user"]
    profiles = [p["profileId"] for p in user["userProfiles"]]
    assert profiles[1] == "https://idp.example.org/profiles/u8"  # already a URI: as stored
    assert profiles[0] != "canvas u8" and user["roles"][0]["userProfile"] == profiles[0]
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    assert all(checker.conforms(p, "uri") for p in profiles)


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/users", {"filter": "nope='x'"}, 400, "invalid_filter_field"),
        ("/users", {"fields": "givenName,nope"}, 400, "invalid_selection_field"),
        ("/users", {"sort": "nope"}, 400, "invalid_selection_field"),
        ("/users", {"sort": "roles"}, 400, "invalid_selection_field"),
        ("/users", {"limit": "abc"}, 400, "invaliddata"),
        ("/users/nope", {}, 404, "unknownobject"),
        ("/schools/nope/classes", {}, 404, "unknownobject"),
    ],
)
async def test_errors_use_the_codes_of_the_binding(api: Any, path: str, params: dict[str, str], status: int,
                                                   code: str) -> None:
    async with api.client() as http:
        res = await http.get(path, params=params)
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith("application/json")
    _validate(res.json(), _response_schema("/users", status))
    assert res.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == code


async def test_an_empty_fields_parameter_selects_every_field(api: Any) -> None:
    async with api.client() as http:
        everything = await http.get("/users/u1")
        empty = await http.get("/users/u1", params={"fields": ""})
        listed = await http.get("/users", params={"fields": ""})
    assert empty.status_code == 200 and empty.json() == everything.json()
    assert listed.status_code == 200 and len(listed.json()["users"]) == 7


@pytest.mark.parametrize("path", ["/ims/oneroster/rostering/v1p2/nope", "/ims/oneroster/rostering/v1p2/users/u1/nope",
                                  "/ims/oneroster/gradebook/v1p2/lineItems", "/ims/oneroster"])
async def test_unknown_paths_are_imsx_404(api: Any, path: str) -> None:
    async with api.client() as http:
        res = await http.get(api.server.base + path)
    assert res.status_code == 404, res.text
    assert res.headers["content-type"].startswith("application/json")
    _validate(res.json(), _response_schema("/users", 404))
    assert res.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unknownobject"


async def test_no_prev_link_to_an_empty_page(api: Any) -> None:
    async with api.client() as http:
        res = await http.get("/users", params={"limit": 2, "offset": 20})
        assert res.status_code == 200 and res.json()["users"] == []
        rel = {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', res.headers["Link"])}
        assert "next" not in rel and "offset=6" in rel["last"]
        prev = await http.get(rel["prev"])
        assert [u["sourcedId"] for u in prev.json()["users"]] == ["u7"]  # the last page, not another empty one
        assert "offset=6" in rel["prev"]


async def test_auth_and_method_errors_are_imsx_too(api: Any) -> None:
    async with api.client("") as http:
        res = await http.get("/users")
    assert res.status_code == 401 and res.headers["content-type"].startswith("application/json")
    _validate(res.json(), _response_schema("/users", 401))
    assert res.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unauthorisedrequest"
    async with api.client() as http:
        res = await http.post("/users", json={})
    assert res.status_code == 405 and res.headers["content-type"].startswith("application/json")
    _validate(res.json(), _response_schema("/users", 405))
