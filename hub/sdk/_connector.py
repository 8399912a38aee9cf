"""The connector contract: what a connector plugin implements and what the engine hands it."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr

__all__ = [
    "CheckResult",
    "Connector",
    "ConnectorConfig",
    "ConfigT",
    "ConnectorKind",
    "RawRecord",
    "StreamSpec",
    "StreamState",
    "secret_fields",
]


class ConnectorKind(StrEnum):
    LMS = "lms"
    SIS = "sis"
    LIBRARY = "library"
    IDP = "idp"
    FEDERATION = "federation"


class ConnectorConfig(BaseModel):
    """Base of every connector's config model: frozen, unknown keys rejected, secrets as SecretStr.

    Fields typed :class:`~pydantic.SecretStr` are encrypted at rest by the store and never
    returned by the API or written to logs.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


#: the config type of a connector: ``class AcmeConnector(Connector[AcmeConfig])`` types ``self.config``
ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


def secret_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of the top-level fields of ``model`` that hold secrets (typed SecretStr)."""
    names = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ()):
            names.add(name)
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One stream a connector offers.

    ``name`` is the connector's own name for it (``users``); ``target`` the canonical type its
    default mapping produces (``User``); ``depends_on`` lists streams that must be read first
    (because a mapping looks records up in them).

    ``duplicates`` says what a second record with the same stable id in one read means:
    ``"error"`` (the default) reports it as a record error and keeps the first; ``"last_wins"`` is
    for harvest protocols (OAI-PMH, SRU) where a record changed or deleted during the read is
    legitimately listed again, later: the later copy replaces the earlier one.
    """

    name: str
    target: str
    description: str = ""
    depends_on: tuple[str, ...] = ()
    duplicates: Literal["error", "last_wins"] = "error"

    def __post_init__(self) -> None:
        if self.duplicates not in ("error", "last_wins"):
            raise ValueError(f"StreamSpec.duplicates must be 'error' or 'last_wins', not {self.duplicates!r}")


class RawRecord(NamedTuple):
    """One record as the upstream system gave it.

    ``ref`` is a human-readable reference used in error reports (``users.csv:42``,
    ``GET /api/v1/users?page=3 #17``). A connector that cannot even turn the upstream data into a
    dict sets ``error`` (and whatever ``data`` it has; ``field`` names the field at fault, when
    one is): the engine reports it and goes on. ``warnings`` are ``(field, message)`` pairs about
    a record the connector kept after tolerating something (an enum value in another case, a date
    in the source's own format): the engine reports each with severity "warning", never silently.
    (A NamedTuple: immutable, and cheap to create on the hot path of every sync.)
    """

    data: Mapping[str, Any]
    ref: str
    error: str | None = None
    warnings: tuple[tuple[str | None, str], ...] = ()
    field: str | None = None


@dataclass(slots=True)
class StreamState:
    """What the engine and a connector keep between reads of one stream of one source.

    ``cursor`` belongs to the connector: a JSON-serialisable dict (``{"since": "2026-01-01T00:00:00Z"}``)
    that the engine saves in the same transaction as each batch of records, and hands back on the
    next read. ``full_refresh`` is set by the engine when the connector must ignore the cursor and
    read everything. ``complete`` is set by the connector: ``True`` (the default) when what it yields
    is the whole set of records of that stream, so records it did not yield were deleted upstream;
    ``False`` for a delta read. ``present`` is set to ``False`` by a connector when the upstream
    does not provide the stream at all this time (an ``absent`` file in a OneRoster manifest).
    """

    cursor: dict[str, Any] = field(default_factory=dict)
    full_refresh: bool = False
    complete: bool = True
    present: bool = True


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of :meth:`Connector.check`: ``ok`` and a message a school's IT person can act on."""

    ok: bool
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


class Connector(abc.ABC, Generic[ConfigT]):
    """Base class of connectors. Subclasses set the class attributes and implement the methods.

    Generic in its config type: ``class AcmeConnector(Connector[AcmeConfig])`` with
    ``config_model = AcmeConfig`` gets a ``self.config`` typed ``AcmeConfig`` (no casts, no
    ``isinstance`` accessors). A connector of one HTTP API derives from
    :class:`~hub.sdk.HttpConnector` instead, which adds the run's client.

    An instance is created per sync run with the source's validated config (an instance of
    ``config_model``); the engine calls :meth:`streams`, then :meth:`read` once per stream, and
    :meth:`aclose` at the end.
    """

    #: unique name, also the folder of its shipped mappings (``oneroster_csv``)
    name: ClassVar[str]
    kind: ClassVar[ConnectorKind]
    title: ClassVar[str] = ""
    #: pydantic model of this connector's config
    config_model: ClassVar[type[ConnectorConfig]] = ConnectorConfig

    def __init__(self, config: ConfigT) -> None:
        self.config: ConfigT = config

    @abc.abstractmethod
    def streams(self) -> Sequence[StreamSpec]:
        """The streams this connector offers, in the order they should be read."""

    @abc.abstractmethod
    async def check(self) -> CheckResult:
        """Test the connection and credentials; never raises for an unreachable system, says so."""

    @abc.abstractmethod
    def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        """Yield the records of ``stream``, one at a time, never loading the whole set in memory.

        Raise :class:`~hub.errors.ConnectorError` (or :class:`~hub.errors.SourceDataError`) when the
        stream as a whole cannot be read; yield a :class:`RawRecord` with ``error`` for one bad record.
        """

    async def fingerprint(self, stream: str) -> str | None:
        """A digest of everything the next read of ``stream`` would yield, or None when unknown.

        Optional: the default is None. Return a value only when it is cheap to get (far cheaper
        than the read) and when the same value guarantees the same records, in the same order,
        from a complete read (a file's bytes, an export's content hash; not a timestamp). The
        engine then skips a stream whose previous complete read, with the same mapping, found
        no error and whose entities nobody has written since (see docs/concepts.md).
        """
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional: a connector without resources keeps this
        """Release network clients or open files."""
