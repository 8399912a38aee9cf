"""OneRoster 1.2 enumerations used by the canonical model.

Where the OneRoster 1.2 binding marks an enumeration as extensible, fields accept either a
member of the enum below or an ``ext:``-prefixed string (see ``schemas._base.EXT_PATTERN``);
the field types in the model modules spell that union out.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ClassType",
    "EnrollmentRole",
    "OrgType",
    "RoleName",
    "RoleType",
    "SessionType",
    "Sex",
]


class OrgType(StrEnum):
    """``OrgTypeEnum`` (extensible with ``ext:``)."""

    department = "department"
    district = "district"
    local = "local"
    national = "national"
    school = "school"
    state = "state"


class SessionType(StrEnum):
    """``SessionTypeEnum`` of an academic session (extensible with ``ext:``)."""

    gradingPeriod = "gradingPeriod"
    semester = "semester"
    schoolYear = "schoolYear"
    term = "term"


class ClassType(StrEnum):
    """``ClassTypeEnum`` (extensible with ``ext:``)."""

    homeroom = "homeroom"
    scheduled = "scheduled"


class RoleType(StrEnum):
    """``RoleTypeEnum`` of a user's role: exactly one primary role, others secondary. Closed."""

    primary = "primary"
    secondary = "secondary"


class RoleName(StrEnum):
    """``RoleEnum``: the role a user holds in an org (extensible with ``ext:``)."""

    aide = "aide"
    counselor = "counselor"
    districtAdministrator = "districtAdministrator"
    guardian = "guardian"
    parent = "parent"
    principal = "principal"
    proctor = "proctor"
    relative = "relative"
    siteAdministrator = "siteAdministrator"
    student = "student"
    systemAdministrator = "systemAdministrator"
    teacher = "teacher"


class EnrollmentRole(StrEnum):
    """``EnrolRoleEnum``: the role of a user in a class (extensible with ``ext:``)."""

    administrator = "administrator"
    proctor = "proctor"
    student = "student"
    teacher = "teacher"


class Sex(StrEnum):
    """``SexEnum`` of the demographics record (extensible with ``ext:``)."""

    female = "female"
    male = "male"
    other = "other"
    unspecified = "unspecified"
