"""The oneroster_rest connector: a OneRoster 1.1 or 1.2 rostering REST provider, read as a consumer.

* Paths: ``/ims/oneroster/v1p1/<collection>`` (1.1) and ``/ims/oneroster/rostering/v1p2/<collection>``
  (1.2), relative to ``base_url``; each answer is an envelope ``{"<collection>": [...]}``.
* Auth: OAuth 2.0 client credentials (``OAuth2ClientCredentials`` of the SDK) at ``token_url``.
* Paging: ``limit``/``offset``; ends at ``X-Total-Count`` when the provider sends it, else on a
  short or empty page.
* Incremental: the highest ``dateLastModified`` read is kept as the stream's cursor; the next
  read asks ``filter=dateLastModified>='<cursor>'`` sorted by ``dateLastModified`` and is a delta
  (``state.complete = False``); a first or full-refresh read is complete.
* Quirks handled: booleans and numbers sent as strings (mappings coerce them), arrays left out
  instead of empty, 1.1 users' ``role`` + ``orgs`` folded into a 1.2-style ``roles`` list (see
  :func:`connectors.oneroster_rest._compat.user_roles`), ``password`` never passed on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from hub.sdk import (
    CheckResult,
    ConnectorConfig,
    ConnectorError,
    ConnectorKind,
    Cursor,
    HttpConnector,
    HttpEndpointConfig,
    OAuth2ClientCredentials,
    OffsetLimitPaging,
    RawRecord,
    StreamSpec,
    StreamState,
)
from hub.sdk import explain_check_failure as explain

from ._compat import normalise_user

__all__ = ["COLLECTIONS", "DEFAULT_SCOPES", "PATHS", "OneRosterRestConfig", "OneRosterRestConnector"]

PATHS = {"1.1": "ims/oneroster/v1p1", "1.2": "ims/oneroster/rostering/v1p2"}
DEFAULT_SCOPES = {
    "1.1": "https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly "
    "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-demographics.readonly",
    "1.2": "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly "
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly",
}
CURSOR_KEY = "dateLastModified"

#: stream name (= collection and envelope key) -> (canonical target, description, depends_on)
COLLECTIONS: dict[str, tuple[str, str]] = {
    "orgs": ("Org", "Districts, schools, departments."),
    "academicSessions": ("AcademicSession", "School years, terms, semesters, grading periods."),
    "courses": ("Course", "Courses of the catalogue."),
    "classes": ("Class", "Classes of a course in one or more terms."),
    "users": ("User", "Students, teachers, guardians, administrators with their roles."),
    "enrollments": ("Enrollment", "Users in classes."),
    "demographics": ("Demographics", "Birth date, sex, race and ethnicity of users."),
}


class OneRosterRestConfig(HttpEndpointConfig):
    """Where the OneRoster provider is, which version it speaks and the client it lets in.

    ``base_url``, timeouts, retries and the request budget come from ``HttpEndpointConfig``; the
    OAuth 2.0 client credentials are required here (``HttpSourceConfig`` has them optional).
    """

    base_url: str = Field(pattern=r"^https?://", description="Root the /ims/oneroster/... paths are relative to.")
    version: Literal["1.1", "1.2"] = "1.2"
    token_url: str = Field(pattern=r"^https?://", description="OAuth 2.0 token endpoint of the provider.")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    scope: str | None = Field(
        default=None, description="Space-separated scopes; default: roster.readonly and roster-demographics.readonly."
    )
    token_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    page_size: int = Field(default=100, ge=1, le=10000)
    incremental: bool = Field(default=True, description="Ask only for records changed since the last read.")
    read_timeout: float = Field(default=60.0, gt=0)

    @property
    def scopes(self) -> str:
        return self.scope if self.scope is not None else DEFAULT_SCOPES[self.version]


class OneRosterRestConnector(HttpConnector[OneRosterRestConfig]):
    """Reads a OneRoster 1.1 / 1.2 REST provider (see the module docstring)."""

    name: ClassVar[str] = "oneroster_rest"
    kind: ClassVar[ConnectorKind] = ConnectorKind.SIS
    title: ClassVar[str] = "OneRoster REST (1.1 / 1.2)"
    config_model: ClassVar[type[ConnectorConfig]] = OneRosterRestConfig

    headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    def streams(self) -> Sequence[StreamSpec]:
        return tuple(StreamSpec(name, target, text) for name, (target, text) in COLLECTIONS.items())

    def auth(self) -> OAuth2ClientCredentials:
        """OAuth 2.0 client credentials, the token fetched on first use."""
        cfg = self.config
        return OAuth2ClientCredentials(
            cfg.token_url,
            cfg.client_id,
            cfg.client_secret,
            cfg.scopes or None,
            auth_method=cfg.token_auth_method,
            timeout=cfg.read_timeout,
            verify=cfg.verify_tls,
        )

    def path(self, collection: str) -> str:
        return f"{PATHS[self.config.version]}/{collection}"

    # --- the contract ------------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        cfg = self.config
        details: dict[str, Any] = {"base_url": cfg.base_url, "version": cfg.version}
        where = f"{cfg.base_url.rstrip('/')}/{self.path('orgs')}"
        async with self.new_client(max_attempts=1) as client:
            try:
                answer = await client.get_json(self.path("orgs"), {"limit": 1, "offset": 0})
            except ConnectorError as exc:
                text = str(exc)
                if "token endpoint" in text:
                    message = f"OAuth 2.0 at {cfg.token_url} failed: {text}"
                elif exc.status == 404:
                    message = (
                        f"no OneRoster {cfg.version} API at {where} (HTTP 404); check the base URL and the version"
                    )
                elif exc.status == 403:
                    message = (
                        f"the OneRoster provider refused GET {where} (HTTP 403): the client's scopes "
                        f"({cfg.scopes}) do not allow reading rosters"
                    )
                else:
                    message = explain(exc, cfg.base_url, f"OneRoster {cfg.version}", "client credentials")
                return CheckResult(False, message, details)
        if not isinstance(answer, Mapping) or not isinstance(answer.get("orgs", []), list):
            return CheckResult(False, f"GET {where} did not answer a OneRoster orgs envelope; check the base URL", details)
        return CheckResult(True, f"OneRoster {cfg.version} at {cfg.base_url}: token issued and orgs readable", details)

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        if stream not in COLLECTIONS:
            raise ConnectorError(f"unknown stream {stream!r} (known: {', '.join(COLLECTIONS)})")
        cfg = self.config
        cursor = Cursor(state, CURSOR_KEY)
        since = cursor.start() if cfg.incremental else None
        if not cfg.incremental:
            state.complete = True
        params: dict[str, Any] = {"sort": "dateLastModified", "orderBy": "asc"}
        if since:
            params["filter"] = f"dateLastModified>='{since}'"
        paging = OffsetLimitPaging(limit=cfg.page_size, items_path=stream)
        async for page in self.client.paginate(self.path(stream), params, paging):
            for number, item in enumerate(page.items):
                ref = f"GET {page.info.url} #{number}"
                if not isinstance(item, Mapping):
                    yield RawRecord({"value": item}, ref, error=f"expected an object in {stream}, got {type(item).__name__}")
                    continue
                data = normalise_user(item, cfg.version) if stream == "users" else item
                yield RawRecord(data, ref)
                cursor.advance(item.get(CURSOR_KEY))
        cursor.finish()
