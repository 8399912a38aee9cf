"""FediFlow's canonical model: pydantic v2 models aligned with OneRoster 1.2 (REST/JSON binding).

Public surface (everything else is private):

* ``CanonicalRecord`` - base of every record type; ``Ref`` - a GUIDRef without ``href``;
  ``Status``;
* record types ``Org``, ``AcademicSession``, ``Course``, ``Class`` (catalogue data) and
  ``User``, ``Enrollment``, ``Demographics`` (personal data), listed by name in
  ``BUILTIN_TYPES``;
* nested types ``UserRole``, ``UserId``, ``UserProfile``, ``Credential``;
* the enumerations.

See docs/canonical-model.md. Importing this package has no side effects.
"""

from __future__ import annotations

from ._base import CanonicalRecord, Ref, Status
from .enums import ClassType, EnrollmentRole, OrgType, RoleName, RoleType, SessionType, Sex
from .people import Credential, Demographics, Enrollment, User, UserId, UserProfile, UserRole
from .rostering import AcademicSession, Class, Course, Org

__all__ = [
    "BUILTIN_TYPES",
    "AcademicSession",
    "CanonicalRecord",
    "Class",
    "ClassType",
    "Course",
    "Credential",
    "Demographics",
    "Enrollment",
    "EnrollmentRole",
    "Org",
    "OrgType",
    "Ref",
    "RoleName",
    "RoleType",
    "SessionType",
    "Sex",
    "Status",
    "User",
    "UserId",
    "UserProfile",
    "UserRole",
]

#: The built-in canonical record types by type name (the name used in mappings and the store).
BUILTIN_TYPES: dict[str, type[CanonicalRecord]] = {
    model.__name__: model
    for model in (Org, AcademicSession, Course, Class, User, Enrollment, Demographics)
}
