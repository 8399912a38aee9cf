"""The oneroster_csv connector: OneRoster 1.1 / 1.2 CSV bundles from a folder or a .zip file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

from pydantic import Field, field_validator

from hub.sdk import (
    CheckResult,
    Connector,
    ConnectorConfig,
    ConnectorKind,
    RawRecord,
    SourceDataError,
    StreamSpec,
    StreamState,
)

from ._bundle import Bundle, open_bundle
from ._columns import STREAM_FILES
from ._reader import iter_records, read_header, user_transform
from ._tolerance import Note, tolerance

__all__ = ["OneRosterCsvConfig", "OneRosterCsvConnector"]

#: hand control back to the event loop every this many records
_YIELD_EVERY = 4096

_TARGETS = {
    "orgs": ("Org", "Organisations: the district, its schools, departments."),
    "academicSessions": ("AcademicSession", "School years, terms, semesters, grading periods."),
    "courses": ("Course", "Courses of the catalogue."),
    "classes": ("Class", "Classes (sections) of a course in one or more terms."),
    "users": ("User", "Students, teachers, staff and guardians, with their roles and user profiles."),
    "enrollments": ("Enrollment", "Users in classes, with their role in the class."),
    "demographics": ("Demographics", "Birth date, sex and race / ethnicity of users."),
}


class OneRosterCsvConfig(ConnectorConfig):
    """Where the bundle is: a folder holding manifest.csv and the CSV files, or a .zip of them."""

    #: a server path: through the API it is relative to the tenant's import directory (hub.imports)
    path: str = Field(min_length=1, max_length=4096, json_schema_extra={"x-fediflow-file": True},
                      description="Folder or .zip file of a OneRoster 1.1 / 1.2 CSV bundle (through the API: "
                                  "relative to the tenant's import directory).")
    date_format: str | None = Field(
        default=None, max_length=64,
        description="The source's own date format (Python strptime, e.g. %m/%d/%Y for 1/05/2023): dates "
        "that are not ISO 8601 are read with it, each with a warning. Unset: such dates are record errors.",
    )

    @field_validator("date_format")
    @classmethod
    def _date_format_has_fields(cls, value: str | None) -> str | None:
        if value is not None and not all(part in value for part in ("%d", "%m")) and "%j" not in value:
            raise ValueError("a date format needs %d and %m (or %j), e.g. %m/%d/%Y")
        return value


class OneRosterCsvConnector(Connector[OneRosterCsvConfig]):
    """Reads OneRoster CSV bundles; one stream per CSV file, roles and userProfiles folded into users."""

    name: ClassVar[str] = "oneroster_csv"
    kind: ClassVar[ConnectorKind] = ConnectorKind.SIS
    title: ClassVar[str] = "OneRoster CSV (1.1 / 1.2)"
    config_model: ClassVar[type[ConnectorConfig]] = OneRosterCsvConfig

    def __init__(self, config: OneRosterCsvConfig) -> None:
        super().__init__(config)
        self._bundle: Bundle | None = None

    @property
    def path(self) -> str:
        return self.config.path

    def streams(self) -> Sequence[StreamSpec]:
        return tuple(StreamSpec(name, *_TARGETS[name]) for name in STREAM_FILES)

    def _open(self) -> Bundle:
        if self._bundle is None:
            self._bundle = open_bundle(self.path)
        return self._bundle

    async def check(self) -> CheckResult:
        """Whether the bundle opens and its manifest is usable (else not ok: a sync cannot start).

        A file whose header cannot be read is no reason to refuse the bundle: a sync stops that
        file's stream only. Such files are named in the message and in ``details["problems"]``.
        """
        problems: dict[str, str] = {}
        try:
            with open_bundle(self.path) as bundle:
                manifest = bundle.manifest
                present = {name: mode for name, mode in manifest.modes.items() if mode != "absent"}
                for name in present:
                    try:
                        read_header(bundle, name, manifest.oneroster_version)
                    except SourceDataError as exc:
                        problems[name] = str(exc)
        except SourceDataError as exc:
            return CheckResult(False, str(exc), {"path": self.path})
        files = ", ".join(f"{name}.csv ({mode})" for name, mode in present.items()) or "no data files"
        message = f"OneRoster {manifest.oneroster_version} bundle at {self.path}: {files}"
        if problems:
            message += "; not readable, a sync skips them: " + "; ".join(problems.values())
        return CheckResult(
            True,
            message,
            {"path": self.path, "version": manifest.oneroster_version, "files": present, "problems": problems},
        )

    async def fingerprint(self, stream: str) -> str | None:
        """The bytes of a ``bulk`` stream's files (users: with roles and userProfiles); None otherwise.

        A delta file is not fingerprinted: applying it again is not a complete read.
        """
        if stream not in _TARGETS:
            return None
        bundle = self._open()
        if bundle.manifest.mode(stream) != "bulk":
            return None
        files = [f"{stream}.csv"] + (["roles.csv", "userProfiles.csv"] if stream == "users" else [])
        return await asyncio.to_thread(bundle.digest, files)

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        if stream not in _TARGETS:
            raise SourceDataError(f"unknown stream {stream!r} (known: {', '.join(STREAM_FILES)})")
        bundle = self._open()
        manifest = bundle.manifest
        mode = manifest.mode(stream)
        if mode == "absent":
            state.present = False
            return
        state.present = True
        state.complete = mode == "bulk"
        version = manifest.oneroster_version
        errors: list[RawRecord] = []
        notes: list[Note] = []
        transform = user_transform(bundle, version, errors, notes) if stream == "users" else None
        tolerate = tolerance(stream, self.config.date_format)
        records = iter_records(bundle, stream, version, transform, tolerate, notes)
        # the header is checked (and may raise) before anything is yielded
        first = next(records, None)
        for rec in errors:
            yield rec
        if first is None:
            return
        yield first
        count = 0
        for rec in records:
            yield rec
            count += 1
            if count == _YIELD_EVERY:
                count = 0
                await asyncio.sleep(0)

    async def aclose(self) -> None:
        if self._bundle is not None:
            self._bundle.close()
            self._bundle = None
