"""Personal canonical records: users (with roles, ids, profiles), enrollments, demographics.

These are personal data, often of minors (``personal = True``): the hub never publishes them
except to explicitly approved recipients. Field names are the OneRoster 1.2 REST/JSON binding
names; required/optional follows the OneRoster 1.2 Rostering information model.

No password is modelled anywhere (neither ``User.password`` nor ``Credential.password``): the
hub is an integration hub, not an identity provider, so it has no use for a password and
must not become a store of them. Because models forbid unknown fields, a mapping that tries to
carry a password fails validation instead of silently storing it.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ._base import CanonicalRecord, ExtValue, NonEmptyStr, Ref
from .enums import EnrollmentRole, RoleName, RoleType, Sex

__all__ = ["Credential", "Demographics", "Enrollment", "User", "UserId", "UserProfile", "UserRole"]

_NESTED = ConfigDict(extra="forbid", frozen=True)


class UserId(BaseModel):
    """An identifier of the user in another system (OneRoster ``UserId``)."""

    model_config = _NESTED

    type: NonEmptyStr
    identifier: NonEmptyStr


class Credential(BaseModel):
    """A login of the user in an application, without the secret (OneRoster ``Credential``).

    OneRoster allows an optional ``password``; FediFlow deliberately never models it.
    """

    model_config = _NESTED

    type: NonEmptyStr
    username: NonEmptyStr


class UserProfile(BaseModel):
    """An account of the user in an application or system (OneRoster ``UserProfile``)."""

    model_config = _NESTED

    profileId: NonEmptyStr
    profileType: NonEmptyStr
    vendorId: NonEmptyStr
    applicationId: str | None = None
    description: str | None = None
    credentials: list[Credential] | None = None


class UserRole(BaseModel):
    """A role the user holds in an org (OneRoster ``Role``)."""

    model_config = _NESTED

    roleType: RoleType
    role: RoleName | ExtValue
    org: Ref
    userProfile: str | None = Field(default=None, description="The profileId of one of the user's profiles.")
    beginDate: date | None = None
    endDate: date | None = None


class User(CanonicalRecord):
    """A person: student, teacher, guardian, administrator ... (OneRoster ``user``)."""

    oneroster_type: ClassVar[str] = "user"
    personal: ClassVar[bool] = True

    userMasterIdentifier: str | None = None
    username: NonEmptyStr
    userIds: list[UserId] | None = None
    enabledUser: bool
    givenName: NonEmptyStr
    familyName: NonEmptyStr
    middleName: str | None = None
    preferredFirstName: str | None = None
    preferredMiddleName: str | None = None
    preferredLastName: str | None = None
    pronouns: str | None = None
    roles: list[UserRole] = Field(min_length=1)
    userProfiles: list[UserProfile] | None = None
    primaryOrg: Ref | None = None
    identifier: str | None = None
    email: str | None = None
    sms: str | None = None
    phone: str | None = None
    agents: list[Ref] | None = Field(default=None, description="References to related users (guardians ...).")
    grades: list[str] | None = None
    resources: list[Ref] | None = None


class Enrollment(CanonicalRecord):
    """A user's membership of a class (OneRoster ``enrollment``).

    ``class`` is a Python keyword, so the field is ``class_`` with the alias ``"class"``:
    ``Enrollment.model_validate({"class": ...})`` and ``model_dump(by_alias=True)`` use the
    OneRoster name; ``Enrollment(class_=...)`` works in Python code.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    oneroster_type: ClassVar[str] = "enrollment"
    personal: ClassVar[bool] = True

    user: Ref
    class_: Ref = Field(alias="class")
    school: Ref
    role: EnrollmentRole | ExtValue
    primary: bool | None = None
    beginDate: date | None = None
    endDate: date | None = None


class Demographics(CanonicalRecord):
    """Demographic data of a user; ``sourcedId`` is the user's (OneRoster ``demographics``).

    Special-category personal data: every field is sensitive.
    """

    oneroster_type: ClassVar[str] = "demographics"
    personal: ClassVar[bool] = True

    birthDate: date | None = None
    sex: Sex | ExtValue | None = None
    americanIndianOrAlaskaNative: bool | None = None
    asian: bool | None = None
    blackOrAfricanAmerican: bool | None = None
    nativeHawaiianOrOtherPacificIslander: bool | None = None
    white: bool | None = None
    demographicRaceTwoOrMoreRaces: bool | None = None
    hispanicOrLatinoEthnicity: bool | None = None
    countryOfBirthCode: str | None = None
    stateOfBirthAbbreviation: str | None = None
    cityOfBirth: str | None = None
    publicSchoolResidenceStatus: str | None = None
