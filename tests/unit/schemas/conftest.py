"""Fixtures for the canonical model tests: one valid example dict per built-in type."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

# The repository root is not on sys.path when the project is not installed (``pytest`` run as a
# script from a fresh checkout); make ``import schemas`` work either way.
if importlib.util.find_spec("schemas") is None:  # pragma: no cover - depends on the environment
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))


def _ref(sourced_id: str, type_: str) -> dict[str, str]:
    return {"sourcedId": sourced_id, "type": type_}


EXAMPLES: dict[str, dict[str, Any]] = {
    "Org": {
        "sourcedId": "org-1",
        "status": "active",
        "dateLastModified": "2025-01-02T03:04:05Z",
        "name": "Springfield Elementary",
        "type": "school",
        "identifier": "SE-001",
        "parent": _ref("district-1", "org"),
        "children": [_ref("dept-1", "org")],
        "metadata": {"ext:region": "north"},
    },
    "AcademicSession": {
        "sourcedId": "term-1",
        "title": "Fall 2024",
        "startDate": "2024-09-01",
        "endDate": "2024-12-20",
        "type": "term",
        "parent": _ref("year-2025", "academicSession"),
        "schoolYear": "2025",
    },
    "Course": {
        "sourcedId": "course-1",
        "title": "Algebra I",
        "schoolYear": _ref("year-2025", "academicSession"),
        "courseCode": "MATH-101",
        "grades": ["09"],
        "subjects": ["mathematics"],
        "org": _ref("org-1", "org"),
        "subjectCodes": ["02052"],
    },
    "Class": {
        "sourcedId": "class-1",
        "title": "Algebra I - Period 1",
        "classCode": "ALG1-P1",
        "classType": "scheduled",
        "location": "Room 12",
        "course": _ref("course-1", "course"),
        "school": _ref("org-1", "org"),
        "terms": [_ref("term-1", "academicSession")],
        "periods": ["1"],
    },
    "User": {
        "sourcedId": "user-1",
        "userMasterIdentifier": "master-1",
        "username": "bart",
        "userIds": [{"type": "LDAP", "identifier": "bsimpson"}],
        "enabledUser": True,
        "givenName": "Bart",
        "familyName": "Simpson",
        "preferredFirstName": "El Barto",
        "pronouns": "he/him",
        "roles": [
            {
                "roleType": "primary",
                "role": "student",
                "org": _ref("org-1", "org"),
                "userProfile": "profile-1",
                "beginDate": "2024-09-01",
            }
        ],
        "userProfiles": [
            {
                "profileId": "profile-1",
                "profileType": "lms",
                "vendorId": "vendor-1",
                "credentials": [{"type": "lms", "username": "bart"}],
            }
        ],
        "primaryOrg": _ref("org-1", "org"),
        "email": "bart@example.org",
        "agents": [_ref("user-2", "user")],
        "grades": ["04"],
    },
    "Enrollment": {
        "sourcedId": "enr-1",
        "user": _ref("user-1", "user"),
        "class": _ref("class-1", "class"),
        "school": _ref("org-1", "org"),
        "role": "student",
        "primary": False,
        "beginDate": "2024-09-01",
    },
    "Demographics": {
        "sourcedId": "user-1",
        "birthDate": "2014-04-01",
        "sex": "male",
        "white": True,
        "hispanicOrLatinoEthnicity": False,
        "countryOfBirthCode": "US",
        "stateOfBirthAbbreviation": "OR",
        "cityOfBirth": "Springfield",
        "publicSchoolResidenceStatus": "01652",
    },
}


@pytest.fixture(params=sorted(EXAMPLES))
def example(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """(type name, valid example dict) for each built-in type."""
    return request.param, EXAMPLES[request.param]


@pytest.fixture
def examples() -> dict[str, dict[str, Any]]:
    """A fresh deep copy of every example dict, by type name."""
    import copy

    return copy.deepcopy(EXAMPLES)
