"""The canvas connector: accounts, users, courses, sections and enrollments of a Canvas LMS account.

Endpoints (Canvas REST API v1, https://canvas.instructure.com/doc/api/):

* ``GET /api/v1/accounts/:account_id`` (check, and the ``accounts`` stream) and
  ``GET /api/v1/accounts/:account_id/sub_accounts?recursive=true``
* ``GET /api/v1/accounts/:account_id/users?include[]=email``
* ``GET /api/v1/accounts/:account_id/courses``
* ``GET /api/v1/courses/:course_id/sections`` and ``GET /api/v1/courses/:course_id/enrollments``,
  once per course of the account

Every listing is paged with ``per_page`` and followed through the ``Link: <...>; rel="next"``
header. One connector instance serves one run, and within it the account (also fetched by
``check``) and the courses listing are fetched once: the ``courses`` stream, the per-course
listings of ``sections`` and ``enrollments`` and the mappings' lookups into ``courses`` replay
the run's copy (the courses' raw records, kept in memory until :meth:`aclose`). Throttling (``X-Rate-Limit-Remaining``, 403 Rate Limit Exceeded) is handled by
:class:`~connectors.canvas._throttle.CanvasThrottle`. Every read is a full read (Canvas has no
"changed since" filter on these listings).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar, Literal
from urllib.parse import quote

from pydantic import Field, SecretStr

from hub.sdk import (
    CheckResult,
    ConnectorConfig,
    ConnectorError,
    ConnectorKind,
    HttpConnector,
    HttpEndpointConfig,
    LinkHeaderPaging,
    RawRecord,
    StreamSpec,
    StreamState,
)
from hub.sdk import explain_check_failure as explain

from ._throttle import CanvasThrottle

__all__ = ["CONTEXT_KEY", "CanvasConfig", "CanvasConnector"]

#: key of the small object the connector adds to ``users`` records (not part of Canvas's payload)
CONTEXT_KEY = "_fediflow"

_STREAMS = (
    StreamSpec("accounts", "Org", "The account and (optionally) its sub-accounts."),
    StreamSpec("users", "User", "Users of the account; their role comes from default_user_role.", ("accounts",)),
    StreamSpec("courses", "Course", "Courses of the account and its sub-accounts.", ("accounts",)),
    StreamSpec("sections", "Class", "Sections of each course, as classes of that course.", ("courses",)),
    StreamSpec("enrollments", "Enrollment", "Enrollments of each course, in their sections.", ("courses", "sections")),
)


class CanvasConfig(HttpEndpointConfig):
    """Where the Canvas instance is, the token to call it with, and which account to read.

    ``base_url``, timeouts, retries and the request budget come from ``HttpEndpointConfig``.
    """

    base_url: str = Field(pattern=r"^https?://", description="Root of the Canvas instance, e.g. https://school.instructure.com")
    access_token: SecretStr = Field(description="An access token of an account admin (Profile > Settings > New access token).")
    account_id: str = Field(
        default="1", min_length=1, description="Canvas id of the account to read, or sis_account_id:<SIS id>."
    )
    include_sub_accounts: bool = Field(default=True, description="Also emit the sub-accounts as orgs.")
    default_user_role: Literal[
        "student", "teacher", "aide", "guardian", "siteAdministrator", "districtAdministrator", "systemAdministrator"
    ] = Field(
        default="student",
        description="The role every user gets in the account (users' per-class roles are in their enrollments).",
    )
    per_page: int = Field(default=100, ge=1, le=100)
    rate_limit_low_water: float = Field(
        default=50.0, ge=0, description="Pause before the next request when X-Rate-Limit-Remaining is below this."
    )
    rate_limit_pause: float = Field(default=2.0, ge=0, description="Seconds of that pause.")
    rate_limit_attempts: int = Field(default=5, ge=1, le=20, description="Tries of a request answered 403 Rate Limit Exceeded.")
    read_timeout: float = Field(default=60.0, gt=0)


class CanvasConnector(HttpConnector[CanvasConfig]):
    """Reads one Canvas account through the REST API (see the module docstring)."""

    name: ClassVar[str] = "canvas"
    kind: ClassVar[ConnectorKind] = ConnectorKind.LMS
    title: ClassVar[str] = "Canvas LMS"
    config_model: ClassVar[type[ConnectorConfig]] = CanvasConfig

    headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    def __init__(self, config: CanvasConfig, *, client_options: Mapping[str, Any] | None = None) -> None:
        super().__init__(config, client_options=client_options)
        self._account: dict[str, Any] | None = None
        self._courses: list[RawRecord] | None = None

    def streams(self) -> Sequence[StreamSpec]:
        return _STREAMS

    # --- HTTP ------------------------------------------------------------------------------------

    def auth(self) -> CanvasThrottle:
        """The access token as a bearer token, with Canvas's throttle signals handled."""
        cfg = self.config
        sleep = self.client_options.get("sleep")
        return CanvasThrottle(
            cfg.access_token,
            low_water=cfg.rate_limit_low_water,
            pause=cfg.rate_limit_pause,
            attempts=cfg.rate_limit_attempts,
            **({"sleep": sleep} if sleep else {}),
        )

    def _account_path(self) -> str:
        return f"api/v1/accounts/{quote(self.config.account_id, safe=':')}"

    async def _listing(self, path: str, params: Mapping[str, Any] | None = None) -> AsyncIterator[RawRecord]:
        query = {"per_page": self.config.per_page, **(params or {})}
        async for page in self.client.paginate(path, query, LinkHeaderPaging()):
            for number, item in enumerate(page.items):
                yield RawRecord(item, ref=f"GET {page.info.url} #{number}")

    async def account(self) -> dict[str, Any]:
        """The configured account (fetched once per run): its numeric ``id`` is the org of every user."""
        if self._account is None:
            self._account = await self.client.get_json(self._account_path())
        return self._account

    async def courses(self) -> AsyncIterator[RawRecord]:
        """The account's courses, listed from Canvas on the run's first complete read, replayed after.

        A read stopped half way (an error, a consumer that stops early) keeps nothing, so the next
        read lists again from the start.
        """
        if self._courses is not None:
            for record in self._courses:
                yield record
            return
        listed: list[RawRecord] = []
        async for record in self._listing(f"{self._account_path()}/courses"):
            listed.append(record)
            yield record
        self._courses = listed

    async def aclose(self) -> None:
        """Close the run's client and forget what the run fetched."""
        self._account = None
        self._courses = None
        await super().aclose()

    # --- the contract ------------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        cfg = self.config
        async with self.new_client(max_attempts=1) as client:
            try:
                account = await client.get_json(self._account_path())
            except ConnectorError as exc:
                if exc.status == 404:
                    message = (
                        f"no Canvas account {cfg.account_id!r} at {cfg.base_url} (HTTP 404); "
                        "check account_id and the base URL"
                    )
                else:
                    message = explain(exc, cfg.base_url, "Canvas", "access token")
                return CheckResult(False, message, {"base_url": cfg.base_url})
        if not isinstance(account, Mapping) or "id" not in account:
            return CheckResult(
                False,
                f"{cfg.base_url} answered GET /api/v1/accounts/{cfg.account_id} without a Canvas account; "
                "check the base URL",
                {"base_url": cfg.base_url},
            )
        self._account = dict(account)  # the run's accounts and users streams use it, not a second GET
        return CheckResult(
            True,
            f"Canvas at {cfg.base_url}: account {account.get('name')!r} (id {account['id']}) is readable",
            {"base_url": cfg.base_url, "account_id": account["id"], "account_name": account.get("name")},
        )

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        state.complete = True
        if stream == "accounts":
            account = await self.account()
            yield RawRecord(account, ref=f"GET /{self._account_path()}")
            if self.config.include_sub_accounts:
                async for record in self._listing(f"{self._account_path()}/sub_accounts", {"recursive": "true"}):
                    yield record
        elif stream == "users":
            account = await self.account()
            context = {"account_id": str(account["id"]), "role": self.config.default_user_role}
            async for record in self._listing(f"{self._account_path()}/users", {"include[]": "email"}):
                yield RawRecord({**record.data, CONTEXT_KEY: context}, record.ref)
        elif stream == "courses":
            async for record in self.courses():
                yield record
        elif stream in ("sections", "enrollments"):
            async for course in self.courses():
                course_id = course.data.get("id")
                if course_id is None:
                    yield RawRecord(course.data, course.ref, "course without an id")
                    continue
                async for record in self._listing(f"api/v1/courses/{int(course_id)}/{stream}"):
                    yield record
        else:
            raise ConnectorError(f"unknown stream {stream!r} (known: {', '.join(s.name for s in _STREAMS)})")
