"""The OneRoster CSV files this connector knows: columns (1.2 names, spec order), required columns, aliases.

Column lists follow the OneRoster 1.1 and 1.2 CSV bindings. Records are always keyed by the 1.2
names; 1.1 columns that 1.2 renamed or moved (``users.csv`` ``role`` and ``orgSourcedIds``) are kept
under the internal names in :data:`LEGACY` and turned into ``roles`` by the reader.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DROPPED",
    "FILES",
    "LEGACY",
    "STREAM_FILES",
    "FileSpec",
    "canonical_column",
    "normalize_header",
]


@dataclass(frozen=True, slots=True)
class FileSpec:
    """One CSV file: its stem, its columns in 1.2 order and the columns it must have per version."""

    name: str
    columns: tuple[str, ...]
    required: dict[str, frozenset[str]]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    def required_for(self, version: str) -> frozenset[str]:
        return self.required.get(version, self.required["1.2"])


_BASE = ("sourcedId", "status", "dateLastModified")


def _req(*cols: str, v11: tuple[str, ...] | None = None) -> dict[str, frozenset[str]]:
    return {"1.2": frozenset(cols), "1.1": frozenset(v11 if v11 is not None else cols)}


FILES: dict[str, FileSpec] = {
    spec.name: spec
    for spec in (
        FileSpec(
            "orgs",
            (*_BASE, "name", "type", "identifier", "parentSourcedId"),
            _req("sourcedId", "name", "type"),
        ),
        FileSpec(
            "academicSessions",
            (*_BASE, "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"),
            _req("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
        ),
        FileSpec(
            "courses",
            (*_BASE, "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId",
             "subjects", "subjectCodes"),
            _req("sourcedId", "title", "orgSourcedId"),
        ),
        FileSpec(
            "classes",
            (*_BASE, "title", "grades", "courseSourcedId", "classCode", "classType", "location",
             "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"),
            _req("sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"),
        ),
        FileSpec(
            "users",
            (*_BASE, "enabledUser", "username", "userIds", "givenName", "familyName", "middleName",
             "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "userMasterIdentifier",
             "resourceSourcedIds", "preferredGivenName", "preferredMiddleName", "preferredFamilyName",
             "primaryOrgSourcedId", "pronouns"),
            _req("sourcedId", "enabledUser", "username", "givenName", "familyName",
                 v11=("sourcedId", "enabledUser", "orgSourcedIds", "role", "username", "givenName",
                      "familyName")),
        ),
        FileSpec(
            "enrollments",
            (*_BASE, "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary",
             "beginDate", "endDate"),
            _req("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
        ),
        FileSpec(
            "demographics",
            (*_BASE, "birthDate", "sex", "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
             "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
             "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth",
             "publicSchoolResidenceStatus"),
            _req("sourcedId"),
        ),
        FileSpec(
            "roles",
            (*_BASE, "userSourcedId", "roleType", "role", "beginDate", "endDate", "orgSourcedId",
             "userProfileSourcedId"),
            _req("userSourcedId", "roleType", "role", "orgSourcedId"),
        ),
        FileSpec(
            "userProfiles",
            (*_BASE, "userSourcedId", "profileType", "vendorId", "applicationId", "description",
             "credentialType", "username"),
            _req("sourcedId", "userSourcedId", "profileType", "vendorId"),
        ),
    )
}

#: the streams, in reading order; roles and userProfiles are folded into users
STREAM_FILES: tuple[str, ...] = (
    "orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics",
)

#: 1.1 columns with no 1.2 column of the same meaning, and a vendor's ``userId`` (whose plain values
#: are not ``{type:identifier}`` pairs), per file (kept under these names while reading)
LEGACY: dict[str, tuple[str, ...]] = {"users": ("orgSourcedIds", "role", "userId")}

#: columns never passed on, whatever the file (credentials)
DROPPED: frozenset[str] = frozenset({"password"})


def normalize_header(name: str) -> str:
    """The lookup key of a header cell: trimmed, lower-cased, without ``_``, ``-`` and inner spaces."""
    return "".join(name.strip().lower().replace("_", "").replace("-", "").split())


# Real-world misspellings and legacy names (keys already normalized), per file ("*" = any file).
_ALIASES: dict[str, dict[str, str]] = {
    "*": {
        "sourceid": "sourcedId",
        "sourcedids": "sourcedId",
        "datelastmodifed": "dateLastModified",
        "datelastmodifeid": "dateLastModified",
        "lastmodified": "dateLastModified",
        "datemodified": "dateLastModified",
        "usersourceid": "userSourcedId",
        "usersourcedids": "userSourcedId",
        "classsourceid": "classSourcedId",
        "schoolsourceid": "schoolSourcedId",
        "orgsourceid": "orgSourcedId",
        "coursesourceid": "courseSourcedId",
        "parentsourceid": "parentSourcedId",
        "schoolyearsourceid": "schoolYearSourcedId",
        "schoolyearid": "schoolYearSourcedId",
        "termsourceid": "termSourcedIds",
        "termsourceids": "termSourcedIds",
        "termsourcedid": "termSourcedIds",
        "userprofilesourceid": "userProfileSourcedId",
        "subjectcode": "subjectCodes",
        "subject": "subjects",
        "grade": "grades",
        "period": "periods",
    },
    "users": {
        "firstname": "givenName",
        "lastname": "familyName",
        "surname": "familyName",
        "middlenames": "middleName",
        "emailaddress": "email",
        "mail": "email",
        "enabled": "enabledUser",
        "userenabled": "enabledUser",
        "agentsourceids": "agentSourcedIds",
        "agentsourcedid": "agentSourcedIds",
        "orgsourceids": "orgSourcedIds",
        "orgsourcedid": "orgSourcedIds",
        "orgsourceid": "orgSourcedIds",
        "primaryorgsourceid": "primaryOrgSourcedId",
        "primaryorgid": "primaryOrgSourcedId",
        "preferredfirstname": "preferredGivenName",
        "preferredlastname": "preferredFamilyName",
        "mastersourcedid": "userMasterIdentifier",
        "resourcesourceids": "resourceSourcedIds",
        "pwd": "password",
    },
    "enrollments": {"isprimary": "primary", "startdate": "beginDate"},
    "roles": {"startdate": "beginDate", "roletypes": "roleType"},
    "academicSessions": {"begindate": "startDate", "schoolyears": "schoolYear"},
    "orgs": {"orgtype": "type", "parentid": "parentSourcedId"},
    "demographics": {
        "dob": "birthDate",
        "birthdate": "birthDate",
        "dateofbirth": "birthDate",
        "gender": "sex",
        "nativehawaiianorpacificislander": "nativeHawaiianOrOtherPacificIslander",
        "tworormoreraces": "demographicRaceTwoOrMoreRaces",
        "hispanicorlatino": "hispanicOrLatinoEthnicity",
    },
    "userProfiles": {"credentialtypes": "credentialType", "user": "username", "pwd": "password"},
}

_LOOKUP: dict[str, dict[str, str]] = {}
for _name, _spec in FILES.items():
    table = {normalize_header(c): c for c in _spec.columns}
    table.update({normalize_header(c): c for c in LEGACY.get(_name, ())})
    table.update({normalize_header(c): c for c in DROPPED})
    for _alias, _target in {**_ALIASES["*"], **_ALIASES.get(_name, {})}.items():
        if _target in _spec.columns or _target in LEGACY.get(_name, ()) or _target in DROPPED:
            table.setdefault(_alias, _target)
    _LOOKUP[_name] = table


def canonical_column(file: str, header: str) -> str | None:
    """The 1.2 (or legacy, or dropped) column name ``header`` stands for in ``file``, or None if unknown."""
    return _LOOKUP[file].get(normalize_header(header))
