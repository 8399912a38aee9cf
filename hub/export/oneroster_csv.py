"""Writing canonical records as a OneRoster 1.2 (or 1.1) CSV bundle: a folder, or a .zip.

Input records are canonical dicts in the OneRoster 1.2 JSON binding (camelCase, references as
``{"sourcedId", "type"}``, lists as lists, booleans as booleans, a ``metadata`` dict). Each column
conversion is the exact inverse of what the ``oneroster_csv`` connector reads and its shipped
mappings produce, so read -> map -> write -> read gives the same canonical records.

Rows are written as they come (the iterables may be huge generators). Everything is written into
a scratch folder next to the target and moved into place at the end: a failure leaves no target,
or the previous one untouched.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from hub.errors import ConfigurationError

__all__ = ["MANIFEST_FILES", "ExportResult", "staged_bundle", "write_bundle", "write_manifest"]

Records = Mapping[str, Iterable[Mapping[str, Any]]] | Callable[[str], Iterable[Mapping[str, Any]] | None]
Cell = Callable[[Mapping[str, Any]], str]

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: the files a manifest.csv lists (``bulk`` or ``absent``), per OneRoster version
MANIFEST_FILES = {
    "1.1": ("academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
            "demographics", "enrollments", "lineItems", "orgs", "resources", "results", "users"),
    "1.2": ("academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
            "demographics", "enrollments", "lineItemLearningObjectiveIds", "lineItems", "lineItemScoreScales",
            "orgs", "resources", "resultLearningObjectiveIds", "results", "resultScoreScales", "roles",
            "scoreScales", "userProfiles", "userResources", "users"),
}


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What :func:`write_bundle` wrote: the path, the version and the number of rows per file."""

    path: Path
    version: str
    counts: dict[str, int]


# --- cell conversions (inverse of the connector + shipped mappings) ----------------------------


