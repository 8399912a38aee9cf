"""The moodle connector: a Moodle site's users, courses and enrolments through its web services.

Every call is ``GET /webservice/rest/server.php?wstoken=...&wsfunction=<function>&moodlewsrestformat=json``
(Moodle's REST protocol, https://docs.moodle.org/dev/Web_service_API_functions). The token's
external service must include:

* ``core_webservice_get_site_info`` (check, and the ``site`` stream),
* ``core_user_get_users`` (``users``; criteria ``email`` = ``%`` matches every user with an email,
  configurable; Moodle returns the whole result in one answer, it cannot page),
* ``core_course_get_courses`` (``courses`` and ``classes``; the site front page is skipped),
* ``core_enrol_get_enrolled_users`` (``enrollments``, once per course, paged with the
  ``limitfrom``/``limitnumber`` options, sorted by user id).

Moodle answers errors with HTTP 200 and ``{"exception", "errorcode", "message"}``: see
:mod:`connectors.moodle._errors`. Every read is a full read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from hub.sdk import (
    ApiKey,
    CheckResult,
    ConnectorConfig,
    ConnectorError,
    ConnectorKind,
    HttpClient,
    HttpConnector,
    HttpEndpointConfig,
    OffsetLimitPaging,
    RawRecord,
    StreamSpec,
    StreamState,
)
from hub.sdk import explain_check_failure as explain

from ._errors import MoodlePaging, raise_for_moodle_error

__all__ = ["CONTEXT_KEY", "ENDPOINT", "REQUIRED_FUNCTIONS", "MoodleConfig", "MoodleConnector"]

ENDPOINT = "webservice/rest/server.php"
#: key of the small object the connector adds to records (not part of Moodle's payload)
CONTEXT_KEY = "_fediflow"
REQUIRED_FUNCTIONS = (
    "core_webservice_get_site_info",
    "core_user_get_users",
    "core_course_get_courses",
    "core_enrol_get_enrolled_users",
)
#: fields of core_webservice_get_site_info that describe the site (the rest describes the token's user)
SITE_FIELDS = ("sitename", "siteurl", "siteid", "release", "version", "lang")

_STREAMS = (
    StreamSpec("site", "Org", "The Moodle site as the one org (sourcedId 'site')."),
    StreamSpec("users", "User", "Users matching the configured criteria; role from default_user_role."),
    StreamSpec("courses", "Course", "Courses of the site (the front page excluded)."),
    StreamSpec("classes", "Class", "The same courses as classes: in Moodle a course is where people meet."),
    StreamSpec("enrollments", "Enrollment", "Enrolled users of each course with their first role.", ("courses",)),
)


class MoodleConfig(HttpEndpointConfig):
    """Where the Moodle site is and the web service token to call it with."""

    base_url: str = Field(pattern=r"^https?://", description="Root of the Moodle site, e.g. https://moodle.example.edu")
    wstoken: SecretStr = Field(description="Web service token (Site administration > Server > Web services > Manage tokens).")
    user_criteria_key: Literal["id", "lastname", "firstname", "idnumber", "username", "email", "auth"] = Field(
        default="email", description="core_user_get_users criteria key."
    )
    user_criteria_value: str = Field(
        default="%", min_length=1, description="Its value; '%' is a wildcard for email (every user with an email)."
    )
    default_user_role: Literal[
        "student", "teacher", "aide", "guardian", "siteAdministrator", "districtAdministrator", "systemAdministrator"
    ] = Field(default="student", description="The role every user gets in the site org (class roles are in enrolments).")
    page_size: int = Field(default=200, ge=1, le=5000, description="Enrolled users per core_enrol_get_enrolled_users call.")
    read_timeout: float = Field(default=120.0, gt=0)


class MoodleConnector(HttpConnector[MoodleConfig]):
    """Reads a Moodle site through its REST web services (see the module docstring)."""

    name: ClassVar[str] = "moodle"
    kind: ClassVar[ConnectorKind] = ConnectorKind.LMS
    title: ClassVar[str] = "Moodle (web services)"
    config_model: ClassVar[type[ConnectorConfig]] = MoodleConfig

    headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    def streams(self) -> Sequence[StreamSpec]:
        return _STREAMS

    def auth(self) -> ApiKey:
        """Moodle takes its web service token as the ``wstoken`` query parameter."""
        return ApiKey("query", "wstoken", self.config.wstoken)

    @staticmethod
    async def call(client: HttpClient, function: str, params: Mapping[str, Any] | None = None) -> Any:
        """One web-service call; Moodle's error bodies raise :class:`~hub.sdk.ConnectorError`."""
        query = {"wsfunction": function, "moodlewsrestformat": "json", **(params or {})}
        return raise_for_moodle_error(function, await client.get_json(ENDPOINT, query))

    # --- the contract ------------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        cfg = self.config
        details: dict[str, Any] = {"base_url": cfg.base_url}
        async with self.new_client(max_attempts=1) as client:
            try:
                info = await self.call(client, "core_webservice_get_site_info")
            except ConnectorError as exc:
                if exc.status == 404:
                    message = f"no Moodle web services at {cfg.base_url}/{ENDPOINT} (HTTP 404); check the base URL"
                elif "expected JSON" in str(exc):
                    message = (
                        f"{cfg.base_url}/{ENDPOINT} did not answer JSON; check the base URL and that the "
                        "REST protocol is enabled (Site administration > Server > Web services > Manage protocols)"
                    )
                elif exc.status in (401, 403) and "Moodle" in str(exc):
                    message = str(exc)
                else:
                    message = explain(exc, cfg.base_url, "Moodle", "web service token")
                return CheckResult(False, message, details)
        if not isinstance(info, Mapping) or "sitename" not in info:
            return CheckResult(False, f"{cfg.base_url} did not answer like a Moodle site; check the base URL", details)
        available = {f.get("name") for f in info.get("functions") or [] if isinstance(f, Mapping)}
        missing = [name for name in REQUIRED_FUNCTIONS if name not in available]
        details.update({"site": info.get("sitename"), "release": info.get("release"), "missing_functions": missing})
        if missing:
            return CheckResult(
                False,
                f"the token works on {info.get('sitename')!r} but its external service lacks "
                f"{', '.join(missing)}; add them under Site administration > Server > Web services > External services",
                details,
            )
        return CheckResult(True, f"Moodle site {info.get('sitename')!r} ({info.get('release')}): token and functions OK", details)

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        state.complete = True
        if stream == "site":
            info = await self.call(self.client, "core_webservice_get_site_info")
            yield RawRecord({k: info[k] for k in SITE_FIELDS if k in info}, ref="core_webservice_get_site_info")
        elif stream == "users":
            cfg = self.config
            criteria = {"criteria[0][key]": cfg.user_criteria_key, "criteria[0][value]": cfg.user_criteria_value}
            answer = await self.call(self.client, "core_user_get_users", criteria)
            context = {"role": cfg.default_user_role}
            for number, user in enumerate(answer.get("users") or []):
                yield RawRecord({**user, CONTEXT_KEY: context}, ref=f"core_user_get_users #{number}")
            for warning in answer.get("warnings") or []:
                yield RawRecord(dict(warning), ref="core_user_get_users warnings", error=f"Moodle warning: {warning.get('message')}")
        elif stream in ("courses", "classes"):
            async for course in self._courses():
                yield course
        elif stream == "enrollments":
            async for course in self._courses():
                async for record in self._enrolled(int(course.data["id"])):
                    yield record
        else:
            raise ConnectorError(f"unknown stream {stream!r} (known: {', '.join(s.name for s in _STREAMS)})")

    async def _courses(self) -> AsyncIterator[RawRecord]:
        courses = await self.call(self.client, "core_course_get_courses")
        for number, course in enumerate(courses):
            if course.get("format") == "site":  # the front page is a course in Moodle's tables
                continue
            yield RawRecord(course, ref=f"core_course_get_courses #{number}")

    async def _enrolled(self, course_id: int) -> AsyncIterator[RawRecord]:
        function = "core_enrol_get_enrolled_users"
        params = {
            "wsfunction": function,
            "moodlewsrestformat": "json",
            "courseid": course_id,
            "options[0][name]": "limitfrom",
            "options[1][name]": "limitnumber",
            "options[2][name]": "sortby",
            "options[2][value]": "id",
        }
        paging = MoodlePaging(
            function,
            OffsetLimitPaging(
                limit=self.config.page_size,
                offset_param="options[0][value]",
                limit_param="options[1][value]",
                total_header=None,
            ),
        )
        context = {"courseid": course_id}
        async for page in self.client.paginate(ENDPOINT, params, paging):
            for number, user in enumerate(page.items):
                ref = f"{function} courseid={course_id} page {page.number} #{number}"
                yield RawRecord({**user, CONTEXT_KEY: context}, ref=ref)
