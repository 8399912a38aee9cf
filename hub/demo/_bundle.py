"""Deterministic generator of realistic OneRoster CSV bundles, for tests, demos and benchmarks.

:func:`generate_bundle` writes a district with schools (one per ~500 users), a school year with two
semesters, courses, classes, administrators, teachers (~1 per 20 students), students (optionally
guardians), ~5.8 enrollments per user, demographics for students and, in 1.2, roles.csv and
userProfiles.csv. Same arguments -> byte-identical output (folder or zip). Rows are written as
they are made: memory stays constant whatever the size.

:func:`mutate_bundle` derives a second bulk bundle from a first one, changing some users and
removing others (with their enrollments, roles, profiles and demographics), for tests of updates
and deletion detection.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hub.errors import ConfigurationError
from hub.export import staged_bundle, write_manifest

__all__ = ["BundleStats", "MutationStats", "generate_bundle", "mutate_bundle"]

STAMP = "2025-08-01T12:00:00.000Z"
CHANGED_STAMP = "2025-09-15T08:30:00.000Z"
BEGIN, END = "2025-08-20", "2026-06-12"
ZIP_DATE = (2025, 8, 1, 12, 0, 0)

GIVEN = (
    "Liam Olivia Noah Emma Oliver Charlotte James Amelia Elijah Sophia Mateo Mia Theodore Isabella Henry "
    "Ava Lucas Evelyn William Luna Benjamin Harper Levi Camila Sebastian Sofia Jack Scarlett Ezra "
    "Elizabeth Michael Eleanor Daniel Emily Leo Chloe Owen Mila Samuel Violet Hudson Penelope Alexander "
    "Gianna Asher Aria Luca Abigail Ethan Ella John Avery David Hazel Jackson Nora Joseph Layla Mason "
    "Lily Aiden Zoey Isaiah Nova Diego Ximena Hiroshi Yuki Aisha Omar Fatima Wei Mei Priya Arjun Chinedu "
    "Amara Søren Zoë José Łucja Renée"
).split()
FAMILY = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Kim Patel Chen Okafor Yamamoto Kowalski "
    "Müller O'Brien Dubois Haddad Singh Johansson Rossi Novak Silva"
).split()
CITIES = (("Springfield", "IL"), ("Riverside", "CA"), ("Franklin", "TN"), ("Greenville", "SC"),
          ("Fairview", "OR"), ("Madison", "WI"), ("Salem", "MA"), ("Georgetown", "TX"))
SUBJECTS = (("Mathematics", "MATH", "02052"), ("English Language Arts", "ELA", "01001"),
            ("Science", "SCI", "03001"), ("Social Studies", "SOC", "04001"), ("Physical Education", "PE", "08001"),
            ("Visual Arts", "ART", "05154"), ("World Languages", "WL", "06101"), ("Computer Science", "CS", "10011"))
LEVELS = (("Elementary", ("KG", "01", "02", "03", "04", "05")), ("Middle", ("06", "07", "08")),
          ("High", ("09", "10", "11", "12")))
CLASS_SIZE = 25
SUBJECT_LOAD = (5, 6, 6, 7, 5, 6)  # subjects a student takes: ~5.8 on average

COLUMNS: dict[str, tuple[str, ...]] = {
    "orgs": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"),
    "academicSessions": ("sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
                         "parentSourcedId", "schoolYear"),
    "courses": ("sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode",
                "grades", "orgSourcedId", "subjects", "subjectCodes"),
    "classes": ("sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
                "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes",
                "periods"),
    "users": ("sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName",
              "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades",
              "password", "userMasterIdentifier", "resourceSourcedIds", "preferredGivenName",
              "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId", "pronouns",
              "metadata.homeroom", "x-sis-id"),
    "users_1.1": ("sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
                  "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
                  "agentSourcedIds", "grades", "password", "metadata.homeroom", "x-sis-id"),
    "roles": ("sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate",
              "endDate", "orgSourcedId", "userProfileSourcedId"),
    "userProfiles": ("sourcedId", "status", "dateLastModified", "userSourcedId", "profileType", "vendorId",
                     "applicationId", "description", "credentialType", "username", "password"),
    "enrollments": ("sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
                    "userSourcedId", "role", "primary", "beginDate", "endDate"),
    "demographics": ("sourcedId", "status", "dateLastModified", "birthDate", "sex", "americanIndianOrAlaskaNative",
                     "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
                     "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode",
                     "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"),
}
DATA_FILES = {
    "1.1": ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics"),
    "1.2": ("orgs", "academicSessions", "courses", "classes", "users", "roles", "userProfiles", "enrollments",
            "demographics"),
}


@dataclass(frozen=True, slots=True)
class BundleStats:
    """What :func:`generate_bundle` wrote: the path, the version and the number of data rows per file."""

    path: Path
    version: str
    counts: dict[str, int]

    @property
    def users(self) -> int:
        return self.counts.get("users", 0)

    @property
    def enrollments(self) -> int:
        return self.counts.get("enrollments", 0)


@dataclass(frozen=True, slots=True)
class MutationStats:
    """What :func:`mutate_bundle` did: which users it changed and which it removed."""

    path: Path
    changed: frozenset[str] = field(default_factory=frozenset)
    deleted: frozenset[str] = field(default_factory=frozenset)
    counts: dict[str, int] = field(default_factory=dict)


# --- arguments (output is written aside and renamed by hub.export.staged_bundle) ----------------


def _check(version: str, users: int) -> None:
    if version not in DATA_FILES:
        raise ConfigurationError(f"version must be 1.1 or 1.2, not {version!r}")
    if users < 1:
        raise ConfigurationError(f"users must be at least 1, not {users}")


# --- generation ---------------------------------------------------------------------------------


class _Writers:
    def __init__(self, stack: ExitStack, folder: Path, version: str) -> None:
        self.counts: dict[str, int] = {}
        self.w: dict[str, Any] = {}
        for name in DATA_FILES[version]:
            fh: TextIO = stack.enter_context((folder / f"{name}.csv").open("w", encoding="utf-8", newline=""))
            self.w[name] = csv.writer(fh, lineterminator="\r\n")
            key = "users_1.1" if (name == "users" and version == "1.1") else name
            self.w[name].writerow(COLUMNS[key])
            self.counts[name] = 0

    def row(self, name: str, values: tuple[str, ...] | list[str]) -> None:
        self.w[name].writerow(values)
        self.counts[name] += 1


def _school_plan(n_users: int, n_schools: int) -> list[int]:
    base, extra = divmod(n_users, n_schools)
    return [base + (1 if i < extra else 0) for i in range(n_schools)]


def generate_bundle(
    target: Path,
    users: int,
    seed: int = 1,
    version: str = "1.2",
    zip: bool = False,  # noqa: A002 - the name the callers use
    guardians: bool = False,
) -> BundleStats:
    """Write a realistic OneRoster bundle with exactly ``users`` users to ``target`` (folder or zip).

    Deterministic: the same arguments give byte-identical files. ``guardians`` turns ~1 in 5
    student slots into guardian users (role ``guardian``, no enrollments).
    """
    _check(version, users)
    target = Path(target)
    rng = random.Random(seed)
    with staged_bundle(target, zip, zip_date=ZIP_DATE) as folder, ExitStack() as stack:
        out = _Writers(stack, folder, version)
        _Generator(out, rng, version, guardians).run(users)
        stack.close()
        write_manifest(folder, version, DATA_FILES[version],
                       system_name="FediFlow generator", system_code="fediflow-generate")
        counts = dict(out.counts)
    return BundleStats(target, version, counts)


class _Generator:
    def __init__(self, out: _Writers, rng: random.Random, version: str, guardians: bool) -> None:
        self.out, self.rng, self.version, self.guardians = out, rng, version, guardians
        self.v12 = version == "1.2"
        self.user_no = 0
        self.enr_no = 0

    def run(self, n_users: int) -> None:
        out = self.out
        n_schools = max(1, round(n_users / 500))
        out.row("orgs", ("district", "active", STAMP, "Lakeside Unified School District", "district",
                         "0600001", ""))
        out.row("academicSessions", ("sy-2026", "active", STAMP, "2025-2026", "schoolYear", "2025-08-20",
                                     "2026-06-12", "", "2026"))
        out.row("academicSessions", ("term-s1", "active", STAMP, "Fall 2025", "semester", "2025-08-20",
                                     "2026-01-16", "sy-2026", "2026"))
        out.row("academicSessions", ("term-s2", "active", STAMP, "Spring 2026", "semester", "2026-01-20",
                                     "2026-06-12", "sy-2026", "2026"))
        plan = _school_plan(n_users, n_schools)
        district_admins = 2 if n_users >= 100 else 0
        plan[0] -= district_admins
        for _ in range(district_admins):
            self.user("district", "district", "districtAdministrator", None, [], [])
        for i, size in enumerate(plan):
            self.school(i, size, n_schools)

    def school(self, i: int, size: int, n_schools: int) -> None:
        out, rng = self.out, self.rng
        level, grades = LEVELS[i % 3]
        sid = f"sch-{i + 1:04d}"
        city = CITIES[i % len(CITIES)][0]
        out.row("orgs", (sid, "active", STAMP, f"{city} {level} School {i // 3 + 1}", "school",
                         f"06000{i + 1:07d}", "district"))
        admins = 1 if size >= 3 else 0
        teachers = max(1, size // 21) if size >= 2 else 0
        learners = size - admins - teachers
        per_grade = _school_plan(max(learners, 0), len(grades))
        # courses and classes: one course per grade and subject, sections of ~25 students
        sections: dict[tuple[int, int], int] = {}
        classes: list[str] = []
        for g, grade in enumerate(grades):
            for s, (subject, code, sced) in enumerate(SUBJECTS):
                cid = f"crs-{i + 1:04d}-{grade}-{code}"
                out.row("courses", (cid, "active", STAMP, "sy-2026", f"{subject} {grade}", f"{code}-{grade}",
                                    grade, sid, subject, sced))
                n_sec = max(1, -(-per_grade[g] * 6 // (len(SUBJECTS) * CLASS_SIZE)))
                sections[g, s] = n_sec
                for k in range(n_sec):
                    kid = f"cls-{i + 1:04d}-{grade}-{code}-{k + 1}"
                    terms = "term-s1,term-s2" if s < 4 else ("term-s1" if k % 2 == 0 else "term-s2")
                    out.row("classes", (kid, "active", STAMP, f"{subject} {grade} ({k + 1})", grade, cid,
                                        f"{code}{grade}-{k + 1}", "scheduled", f"Room {100 + (s * 7 + k) % 180}",
                                        sid, terms, subject, sced, str(1 + (s + k) % 7)))
                    classes.append(kid)
        if admins:
            self.user(sid, sid, "principal", None, [], [])
        second = f"sch-{(i + 1) % n_schools + 1:04d}" if n_schools > 1 else None
        for t in range(teachers):
            taught = classes[t::teachers] if teachers else []
            other = second if (second and rng.random() < 0.05) else None
            self.user(sid, sid, "teacher", None, taught, [], other_school=other)
        g = 0
        for g, count in enumerate(per_grade):
            grade = grades[g]
            for _ in range(count):
                if self.guardians and rng.random() < 0.2:
                    self.user(sid, sid, "guardian", None, [], [])
                    continue
                k = rng.choice(SUBJECT_LOAD)
                chosen = sorted(rng.sample(range(len(SUBJECTS)), k))
                enrolled = [f"cls-{i + 1:04d}-{grade}-{SUBJECTS[s][1]}-{rng.randrange(sections[g, s]) + 1}"
                            for s in chosen]
                self.user(sid, sid, "student", grade, [], enrolled)

    def user(self, school: str, org: str, role: str, grade: str | None, taught: list[str],
             enrolled: list[str], other_school: str | None = None) -> None:
        out, rng = self.out, self.rng
        self.user_no += 1
        n = self.user_no
        uid = f"usr-{n:07d}"
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        middle = rng.choice(GIVEN) if rng.random() < 0.3 else ""
        login = f"{given[0]}{family}{n}".lower().replace("'", "")
        domain = "students.lakeside.example.org" if role == "student" else "lakeside.example.org"
        email = f"{login}@{domain}" if role != "guardian" else f"{given}.{family}{n}@mail.example.com".lower()
        preferred = rng.choice(GIVEN) if rng.random() < 0.05 else ""
        homeroom = f"HR-{rng.randrange(100, 400)}" if role == "student" else ""
        phone = f"+1-555-{rng.randrange(100, 1000):03d}-{rng.randrange(10000):04d}" if role != "student" else ""
        ident = f"{100000 + n}"
        user_ids = f"{{SIS:{ident}}}" if role != "guardian" else ""
        enabled = "false" if rng.random() < 0.01 else "true"
        master = str(uuid.UUID(int=rng.getrandbits(128), version=4)) if self.v12 else ""
        orgs = [org] + ([other_school] if other_school else [])
        if self.v12:
            out.row("users", (uid, "active", STAMP, enabled, login, user_ids, given, family, middle, ident, email,
                              "", phone, "", grade or "", "", master, "", preferred, "", "", org, "",
                              homeroom, f"X{n:08d}"))
            profile = ""
            if role in ("student", "teacher") and (role == "teacher" or n % 2 == 0):
                profile = f"prof-{n:07d}"
                out.row("userProfiles", (profile, "active", STAMP, uid, "lms", "lakeside-lms", "lms-prod",
                                         "Learning platform account", "username", login, ""))
            for k, o in enumerate(orgs):
                out.row("roles", (f"role-{n:07d}-{k + 1}", "active", STAMP, uid, "primary" if k == 0 else "secondary",
                                  role, BEGIN if role != "guardian" else "", END if role != "guardian" else "", o,
                                  profile if k == 0 else ""))
        else:
            out.row("users", (uid, "active", STAMP, enabled, ",".join(orgs), role, login, user_ids, given, family,
                              middle, ident, email, "", phone, "", grade or "", "", homeroom, f"X{n:08d}"))
        for kid in taught:
            self.enrollment(kid, school, uid, "teacher", "true")
        for kid in enrolled:
            self.enrollment(kid, school, uid, "student", "false")
        if role == "student":
            self.demographics(uid, grade or "05")

    def enrollment(self, kid: str, school: str, uid: str, role: str, primary: str) -> None:
        self.enr_no += 1
        self.out.row("enrollments", (f"enr-{self.enr_no:08d}", "active", STAMP, kid, school, uid, role, primary,
                                     BEGIN, END))

    def demographics(self, uid: str, grade: str) -> None:
        rng = self.rng
        age = 5 + (0 if grade == "KG" else int(grade))
        birth = f"{2025 - age - (1 if rng.random() < 0.6 else 0)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        race = rng.randrange(6)
        flags = ["true" if race == r else "false" for r in range(5)]
        city, state = rng.choice(CITIES)
        self.out.row("demographics", (uid, "active", STAMP, birth, rng.choice(("female", "male", "female", "male",
                                      "other", "unspecified")), *flags, "true" if race == 5 else "false",
                                      "true" if rng.random() < 0.25 else "false", "US", state, city, "01652"))


# --- mutation -----------------------------------------------------------------------------------


@contextmanager
def _source_files(src: Path) -> Iterator[tuple[list[str], Any]]:
    """Yield (file names, opener) for a bundle folder or zip; opener(name) gives a text stream."""
    if src.is_dir():
        yield sorted(p.name for p in src.iterdir() if p.is_file()), (
            lambda name: (src / name).open(encoding="utf-8-sig", newline=""))
    else:
        with zipfile.ZipFile(src) as zf:
            yield sorted(zf.namelist()), (
                lambda name: io.TextIOWrapper(zf.open(name), encoding="utf-8-sig", newline=""))


def mutate_bundle(
    src: Path, dst: Path, change_pct: float = 5.0, delete_pct: float = 1.0, seed: int = 2
) -> MutationStats:
    """Write to ``dst`` a bulk copy of bundle ``src`` where some users changed and some were removed.

    ``change_pct`` / ``delete_pct`` are percentages of users (0-100). A changed user gets a new
    family name, email and preferred given name and a later ``dateLastModified``; a removed user
    disappears with its enrollments, roles, user profiles and demographics. ``dst`` is a zip when
    it ends with ``.zip``. Deterministic for a given seed.
    """
    src, dst = Path(src), Path(dst)
    rng = random.Random(seed)
    changed: set[str] = set()
    deleted: set[str] = set()
    counts: dict[str, int] = {}
    with _source_files(src) as (names, opener), staged_bundle(dst, dst.suffix.lower() == ".zip", zip_date=ZIP_DATE) as folder:
        lookup = {n.rsplit("/", 1)[-1].lower(): n for n in names}
        order = ["users.csv"] + sorted(k for k in lookup if k != "users.csv")
        for key in order:
            if key not in lookup:
                continue
            with opener(lookup[key]) as fh, (folder / lookup[key].rsplit("/", 1)[-1]).open(
                    "w", encoding="utf-8", newline="") as out:
                reader, writer = csv.reader(fh), csv.writer(out, lineterminator="\r\n")
                header = next(reader, [])
                writer.writerow(header)
                if key == "manifest.csv":
                    writer.writerows(reader)
                    continue
                col = {h: i for i, h in enumerate(header)}
                n = 0
                if key == "users.csv":
                    for row in reader:
                        uid = row[col["sourcedId"]]
                        draw = rng.random() * 100
                        if draw < delete_pct:
                            deleted.add(uid)
                            continue
                        if draw < delete_pct + change_pct:
                            changed.add(uid)
                            _change_user(row, col, rng)
                        writer.writerow(row)
                        n += 1
                else:
                    ref = next((col[c] for c in ("userSourcedId",) if c in col), None)
                    if key == "demographics.csv":
                        ref = col.get("sourcedId")
                    for row in reader:
                        if ref is not None and row[ref] in deleted:
                            continue
                        writer.writerow(row)
                        n += 1
                counts[key.removesuffix(".csv")] = n
    return MutationStats(dst, frozenset(changed), frozenset(deleted), counts)


def _change_user(row: list[str], col: dict[str, int], rng: random.Random) -> None:
    family = rng.choice(FAMILY)
    row[col["familyName"]] = family
    if "email" in col and row[col["email"]]:
        local, _, domain = row[col["email"]].partition("@")
        row[col["email"]] = f"{local}.{family.lower().replace(chr(39), '')}@{domain}"
    if "preferredGivenName" in col:
        row[col["preferredGivenName"]] = rng.choice(GIVEN)
    if "dateLastModified" in col:
        row[col["dateLastModified"]] = CHANGED_STAMP
