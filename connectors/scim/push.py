"""The ``scim_push`` connector: users and groups an identity provider pushed to the hub's SCIM server.

The SCIM server (``/scim/v2/<source>``, see docs/scim.md) stores what Okta, Entra ID or another
SCIM client sends in the hub's ``scim_resources`` table; this connector reads those documents
back, so they reach the canonical store through the ordinary sync engine and mappings
(``mappings/scim_push``). Every read is complete: a resource deleted over SCIM is not read, so the
sync marks its User or Org ``tobedeleted``.

Unlike other connectors it reads the hub's own database (the one the settings name), through
:mod:`hub.scim`; it never calls the network.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, SecretStr

from hub.errors import StoreError
from hub.sdk import CheckResult, Connector, ConnectorConfig, ConnectorKind, RawRecord, StreamSpec, StreamState

from ._roles import CONTEXT_KEY, user_context

if TYPE_CHECKING:  # hub.scim (and scim2-models) load only when a push source is read
    from hub.scim import PushedReader

__all__ = ["ScimPushConfig", "ScimPushConnector"]

_STREAMS = (
    StreamSpec("groups", "Org", "SCIM Groups, as orgs of type ext:group."),
    StreamSpec("users", "User", "SCIM Users (core schema + enterprise extension)."),
)


def _new_store_key() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(24))


class ScimPushConfig(ConnectorConfig):
    """A SCIM endpoint for an identity provider; every field has a default, so ``{}`` is a valid config."""

    display_name: str | None = Field(default=None, max_length=255, description="A name for the IdP (shown only).")
    org_sourced_id: str = Field(
        default="scim", min_length=1, max_length=255,
        description="sourcedId of the org in which every pushed user gets its role (and the parent of groups).")
    default_role: str = Field(
        default="student", pattern=r"^(ext:[A-Za-z0-9.\-_]+|[a-zA-Z]+)$",
        description="OneRoster role of users whose SCIM userType is not a known role.")
    sync_after_push: bool = Field(default=True, description="Sync the source after SCIM writes (else: on schedule).")
    sync_delay_seconds: float = Field(
        default=2.0, ge=0, le=3600, description="Wait this long after a SCIM write before syncing (writes coalesce).")
    store_key: SecretStr = Field(
        default_factory=_new_store_key,
        description="Generated key of this source's stored SCIM resources; keep it when replacing the config.")


class ScimPushConnector(Connector[ScimPushConfig]):
    name: ClassVar[str] = "scim_push"
    kind: ClassVar[ConnectorKind] = ConnectorKind.IDP
    title: ClassVar[str] = "SCIM 2.0 push (identity provider provisions into the hub)"
    config_model: ClassVar[type[ConnectorConfig]] = ScimPushConfig

    def __init__(self, config: ScimPushConfig) -> None:
        super().__init__(config)
        self._reader: PushedReader | None = None

    def streams(self) -> Sequence[StreamSpec]:
        return _STREAMS

    async def _open(self) -> PushedReader:
        if self._reader is None:
            from hub.scim import open_pushed_reader

            self._reader = await open_pushed_reader(self.config.store_key.get_secret_value())
        return self._reader

    async def check(self) -> CheckResult:
        try:
            counts = await (await self._open()).counts()
        except StoreError as exc:
            return CheckResult(False, f"cannot read the pushed SCIM resources from the hub's database: {exc}")
        users, groups = counts.get("User", 0), counts.get("Group", 0)
        details = {"users": users, "groups": groups}
        if not counts["stored"]:
            # never sync an empty store: it would mark every user of this source tobedeleted when the
            # config was replaced (new store key) and the IdP has not written since (which re-keys)
            return CheckResult(False, "nothing was pushed to this source yet (or its config was replaced and no "
                                      "SCIM write happened since); point the identity provider at "
                                      "/scim/v2/<source name> with an admin or integrator client's token", details)
        who = f" from {self.config.display_name}" if self.config.display_name else ""
        return CheckResult(True, f"{users} users and {groups} groups pushed{who}", details)

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        state.complete = True
        reader = await self._open()
        cfg = self.config
        resource_type = "User" if stream == "users" else "Group"
        async for record in reader.records(resource_type):
            document = _render(record)
            if resource_type == "User":
                document[CONTEXT_KEY] = user_context(document, cfg.org_sourced_id, cfg.default_role)
            else:
                document[CONTEXT_KEY] = {"org": cfg.org_sourced_id}
            yield RawRecord(document, ref=f"{resource_type} {record.resource_id}")

    async def aclose(self) -> None:
        if self._reader is not None:
            await self._reader.aclose()
            self._reader = None


def _render(record: object) -> dict:  # type: ignore[type-arg]
    from hub.scim import render

    return render(record)
