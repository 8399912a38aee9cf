"""The ``scim`` connector: reads Users and Groups from a SCIM 2.0 service provider (RFC 7644).

Endpoints: ``GET {base_url}/ServiceProviderConfig`` and ``GET {base_url}/Users?startIndex=1&count=1``
(check), ``GET {base_url}/Users`` and ``GET {base_url}/Groups`` paged with ``startIndex``/``count``
(RFC 7644 §3.4.2.4) until ``totalResults`` is reached or a page comes back empty. Auth: a bearer
token, HTTP Basic or OAuth 2.0 client credentials (``hub.sdk.HttpSourceConfig``). Every read is
complete, so users the server no longer lists become ``tobedeleted``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from pydantic import Field

from hub.sdk import (
    CheckResult,
    ConnectorConfig,
    ConnectorError,
    ConnectorKind,
    HttpConnector,
    HttpSourceConfig,
    PageRequest,
    RawRecord,
    StreamSpec,
    StreamState,
    explain_check_failure,
)

from ._roles import CONTEXT_KEY, user_context

__all__ = ["ScimClientConfig", "ScimClientConnector", "ScimPaging"]

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

_STREAMS = (
    StreamSpec("groups", "Org", "SCIM Groups, as orgs of type ext:group."),
    StreamSpec("users", "User", "SCIM Users (core schema + enterprise extension)."),
)


class ScimClientConfig(HttpSourceConfig):
    """Where the SCIM service provider is (``base_url`` ends before ``/Users``) and how to authenticate."""

    page_size: int = Field(default=100, ge=1, le=1000, description="count asked per page (servers may return fewer).")
    users_filter: str | None = Field(default=None, max_length=2000,
                                     description="An optional SCIM filter for /Users, e.g. 'active eq true'.")
    read_groups: bool = Field(default=True, description="Also read /Groups (as orgs).")
    org_sourced_id: str = Field(default="scim", min_length=1, max_length=255,
                                description="sourcedId of the org in which every user gets its role.")
    default_role: str = Field(default="student", pattern=r"^(ext:[A-Za-z0-9.\-_]+|[a-zA-Z]+)$",
                              description="OneRoster role of users whose userType is not a known role.")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        raise ConnectorError(f"expected SCIM JSON, got {kind} (HTTP {response.status_code})", retryable=False) from None


@dataclass(frozen=True)
class ScimPaging:
    """RFC 7644 §3.4.2.4 index paging: ``startIndex`` (1-based) and ``count``; stops at ``totalResults``."""

    count: int = 100

    def first(self, path: str, params: Mapping[str, Any], resume: Mapping[str, Any] | None) -> PageRequest:
        start = int((resume or {}).get("startIndex", 1))
        return PageRequest(path, {**params, "startIndex": start, "count": self.count}, {"startIndex": start})

    def parse(self, response: httpx.Response, request: PageRequest) -> tuple[Sequence[Any], PageRequest | None]:
        body = _json(response)
        if not isinstance(body, Mapping):
            raise ConnectorError("a SCIM listing must be a JSON object (ListResponse)", retryable=False)
        items = body.get("Resources") or []
        if not isinstance(items, list):
            raise ConnectorError("the Resources of a SCIM ListResponse must be a list", retryable=False)
        start = int(request.state.get("startIndex", 1))
        following = start + len(items)
        total = body.get("totalResults")
        if not items or (isinstance(total, int) and following > total):
            return items, None
        params = {k: v for k, v in request.params.items() if k not in ("startIndex", "count")}
        return items, self.first(request.url, params, {"startIndex": following})


class ScimClientConnector(HttpConnector[ScimClientConfig]):
    name: ClassVar[str] = "scim"
    kind: ClassVar[ConnectorKind] = ConnectorKind.IDP
    title: ClassVar[str] = "SCIM 2.0 service provider (pull)"
    config_model: ClassVar[type[ConnectorConfig]] = ScimClientConfig

    def streams(self) -> Sequence[StreamSpec]:
        return _STREAMS if self.config.read_groups else _STREAMS[1:]

    headers: ClassVar[Mapping[str, str]] = {"Accept": "application/scim+json, application/json"}

    async def check(self) -> CheckResult:
        cfg = self.config
        details: dict[str, Any] = {"base_url": cfg.base_url}
        async with self.new_client(max_attempts=1) as client:
            try:
                spc = await client.get_json("ServiceProviderConfig")
            except ConnectorError as exc:
                if exc.status == 404:
                    return CheckResult(False, f"no SCIM ServiceProviderConfig at {cfg.base_url}/ServiceProviderConfig "
                                              "(HTTP 404); the base URL must end where /Users begins", details)
                return CheckResult(False, explain_check_failure(exc, cfg.base_url, "the SCIM server", _credential(cfg)), details)
            schemas = spc.get("schemas") if isinstance(spc, Mapping) else None
            if not isinstance(schemas, list) or SPC_SCHEMA not in schemas:
                return CheckResult(False, f"{cfg.base_url}/ServiceProviderConfig is not a SCIM 2.0 "
                                          "ServiceProviderConfig; check the base URL", details)
            details["filter"] = bool((spc.get("filter") or {}).get("supported"))
            details["patch"] = bool((spc.get("patch") or {}).get("supported"))
            try:
                listing = await client.get_json("Users", {"startIndex": 1, "count": 1})
            except ConnectorError as exc:
                return CheckResult(False, explain_check_failure(exc, cfg.base_url, "the SCIM server", _credential(cfg)), details)
        if not isinstance(listing, Mapping) or LIST_SCHEMA not in (listing.get("schemas") or []):
            return CheckResult(False, f"{cfg.base_url}/Users did not answer a SCIM ListResponse", details)
        details["users"] = listing.get("totalResults")
        return CheckResult(True, f"SCIM server at {cfg.base_url} answers; {details['users']} users readable", details)

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        state.complete = True
        cfg = self.config
        path = "Users" if stream == "users" else "Groups"
        params = {"filter": cfg.users_filter} if stream == "users" and cfg.users_filter else {}
        async for page in self.client.paginate(path, params, ScimPaging(cfg.page_size)):
            for number, item in enumerate(page.items):
                ref = f"GET {page.info.url} #{number}"
                if not isinstance(item, Mapping) or not item.get("id"):
                    yield RawRecord(item if isinstance(item, Mapping) else {}, ref, "SCIM resource without an id")
                    continue
                context = (user_context(item, cfg.org_sourced_id, cfg.default_role) if stream == "users"
                           else {"org": cfg.org_sourced_id})
                yield RawRecord({**item, CONTEXT_KEY: context}, ref)


def _credential(cfg: ScimClientConfig) -> str:
    return {"bearer": "bearer token", "basic": "username and password", "api_key": "API key",
            "oauth2_client_credentials": "OAuth client credentials"}.get(cfg.auth, "credentials (auth is 'none')")
