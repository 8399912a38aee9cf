"""Non-personal canonical records: orgs, academic sessions, courses and classes.

These are catalogue data (``personal = False``): they may be published, federated and cached.
Field names are the OneRoster 1.2 REST/JSON binding names; required/optional follows the
OneRoster 1.2 Rostering information model.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from ._base import CanonicalRecord, ExtValue, NonEmptyStr, Ref, Year
from .enums import ClassType, OrgType, SessionType

__all__ = ["AcademicSession", "Class", "Course", "Org"]


class Org(CanonicalRecord):
    """An organisation: district, school, department ... (OneRoster ``org``)."""

    oneroster_type: ClassVar[str] = "org"
    personal: ClassVar[bool] = False

    name: NonEmptyStr
    type: OrgType | ExtValue
    identifier: str | None = Field(default=None, description="Human-readable id, e.g. a school number.")
    parent: Ref | None = None
    children: list[Ref] | None = None


class AcademicSession(CanonicalRecord):
    """A school year, term, semester or grading period (OneRoster ``academicSession``)."""

    oneroster_type: ClassVar[str] = "academicSession"
    personal: ClassVar[bool] = False

    title: NonEmptyStr
    startDate: date
    endDate: date
    type: SessionType | ExtValue
    parent: Ref | None = None
    children: list[Ref] | None = None
    schoolYear: Year = Field(description="The school year as four digits, e.g. '2025' for 2024-2025.")


class Course(CanonicalRecord):
    """A course: the definition that classes are instances of (OneRoster ``course``)."""

    oneroster_type: ClassVar[str] = "course"
    personal: ClassVar[bool] = False

    title: NonEmptyStr
    schoolYear: Ref | None = Field(default=None, description="Reference to an academicSession.")
    courseCode: str | None = None
    grades: list[str] | None = None
    subjects: list[str] | None = None
    org: Ref
    subjectCodes: list[str] | None = None
    resources: list[Ref] | None = None


class Class(CanonicalRecord):
    """A class: a course taught at a school in one or more terms (OneRoster ``class``)."""

    oneroster_type: ClassVar[str] = "class"
    personal: ClassVar[bool] = False

    title: NonEmptyStr
    classCode: str | None = None
    classType: ClassType | ExtValue
    location: str | None = None
    grades: list[str] | None = None
    subjects: list[str] | None = None
    course: Ref
    school: Ref
    terms: list[Ref] = Field(min_length=1, description="References to academicSessions (at least one).")
    subjectCodes: list[str] | None = None
    periods: list[str] | None = None
    resources: list[Ref] | None = None
