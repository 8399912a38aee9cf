"""Contract tests of the canonical model: shapes, constraints, enums, aliases, flags."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import schemas
from schemas import (
    BUILTIN_TYPES,
    AcademicSession,
    CanonicalRecord,
    Class,
    Course,
    Credential,
    Demographics,
    Enrollment,
    EnrollmentRole,
    Org,
    OrgType,
    Ref,
    RoleName,
    RoleType,
    Status,
    User,
    UserRole,
)


def _error_locs(exc: ValidationError) -> set[tuple[Any, ...]]:
    return {tuple(err["loc"]) for err in exc.errors()}


# -- public surface -------------------------------------------------------------------------


def test_all_matches_public_names() -> None:
    public = {name for name in vars(schemas) if not name.startswith("_")}
    submodules = {"enums", "people", "rostering", "export"}
    assert set(schemas.__all__) == public - submodules - {"annotations"}
    for name in schemas.__all__:
        assert hasattr(schemas, name)


def test_contract_names_exported() -> None:
    required = {
        "CanonicalRecord", "Ref", "Status", "Org", "AcademicSession", "Course", "Class", "User",
        "UserRole", "UserId", "UserProfile", "Credential", "Enrollment", "Demographics",
        "BUILTIN_TYPES", "OrgType", "SessionType", "RoleType", "RoleName", "ClassType",
        "EnrollmentRole", "Sex",
    }  # fmt: skip
    assert required <= set(schemas.__all__)


def test_builtin_types_complete() -> None:
    assert BUILTIN_TYPES == {
        "Org": Org,
        "AcademicSession": AcademicSession,
        "Course": Course,
        "Class": Class,
        "User": User,
        "Enrollment": Enrollment,
        "Demographics": Demographics,
    }
    # every CanonicalRecord subclass defined by the package is registered
    defined = {
        cls for cls in CanonicalRecord.__subclasses__() if cls.__module__.startswith("schemas.")
    }
    assert defined == set(BUILTIN_TYPES.values())


@pytest.mark.parametrize(
    ("model", "oneroster_type", "personal"),
    [
        (Org, "org", False),
        (AcademicSession, "academicSession", False),
        (Course, "course", False),
        (Class, "class", False),
        (User, "user", True),
        (Enrollment, "enrollment", True),
        (Demographics, "demographics", True),
    ],
)
def test_class_vars(model: type[CanonicalRecord], oneroster_type: str, personal: bool) -> None:
    assert model.oneroster_type == oneroster_type
    assert model.personal is personal
    # class variables, not fields: never validated or dumped
    assert "oneroster_type" not in model.model_fields
    assert "personal" not in model.model_fields


# -- round trip of the examples -------------------------------------------------------------


def test_examples_round_trip(example: tuple[str, dict[str, Any]]) -> None:
    type_name, data = example
    model = BUILTIN_TYPES[type_name]
    record = model.model_validate(data)
    dumped = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert model.model_validate(dumped) == record
    assert dumped["status"] == "active"


def test_base_config_forbids_extra_and_is_frozen() -> None:
    assert CanonicalRecord.model_config["extra"] == "forbid"
    assert CanonicalRecord.model_config["frozen"] is True
    for model in (*BUILTIN_TYPES.values(), Ref, UserRole, Credential):
        assert model.model_config["extra"] == "forbid", model
        assert model.model_config["frozen"] is True, model


def test_extra_field_forbidden(example: tuple[str, dict[str, Any]]) -> None:
    type_name, data = example
    with pytest.raises(ValidationError) as exc:
        BUILTIN_TYPES[type_name].model_validate({**data, "unknownField": 1})
    assert exc.value.errors()[0]["type"] == "extra_forbidden"


def test_frozen(examples: dict[str, dict[str, Any]]) -> None:
    org = Org.model_validate(examples["Org"])
    with pytest.raises(ValidationError):
        org.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        org.parent.sourcedId = "x"  # type: ignore[misc,union-attr]
    assert hash(Ref(sourcedId="a", type="org")) == hash(Ref(sourcedId="a", type="org"))


# -- base fields ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "x" * 256])
def test_sourced_id_constraints(bad: str) -> None:
    with pytest.raises(ValidationError):
        Ref(sourcedId=bad, type="org")
    with pytest.raises(ValidationError):
        Org(sourcedId=bad, name="n", type="school")


def test_sourced_id_stripped_and_max_length() -> None:
    assert Org(sourcedId="  o1 ", name="n", type="school").sourcedId == "o1"
    assert len(Org(sourcedId="x" * 255, name="n", type="school").sourcedId) == 255


def test_status_defaults_and_values() -> None:
    assert [s.value for s in Status] == ["active", "tobedeleted"]
    org = Org(sourcedId="o", name="n", type="school")
    assert org.status is Status.active
    assert org.dateLastModified is None and org.metadata is None
    assert Org(sourcedId="o", name="n", type="school", status="tobedeleted").status is Status.tobedeleted
    with pytest.raises(ValidationError):
        Org(sourcedId="o", name="n", type="school", status="inactive")


def test_naive_datetime_is_utc() -> None:
    org = Org.model_validate({"sourcedId": "o", "name": "n", "type": "school",
                              "dateLastModified": "2025-01-02T03:04:05"})  # fmt: skip
    assert org.dateLastModified == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert org.dateLastModified.utcoffset() == timedelta(0)
    naive = Org(sourcedId="o", name="n", type="school", dateLastModified=datetime(2025, 1, 2, 3, 4, 5))
    assert naive.dateLastModified == org.dateLastModified
    assert naive.model_dump(mode="json")["dateLastModified"] == "2025-01-02T03:04:05Z"


def test_aware_datetime_normalised_to_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    org = Org(sourcedId="o", name="n", type="school",
              dateLastModified=datetime(2025, 1, 2, 5, 4, 5, tzinfo=plus2))  # fmt: skip
    assert org.dateLastModified == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert org.dateLastModified.utcoffset() == timedelta(0)


def test_metadata_is_free_form() -> None:
    org = Org(sourcedId="o", name="n", type="school", metadata={"a": {"b": [1, 2]}})
    assert org.metadata == {"a": {"b": [1, 2]}}


# -- required fields ------------------------------------------------------------------------

REQUIRED = {
    "Org": {"sourcedId", "name", "type"},
    "AcademicSession": {"sourcedId", "title", "startDate", "endDate", "type", "schoolYear"},
    "Course": {"sourcedId", "title", "org"},
    "Class": {"sourcedId", "title", "classType", "course", "school", "terms"},
    "User": {"sourcedId", "username", "enabledUser", "givenName", "familyName", "roles"},
    "Enrollment": {"sourcedId", "user", "class", "school", "role"},
    "Demographics": {"sourcedId"},
}


@pytest.mark.parametrize("type_name", sorted(REQUIRED))
def test_required_fields(type_name: str) -> None:
    model = BUILTIN_TYPES[type_name]
    required = {
        info.alias or name for name, info in model.model_fields.items() if info.is_required()
    }
    assert required == REQUIRED[type_name]
    with pytest.raises(ValidationError) as exc:
        model.model_validate({})
    assert {loc[0] for loc in _error_locs(exc.value)} == REQUIRED[type_name]


def test_nested_required_fields() -> None:
    with pytest.raises(ValidationError) as exc:
        UserRole.model_validate({})
    assert {loc[0] for loc in _error_locs(exc.value)} == {"roleType", "role", "org"}
    with pytest.raises(ValidationError) as exc:
        schemas.UserProfile.model_validate({})
    assert {loc[0] for loc in _error_locs(exc.value)} == {"profileId", "profileType", "vendorId"}
    with pytest.raises(ValidationError) as exc:
        schemas.UserId.model_validate({})
    assert {loc[0] for loc in _error_locs(exc.value)} == {"type", "identifier"}


def test_user_needs_at_least_one_role(examples: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(ValidationError):
        User.model_validate({**examples["User"], "roles": []})


def test_class_needs_at_least_one_term(examples: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(ValidationError):
        Class.model_validate({**examples["Class"], "terms": []})


def test_school_year_is_four_digits(examples: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(ValidationError):
        AcademicSession.model_validate({**examples["AcademicSession"], "schoolYear": "2024-2025"})


def test_dates_and_booleans_typed(examples: dict[str, dict[str, Any]]) -> None:
    session = AcademicSession.model_validate(examples["AcademicSession"])
    assert session.startDate == date(2024, 9, 1)
    user = User.model_validate({**examples["User"], "enabledUser": "false"})  # CSV-style text
    assert user.enabledUser is False
    assert user.roles[0].beginDate == date(2024, 9, 1)
    demo = Demographics.model_validate(examples["Demographics"])
    assert demo.birthDate == date(2014, 4, 1) and demo.white is True


# -- references ------------------------------------------------------------------------------


def test_ref_shape() -> None:
    assert set(Ref.model_fields) == {"sourcedId", "type"}
    ref = Ref.model_validate({"sourcedId": "o1", "type": "org"})
    assert ref.model_dump() == {"sourcedId": "o1", "type": "org"}
    with pytest.raises(ValidationError):
        Ref.model_validate({"sourcedId": "o1", "type": "org", "href": "https://x/orgs/o1"})
    with pytest.raises(ValidationError):
        Ref.model_validate({"sourcedId": "o1"})
    with pytest.raises(ValidationError):
        Ref.model_validate({"sourcedId": "o1", "type": ""})


def _annotation_mentions_ref(annotation: Any) -> bool:
    return annotation is Ref or any(_annotation_mentions_ref(a) for a in typing.get_args(annotation))


def test_reference_fields_are_refs() -> None:
    expected = {
        "Org": {"parent", "children"},
        "AcademicSession": {"parent", "children"},
        "Course": {"schoolYear", "org", "resources"},
        "Class": {"course", "school", "terms", "resources"},
        "User": {"primaryOrg", "agents", "resources"},
        "Enrollment": {"user", "class", "school"},
        "Demographics": set(),
    }
    for type_name, model in BUILTIN_TYPES.items():
        refs = {
            info.alias or name
            for name, info in model.model_fields.items()
            if _annotation_mentions_ref(info.annotation)
        }
        assert refs == expected[type_name], type_name


# -- enums -----------------------------------------------------------------------------------


def test_enum_values() -> None:
    assert {m.value for m in OrgType} == {"department", "district", "local", "national", "school", "state"}
    assert {m.value for m in schemas.SessionType} == {"gradingPeriod", "semester", "schoolYear", "term"}
    assert {m.value for m in schemas.ClassType} == {"homeroom", "scheduled"}
    assert {m.value for m in RoleType} == {"primary", "secondary"}
    assert {m.value for m in RoleName} == {
        "aide", "counselor", "districtAdministrator", "guardian", "parent", "principal", "proctor",
        "relative", "siteAdministrator", "student", "systemAdministrator", "teacher",
    }  # fmt: skip
    assert {m.value for m in EnrollmentRole} == {"administrator", "proctor", "student", "teacher"}
    assert {m.value for m in schemas.Sex} == {"female", "male", "other", "unspecified"}


def test_spec_values_become_enum_members(examples: dict[str, dict[str, Any]]) -> None:
    assert Org.model_validate(examples["Org"]).type is OrgType.school
    user = User.model_validate(examples["User"])
    assert user.roles[0].role is RoleName.student and user.roles[0].roleType is RoleType.primary
    assert Enrollment.model_validate(examples["Enrollment"]).role is EnrollmentRole.student


EXTENSIBLE = [
    ("Org", ("type",)),
    ("AcademicSession", ("type",)),
    ("Class", ("classType",)),
    ("Enrollment", ("role",)),
    ("Demographics", ("sex",)),
    ("User", ("roles", 0, "role")),
]


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(("type_name", "path"), EXTENSIBLE)
def test_ext_values_accepted(
    examples: dict[str, dict[str, Any]], type_name: str, path: tuple[Any, ...]
) -> None:
    model = BUILTIN_TYPES[type_name]
    record = model.model_validate(_set(examples[type_name], path, "ext:my-value_1.0"))
    dumped: Any = record.model_dump(mode="json", by_alias=True)
    for key in path:
        dumped = dumped[key]
    assert dumped == "ext:my-value_1.0"


@pytest.mark.parametrize(("type_name", "path"), EXTENSIBLE)
@pytest.mark.parametrize("bad", ["notInSpec", "ext:", "ext:has space", "EXT:x", "x-ext:y"])
def test_unknown_values_rejected(
    examples: dict[str, dict[str, Any]], type_name: str, path: tuple[Any, ...], bad: str
) -> None:
    with pytest.raises(ValidationError):
        BUILTIN_TYPES[type_name].model_validate(_set(examples[type_name], path, bad))


def test_role_type_and_status_are_closed(examples: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(ValidationError):
        User.model_validate(_set(examples["User"], ("roles", 0, "roleType"), "ext:tertiary"))
    with pytest.raises(ValidationError):
        Org.model_validate({**examples["Org"], "status": "ext:archived"})


# -- the `class` alias -----------------------------------------------------------------------


def test_enrollment_class_alias_both_ways(examples: dict[str, dict[str, Any]]) -> None:
    enrollment = Enrollment.model_validate(examples["Enrollment"])
    assert enrollment.class_ == Ref(sourcedId="class-1", type="class")
    dumped = enrollment.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped["class"] == {"sourcedId": "class-1", "type": "class"}
    assert "class_" not in dumped
    # Python code may use the field name
    built = Enrollment(
        sourcedId="enr-1",
        user=enrollment.user,
        class_=enrollment.class_,
        school=enrollment.school,
        role="student",
        primary=False,
        beginDate=date(2024, 9, 1),
    )
    assert built == enrollment
    assert "class" in Enrollment.model_json_schema(by_alias=True)["properties"]


def test_enrollment_missing_class_reports_alias(examples: dict[str, dict[str, Any]]) -> None:
    data = examples["Enrollment"]
    del data["class"]
    with pytest.raises(ValidationError) as exc:
        Enrollment.model_validate(data)
    assert ("class",) in _error_locs(exc.value)


# -- no passwords ----------------------------------------------------------------------------


def test_no_password_field_anywhere() -> None:
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            assert "password" not in (info.alias or name).lower(), f"{model.__name__}.{name}"
            for arg in _flatten(info.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    walk(arg)

    for model in BUILTIN_TYPES.values():
        walk(model)
    assert Credential in seen


def _flatten(annotation: Any) -> list[Any]:
    out = [annotation]
    for arg in typing.get_args(annotation):
        out.extend(_flatten(arg))
    return out


def test_password_rejected(examples: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(ValidationError):
        User.model_validate({**examples["User"], "password": "hunter2"})
    data = examples["User"]
    data["userProfiles"][0]["credentials"][0]["password"] = "hunter2"
    with pytest.raises(ValidationError):
        User.model_validate(data)


# -- dump shape used by the sync engine ------------------------------------------------------


def test_dump_excludes_none_and_uses_json_types(examples: dict[str, dict[str, Any]]) -> None:
    user = User.model_validate(examples["User"])
    dumped = user.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert "middleName" not in dumped
    assert dumped["roles"][0] == {
        "roleType": "primary",
        "role": "student",
        "org": {"sourcedId": "org-1", "type": "org"},
        "userProfile": "profile-1",
        "beginDate": "2024-09-01",
    }
    assert dumped["enabledUser"] is True
