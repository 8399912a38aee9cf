"""The shipped OneRoster CSV mappings load against the canonical model and map a realistic row each."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.mapping import MappingRegistry, load_mapping

schemas = pytest.importorskip("schemas")

FOLDER = Path(__file__).resolve().parents[3] / "mappings"
STREAMS = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
BASE = {"status": "", "dateLastModified": "2025-03-01T12:00:00Z", "metadata": {"district.code": "D7"}}

ROWS = {
    "orgs": {"sourcedId": "s1", "name": "North High", "type": "school", "identifier": "NH-01",
             "parentSourcedId": "d1"},
    "academicSessions": {"sourcedId": "t1", "title": "Fall 2025", "type": "term", "startDate": "2025-09-01",
                         "endDate": "2025-12-20", "parentSourcedId": "y2026", "schoolYear": "2026"},
    "courses": {"sourcedId": "c1", "schoolYearSourcedId": "y2026", "title": "Algebra I", "courseCode": "MA101",
                "grades": "09,10", "orgSourcedId": "s1", "subjects": "Mathematics", "subjectCodes": ""},
    "classes": {"sourcedId": "k1", "title": "Algebra I - P1", "grades": "09", "courseSourcedId": "c1",
                "classCode": "MA101-1", "classType": "scheduled", "location": "Room 12", "schoolSourcedId": "s1",
                "termSourcedIds": "t1, t2", "subjects": "Mathematics", "subjectCodes": "", "periods": "1,2"},
    "users": {"sourcedId": "u1", "enabledUser": "true", "username": "jdoe", "userIds": "{Fed:1234},{LDAP:jd:oe}",
              "givenName": "Jane", "familyName": "Doe", "middleName": "", "identifier": "900123",
              "email": "jdoe@example.org", "sms": "", "phone": "+1 555 0100", "agentSourcedIds": "p1,p2",
              "grades": "09", "password": "hunter2", "userMasterIdentifier": "", "resourceSourcedIds": "",
              "preferredGivenName": "Janie", "preferredMiddleName": "", "preferredFamilyName": "",
              "primaryOrgSourcedId": "s1", "pronouns": "she/her",
              "roles": [
                  {"roleType": "primary", "role": "student", "orgSourcedId": "s1", "userProfileSourcedId": "pr1",
                   "beginDate": "2025-09-01", "endDate": ""},
                  {"roleType": "secondary", "role": "administrator", "orgSourcedId": "s2",
                   "userProfileSourcedId": "", "beginDate": "", "endDate": ""},
              ],
              "userProfiles": [
                  {"sourcedId": "pr1", "profileType": "lms", "vendorId": "acme", "applicationId": "", "description": "",
                   "credentialType": "sso", "username": "jdoe@acme"},
                  {"sourcedId": "pr2", "profileType": "email", "vendorId": "mail", "applicationId": "app",
                   "description": "", "credentialType": "", "username": ""},
              ]},
    "enrollments": {"sourcedId": "e1", "classSourcedId": "k1", "schoolSourcedId": "s1", "userSourcedId": "u1",
                    "role": "aide", "primary": "false", "beginDate": "2025-09-01", "endDate": ""},
    "demographics": {"sourcedId": "u1", "birthDate": "2010-04-05", "sex": "female", "americanIndianOrAlaskaNative": "false",
                     "asian": "true", "blackOrAfricanAmerican": "", "nativeHawaiianOrOtherPacificIslander": "",
                     "white": "false", "demographicRaceTwoOrMoreRaces": "", "hispanicOrLatinoEthnicity": "false",
                     "countryOfBirthCode": "US", "stateOfBirthAbbreviation": "NY", "cityOfBirth": "Albany",
                     "publicSchoolResidenceStatus": ""},
}  # fmt: skip


def test_every_stream_has_a_mapping_and_all_check() -> None:
    registry = MappingRegistry([FOLDER], schemas.BUILTIN_TYPES)
    assert registry.available("oneroster_csv") == sorted(STREAMS)
    ours = [error for error in registry.check_all() if "oneroster_csv" in (error.file or "")]
    assert ours == []


@pytest.mark.parametrize("stream", STREAMS)
def test_shipped_mapping_maps_a_realistic_row(stream: str) -> None:
    mapping = load_mapping(FOLDER / "oneroster_csv" / f"{stream}.yaml", schemas.BUILTIN_TYPES)
    assert (mapping.connector, mapping.stream) == ("oneroster_csv", stream)
    record = mapping.validate({**BASE, **ROWS[stream]})
    data = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert data["sourcedId"] == ROWS[stream]["sourcedId"]
    assert data["status"] == "active"
    assert data["dateLastModified"] == "2025-03-01T12:00:00Z"
    assert data["metadata"] == {"district.code": "D7"}
    assert "password" not in str(data)
    EXPECTED[stream](data)


def _users(data: dict) -> None:
    assert data["userIds"] == [{"type": "Fed", "identifier": "1234"}, {"type": "LDAP", "identifier": "jd:oe"}]
    assert data["enabledUser"] is True and data["preferredFirstName"] == "Janie" and "middleName" not in data
    assert data["agents"] == [{"sourcedId": "p1", "type": "user"}, {"sourcedId": "p2", "type": "user"}]
    assert data["roles"] == [
        {"roleType": "primary", "role": "student", "org": {"sourcedId": "s1", "type": "org"}, "userProfile": "pr1",
         "beginDate": "2025-09-01"},
        {"roleType": "secondary", "role": "ext:administrator", "org": {"sourcedId": "s2", "type": "org"}},
    ]  # fmt: skip
    assert data["userProfiles"] == [
        {"profileId": "pr1", "profileType": "lms", "vendorId": "acme",
         "credentials": [{"type": "sso", "username": "jdoe@acme"}]},
        {"profileId": "pr2", "profileType": "email", "vendorId": "mail", "applicationId": "app"},
    ]  # fmt: skip
    assert data["primaryOrg"] == {"sourcedId": "s1", "type": "org"} and data["grades"] == ["09"]


EXPECTED = {
    "orgs": lambda d: d["parent"] == {"sourcedId": "d1", "type": "org"} and d["type"] == "school" or pytest.fail(str(d)),
    "academicSessions": lambda d: (d["startDate"], d["schoolYear"], d["parent"]["type"])
    == ("2025-09-01", "2026", "academicSession") or pytest.fail(str(d)),
    "courses": lambda d: (d["grades"], d["org"]["sourcedId"], d["schoolYear"]["type"], "subjectCodes" in d)
    == (["09", "10"], "s1", "academicSession", False) or pytest.fail(str(d)),
    "classes": lambda d: (d["terms"], d["periods"], d["course"]["type"], d["school"]["type"])
    == ([{"sourcedId": "t1", "type": "academicSession"}, {"sourcedId": "t2", "type": "academicSession"}],
        ["1", "2"], "course", "org") or pytest.fail(str(d)),
    "users": _users,
    "enrollments": lambda d: (d["class"], d["role"], d["primary"], d["user"]["type"])
    == ({"sourcedId": "k1", "type": "class"}, "ext:aide", False, "user") or pytest.fail(str(d)),
    "demographics": lambda d: (d["birthDate"], d["sex"], d["asian"], d["white"], "blackOrAfricanAmerican" in d)
    == ("2010-04-05", "female", True, False, False) or pytest.fail(str(d)),
}


def test_users_mapping_never_reads_the_password() -> None:
    text = (FOLDER / "oneroster_csv" / "users.yaml").read_text()
    assert "password" not in text.split("fields:", 1)[1]
    mapping = load_mapping(FOLDER / "oneroster_csv" / "users.yaml", schemas.BUILTIN_TYPES)
    data = mapping.apply({**BASE, **ROWS["users"], "metadata": {"password_hash": "x", "a": "b"}})
    assert "hunter2" not in repr(data) and data["metadata"] == {"a": "b"}