def text(value: Any) -> str:
    """One scalar as a CSV cell: None -> "", booleans -> true/false, dates ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def ref_id(value: Any) -> str:
    """A reference (``{"sourcedId": ...}`` or a bare id) as its sourcedId."""
    if isinstance(value, Mapping):
        return text(value.get("sourcedId"))
    return text(value)


def _plain(*keys: str) -> Cell:
    def cell(rec: Mapping[str, Any]) -> str:
        for key in keys:
            value = rec.get(key)
            if value is not None:
                return text(value)
        return ""

    return cell


def _ref(key: str) -> Cell:
    return lambda rec: ref_id(rec.get(key))


def _refs(key: str) -> Cell:
    return lambda rec: ",".join(ref_id(v) for v in rec.get(key) or ())


def _list(key: str) -> Cell:
    return lambda rec: ",".join(text(v) for v in rec.get(key) or ())


def _user_ids(rec: Mapping[str, Any]) -> str:
    return ",".join(f"{{{text(u.get('type'))}:{text(u.get('identifier'))}}}" for u in rec.get("userIds") or ())


def _primary_role(rec: Mapping[str, Any]) -> Mapping[str, Any]:
    roles = rec.get("roles") or ()
    return next((r for r in roles if r.get("roleType") == "primary"), roles[0] if roles else {})


def _orgs_11(rec: Mapping[str, Any]) -> str:
    roles = sorted(rec.get("roles") or (), key=lambda r: r.get("roleType") != "primary")
    orgs = [ref_id(r.get("org")) for r in roles] or [ref_id(o) for o in rec.get("orgs") or ()]
    return ",".join(dict.fromkeys(o for o in orgs if o))


_BASE: tuple[tuple[str, Cell], ...] = (
    ("sourcedId", _plain("sourcedId")),
    ("status", _plain("status")),
    ("dateLastModified", _plain("dateLastModified")),
)

_FILES: dict[str, tuple[tuple[str, Cell], ...]] = {
    "orgs": (*_BASE, ("name", _plain("name")), ("type", _plain("type")), ("identifier", _plain("identifier")),
             ("parentSourcedId", _ref("parent"))),
    "academicSessions": (*_BASE, ("title", _plain("title")), ("type", _plain("type")),
                         ("startDate", _plain("startDate")), ("endDate", _plain("endDate")),
                         ("parentSourcedId", _ref("parent")), ("schoolYear", _plain("schoolYear"))),
    "courses": (*_BASE, ("schoolYearSourcedId", _ref("schoolYear")), ("title", _plain("title")),
                ("courseCode", _plain("courseCode")), ("grades", _list("grades")), ("orgSourcedId", _ref("org")),
                ("subjects", _list("subjects")), ("subjectCodes", _list("subjectCodes"))),
    "classes": (*_BASE, ("title", _plain("title")), ("grades", _list("grades")),
                ("courseSourcedId", _ref("course")), ("classCode", _plain("classCode")),
                ("classType", _plain("classType")), ("location", _plain("location")),
                ("schoolSourcedId", _ref("school")), ("termSourcedIds", _refs("terms")),
                ("subjects", _list("subjects")), ("subjectCodes", _list("subjectCodes")),
                ("periods", _list("periods"))),
    "users": (*_BASE, ("enabledUser", _plain("enabledUser")), ("username", _plain("username")),
              ("userIds", _user_ids), ("givenName", _plain("givenName")), ("familyName", _plain("familyName")),
              ("middleName", _plain("middleName")), ("identifier", _plain("identifier")),
              ("email", _plain("email")), ("sms", _plain("sms")), ("phone", _plain("phone")),
              ("agentSourcedIds", _refs("agents")), ("grades", _list("grades")),
              ("userMasterIdentifier", _plain("userMasterIdentifier")),
              ("resourceSourcedIds", _refs("resources")),
              ("preferredGivenName", _plain("preferredFirstName", "preferredGivenName")),
              ("preferredMiddleName", _plain("preferredMiddleName")),
              ("preferredFamilyName", _plain("preferredLastName", "preferredFamilyName")),
              ("primaryOrgSourcedId", _ref("primaryOrg")), ("pronouns", _plain("pronouns"))),
    "users_1.1": (*_BASE, ("enabledUser", _plain("enabledUser")), ("orgSourcedIds", _orgs_11),
                  ("role", lambda rec: text(_primary_role(rec).get("role"))), ("username", _plain("username")),
                  ("userIds", _user_ids), ("givenName", _plain("givenName")),
                  ("familyName", _plain("familyName")), ("middleName", _plain("middleName")),
                  ("identifier", _plain("identifier")), ("email", _plain("email")), ("sms", _plain("sms")),
                  ("phone", _plain("phone")), ("agentSourcedIds", _refs("agents")), ("grades", _list("grades"))),
    "roles": (("sourcedId", _plain("sourcedId")), ("status", _plain("status")),
              ("dateLastModified", _plain("dateLastModified")), ("userSourcedId", _plain("userSourcedId")),
              ("roleType", _plain("roleType")), ("role", _plain("role")), ("beginDate", _plain("beginDate")),
              ("endDate", _plain("endDate")), ("orgSourcedId", _ref("org")),
              ("userProfileSourcedId", _ref("userProfile"))),
    "userProfiles": (("sourcedId", _plain("profileId", "sourcedId")), ("status", _plain("status")),
                     ("dateLastModified", _plain("dateLastModified")),
                     ("userSourcedId", _plain("userSourcedId")), ("profileType", _plain("profileType")),
                     ("vendorId", _plain("vendorId")), ("applicationId", _plain("applicationId")),
                     ("description", _plain("description")), ("credentialType", _plain("credentialType")),
                     ("username", _plain("username"))),
    "enrollments": (*_BASE, ("classSourcedId", _ref("class")), ("schoolSourcedId", _ref("school")),
                    ("userSourcedId", _ref("user")), ("role", _plain("role")), ("primary", _plain("primary")),
                    ("beginDate", _plain("beginDate")), ("endDate", _plain("endDate"))),
    "demographics": (*_BASE, *(
        (c, _plain(c)) for c in (
            "birthDate", "sex", "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
            "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
            "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth",
            "publicSchoolResidenceStatus"))),
}

#: canonical type -> CSV file, in the order files are written
_TYPES = (("Org", "orgs"), ("AcademicSession", "academicSessions"), ("Course", "courses"), ("Class", "classes"),
          ("User", "users"), ("Enrollment", "enrollments"), ("Demographics", "demographics"))


# --- one CSV file with metadata.<key> columns discovered on the way -------------------------------


class _Table:
    """Writes rows of one file to a body file, then header + body once all metadata keys are known."""

    def __init__(self, folder: Path, name: str, columns: tuple[tuple[str, Cell], ...]) -> None:
        self.path = folder / f"{name}.csv"
        self._body_path = folder / f".{name}.body"
        self._fh: TextIO = self._body_path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._fh, lineterminator="\r\n")
        self._columns = columns
        self._cells = tuple(cell for _, cell in columns)
        self._meta: dict[str, int] = {}
        self._first_width: int | None = None
        self.count = 0

    def write(self, rec: Mapping[str, Any]) -> None:
        row = [cell(rec) for cell in self._cells]
        meta = rec.get("metadata")
        if meta:
            extra = [""] * len(self._meta)
            for key, value in meta.items():
                if value is None or value == "":
                    continue
                slot = self._meta.get(key)
                if slot is None:
                    self._meta[key] = slot = len(self._meta)
                    extra.append("")
                extra[slot] = text(value)
            row.extend(extra)
        elif self._meta:
            row.extend([""] * len(self._meta))
        if self._first_width is None:
            self._first_width = len(row)
        self._writer.writerow(row)
        self.count += 1

    def finish(self) -> None:
        self._fh.close()
        header = [name for name, _ in self._columns] + [f"metadata.{k}" for k in self._meta]
        width = len(header)
        with self.path.open("w", encoding="utf-8", newline="") as out:
            csv.writer(out, lineterminator="\r\n").writerow(header)
            with self._body_path.open(encoding="utf-8", newline="") as body:
                if self._first_width in (None, width):  # every row already has every column
                    shutil.copyfileobj(body, out, 1 << 20)
                else:
                    writer = csv.writer(out, lineterminator="\r\n")
                    for row in csv.reader(body):
                        writer.writerow(row + [""] * (width - len(row)))
        self._body_path.unlink()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def _user_children(user: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    uid = text(user.get("sourcedId"))
    roles = []
    for i, role in enumerate(user.get("roles") or ()):
        # status stays empty: the reader skips tobedeleted roles, and a role lives and dies with its user
        roles.append({**role, "sourcedId": f"{uid}-role-{i + 1}", "userSourcedId": uid, "status": None,
                      "dateLastModified": user.get("dateLastModified"), "metadata": None})
    profiles = []
    for profile in user.get("userProfiles") or ():
        base = {**profile, "userSourcedId": uid, "status": None,
                "dateLastModified": user.get("dateLastModified"), "metadata": None}
        credentials = profile.get("credentials") or [{}]
        for cred in credentials:  # the CSV binding holds one credential per row; never the password
            profiles.append({**base, "credentialType": cred.get("type"), "username": cred.get("username")})
    return roles, profiles


# --- bundle -------------------------------------------------------------------------------------


@contextmanager
def staged_bundle(target: Path, zip_it: bool, *,
                  zip_date: tuple[int, int, int, int, int, int] = _ZIP_DATE) -> Iterator[Path]:
    """Yield a scratch folder to write a bundle's files into; on success move it (or a zip of it,
    members dated ``zip_date`` so the same files give the same bytes) to ``target`` atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        folder = scratch / "bundle"
        folder.mkdir()
        yield folder
        built = folder
        if zip_it:
            built = scratch / "bundle.zip"
            with zipfile.ZipFile(built, "w") as zf:
                for path in sorted(folder.iterdir()):
                    info = zipfile.ZipInfo(path.name, date_time=zip_date)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    with path.open("rb") as src, zf.open(info, "w") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(built, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _source(records: Records, type_name: str) -> Iterable[Mapping[str, Any]] | None:
    if callable(records):
        return records(type_name)
    return records.get(type_name)


def write_bundle(target: Path | str, records: Records, version: str = "1.2") -> ExportResult:
    """Write canonical records as a OneRoster CSV bundle to ``target`` (a .zip when it ends with .zip).

    ``records`` maps a canonical type name (``Org``, ``AcademicSession``, ``Course``, ``Class``,
    ``User``, ``Enrollment``, ``Demographics``) to an iterable of canonical dicts, or is a callable
    taking the type name and returning one (or None). A type given (even empty) is written ``bulk``;
    one not given is ``absent``. Users also produce roles.csv and userProfiles.csv (1.2). Passwords
    are never written. Raises ConfigurationError for an unknown version; any error while writing
    leaves ``target`` as it was.
    """
    if version not in MANIFEST_FILES:
        raise ConfigurationError(f"OneRoster CSV export supports versions 1.1 and 1.2, not {version!r}")
    target = Path(target)
    counts: dict[str, int] = {}
    with staged_bundle(target, target.suffix.lower() == ".zip") as folder:
        for type_name, name in _TYPES:
            items = _source(records, type_name)
            if items is None:
                continue
            if name == "users":
                counts.update(_write_users(folder, items, version))
            else:
                table = _Table(folder, name, _FILES[name])
                try:
                    for rec in items:
                        table.write(rec)
                    table.finish()
                finally:
                    table.close()
                counts[name] = table.count
        write_manifest(folder, version, set(counts))
    return ExportResult(target, version, counts)


def _write_users(folder: Path, users: Iterable[Mapping[str, Any]], version: str) -> dict[str, int]:
    if version == "1.1":
        table = _Table(folder, "users", _FILES["users_1.1"])
        try:
            for user in users:
                table.write(user)
            table.finish()
        finally:
            table.close()
        return {"users": table.count}
    tables = [_Table(folder, n, _FILES[n]) for n in ("users", "roles", "userProfiles")]
    user_t, role_t, profile_t = tables
    try:
        for user in users:
            user_t.write(user)
            roles, profiles = _user_children(user)
            for role in roles:
                role_t.write(role)
            for profile in profiles:
                profile_t.write(profile)
        for t in tables:
            t.finish()
    finally:
        for t in tables:
            t.close()
    return {"users": user_t.count, "roles": role_t.count, "userProfiles": profile_t.count}


def write_manifest(folder: Path, version: str, present: Iterable[str], *,
                   system_name: str = "FediFlow", system_code: str = "fediflow") -> None:
    """Write ``folder/manifest.csv``: every file of ``version`` is ``bulk`` if in ``present``, else ``absent``.

    The one OneRoster manifest writer (the exporter and the demo generator use it).
    """
    present = set(present)
    with (folder / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(("propertyName", "value"))
        w.writerow(("manifest.version", "1.0"))
        w.writerow(("oneroster.version", version))
        for name in MANIFEST_FILES[version]:
            w.writerow((f"file.{name}", "bulk" if name in present else "absent"))
        w.writerow(("source.systemName", system_name))
        w.writerow(("source.systemCode", system_code))
