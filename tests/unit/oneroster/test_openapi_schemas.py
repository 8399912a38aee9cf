"""The OpenAPI description of the OneRoster endpoints, generated from the catalogue and the models."""

from __future__ import annotations

import json

from hub.oneroster import RESOURCES, openapi_components, openapi_operation, openapi_operations


def test_records_follow_the_binding() -> None:
    schemas = openapi_components()
    user, enrollment = schemas["OneRosterUser"], schemas["OneRosterEnrollment"]
    assert user["properties"]["enabledUser"]["enum"] == ["true", "false"]
    assert enrollment["properties"]["primary"]["enum"] == ["true", "false"]
    assert "class" in enrollment["properties"]  # the alias, not class_
    assert schemas["OneRosterUserProfile"]["properties"]["profileId"]["format"] == "uri"
    assert schemas["OneRosterUserRole"]["properties"]["userProfile"]["format"] == "uri"
    assert schemas["OneRosterRef"]["required"] == ["href", "sourcedId", "type"]
    assert "title" in schemas["OneRosterClass"]["properties"]  # a property named title survives
    assert all("required" not in schemas[f"OneRoster{r.type}"] for r in RESOURCES.values())  # fields=
    assert '"boolean"' not in json.dumps(schemas) and '"null"' not in json.dumps(schemas)


def test_every_endpoint_is_described() -> None:
    ops = openapi_operations()
    assert ops["/users"] == (RESOURCES["users"], True) and ops["/users/{sourced_id}"] == (RESOURCES["users"], False)
    assert ops["/schools/{school_id}/classes/{class_id}/students"][0] is RESOURCES["students"]
    assert len(ops) == 2 * len(RESOURCES) + 19
    listed = openapi_operation(RESOURCES["demographics"], collection=True)
    assert [p["name"] for p in listed["parameters"]] == ["limit", "offset", "sort", "orderBy", "filter", "fields"]
    assert listed["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "OneRosterDemographicsSet")
    assert set(listed["responses"]["200"]["headers"]) == {"X-Total-Count", "Link"}
    assert listed["scopes"] == ["https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly"]
    assert all(r["content"]["application/json"]["schema"]["$ref"].endswith("OneRosterStatusInfo")
               for code, r in listed["responses"].items() if code != "200")
