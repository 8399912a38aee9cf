"""The ``federation`` connector: objects a followed FediFlow hub sent, read back as a source.

The hub's inbox stores the current state of every object a followed remote actor sent (Create /
Update / Delete). This connector reads that state, one stream per canonical type, as complete
reads: an object the remote actor deleted is absent, so the sync engine marks it ``tobedeleted``.
The records are OneRoster 1.2 JSON; the mappings in ``mappings/federation`` turn them into
canonical records like any other source.

Unlike other connectors this one reads the hub's own database (the objects the inbox stored), so
it uses ``hub.federation.received_objects``: it is part of the hub, shipped with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

from pydantic import Field, SecretStr

from hub.sdk import CheckResult, Connector, ConnectorConfig, ConnectorKind, RawRecord, StreamSpec, StreamState

__all__ = ["FederationConfig", "FederationConnector"]

#: stream -> (canonical type, description)
STREAMS: dict[str, tuple[str, str]] = {
    "orgs": ("Org", "Organisations of the remote hub's tenant."),
    "academicSessions": ("AcademicSession", "Terms and school years."),
    "courses": ("Course", "Courses."),
    "classes": ("Class", "Classes."),
    "libraryItems": ("LibraryItem", "Library catalogue records."),
    "users": ("User", "Users (only from a roster actor that approved this hub)."),
    "enrollments": ("Enrollment", "Enrollments (only from an approving roster actor)."),
    "demographics": ("Demographics", "Demographics (only from an approving roster actor)."),
}


class FederationConfig(ConnectorConfig):
    """Which followed actor, for which tenant; the database holding what the inbox received."""

    actor: str = Field(min_length=8, description="URL of the followed remote actor.")
    tenant: str = Field(min_length=1, description="Slug of the tenant that follows it.")
    database_url: SecretStr | None = Field(default=None, description="The hub's database (default: the settings').")


class FederationConnector(Connector[FederationConfig]):
    name: ClassVar[str] = "federation"
    kind: ClassVar[ConnectorKind] = ConnectorKind.FEDERATION
    title: ClassVar[str] = "FediFlow hub (ActivityPub)"
    config_model: ClassVar[type[ConnectorConfig]] = FederationConfig

    def _database_url(self) -> str:
        if self.config.database_url is not None:
            return self.config.database_url.get_secret_value()
        from hub.settings import load_settings

        return load_settings().database_url

    def streams(self) -> Sequence[StreamSpec]:
        return tuple(StreamSpec(name, target, description) for name, (target, description) in STREAMS.items())

    async def check(self) -> CheckResult:
        return CheckResult(True, f"reads what {self.config.actor} sent to tenant {self.config.tenant!r}")

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:  # type: ignore[override]
        from hub.federation import received_objects

        type_name = STREAMS[stream][0]
        state.complete = True
        async for object_id, data in received_objects(self._database_url(), self.config.tenant, self.config.actor,
                                                      type_name):
            yield RawRecord(data, object_id)
