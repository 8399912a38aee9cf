"""Typed, frozen, self-validating settings.

One model per concern, assembled into :class:`Settings`. Values come from keyword arguments
(tests), then environment variables under the ``FEDIFLOW_`` prefix with ``__`` between nested
names (``FEDIFLOW_DATABASE__URL``, ``FEDIFLOW_PLUGINS__ALLOW``), then an optional ``.env`` file.
Unknown keys are errors. Secrets are :class:`~pydantic.SecretStr` and never appear in ``repr``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hub.errors import ConfigurationError

__all__ = [
    "ApiSettings",
    "DatabaseSettings",
    "FederationSettings",
    "IdentitySettings",
    "ImportSettings",
    "PluginSettings",
    "SchedulerSettings",
    "SecuritySettings",
    "Settings",
    "SyncSettings",
    "WebhookSettings",
    "load_settings",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class DatabaseSettings(BaseModel):
    model_config = _FROZEN

    #: SQLAlchemy async URL. Empty means the embedded SQLite file ``<data_dir>/fediflow.db``.
    url: str = ""
    echo: bool = False
    pool_size: int = Field(default=10, ge=1, le=200)

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value:
            return value
        if value.startswith(("postgres://", "postgresql://")):
            scheme, rest = value.split("://", 1)
            return f"postgresql+asyncpg://{rest}"
        if value.startswith("sqlite://"):
            return "sqlite+aiosqlite://" + value[len("sqlite://") :]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("database url must be sqlite+aiosqlite:// or postgresql+asyncpg:// (or sqlite://, postgresql://)")
        return value


class PluginSettings(BaseModel):
    model_config = _FROZEN

    #: entry-point names allowed to load from the ``fediflow`` group; ``None`` loads all of them
    allow: Annotated[tuple[str, ...] | None, NoDecode] = None
    #: entry-point names never loaded
    deny: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("allow", "deny", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


class SecuritySettings(BaseModel):
    model_config = _FROZEN

    #: Key that encrypts connector secrets at rest (Fernet, urlsafe base64 of 32 bytes).
    #: Empty means: read ``<data_dir>/secret.key``, created by ``fediflow init``.
    secret_key: SecretStr = SecretStr("")
    #: Key that signs API access tokens. Empty means: derived from ``secret_key``.
    jwt_key: SecretStr = SecretStr("")
    token_lifetime_seconds: int = Field(default=900, ge=60, le=86400)


class SyncSettings(BaseModel):
    model_config = _FROZEN

    #: records per transaction: change events, entities and stream state commit together
    batch_size: int = Field(default=2000, ge=1, le=50000)
    #: most record errors kept per run (the count goes on)
    max_errors_per_run: int = Field(default=10000, ge=1)
    #: SQLite: commit a large run's batches in a writer process, so that writing overlaps mapping
    writer_process: bool = True
    #: ... once the run has written this many records (small syncs never start one)
    writer_process_after: int = Field(default=20000, ge=0)
    #: largest record, in bytes of JSON, both as read (before mapping) and as stored; a bigger one is
    #: a record error naming it, is not stored, and the run goes on (docs/data-quality.md)
    max_record_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)


class ApiSettings(BaseModel):
    model_config = _FROZEN

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    #: public base URL used in links (OneRoster hrefs, ActivityPub ids); empty: http://host:port
    public_url: str = ""
    max_page_size: int = Field(default=1000, ge=1, le=10000)
    request_max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    #: rate limits: separate budgets per kind of caller, each per minute (docs/api.md "Rate limits")
    #: per API client (OAuth bearer token)
    rate_limit_per_minute: int = Field(default=600, ge=1)
    #: per remote address, for requests with no credentials (token endpoint, health, WebFinger ...)
    rate_limit_anonymous_per_minute: int = Field(default=600, ge=1)
    #: per SCIM source (tenant + source), whichever client of the tenant pushes
    rate_limit_scim_per_minute: int = Field(default=3000, ge=1)
    #: per remote server on the ActivityPub routes (the host of the HTTP signature's keyId)
    rate_limit_federation_per_minute: int = Field(default=3000, ge=1)
    #: per remote address, failed authentications (SCIM 401s, ActivityPub signatures that fail)
    rate_limit_auth_failures_per_minute: int = Field(default=60, ge=1)
    redis_url: str = ""


class WebhookSettings(BaseModel):
    """Webhook delivery (hub.webhooks) and the live change stream."""

    model_config = _FROZEN

    #: CIDRs a webhook URL may resolve into although they are loopback, private, link-local or
    #: reserved (``127.0.0.0/8,::1/128`` for local development). Empty: only public addresses.
    allow_private_networks: Annotated[tuple[str, ...], NoDecode] = ()
    #: whole-request timeout of one attempt, and its connect part
    timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    #: delays before each retry (Standard Webhooks: 5s, 5m, 30m, 2h, 5h, 10h, 10h); attempts = len + 1
    retry_schedule_seconds: Annotated[tuple[float, ...], NoDecode] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    #: random extra delay, as a fraction of the scheduled delay
    jitter: float = Field(default=0.1, ge=0, le=1)
    #: longest wait a receiver's Retry-After is honoured for
    max_retry_after_seconds: float = Field(default=86400, ge=0)
    #: a subscription whose deliveries keep failing this long is disabled (0: never)
    disable_after_seconds: float = Field(default=5 * 86400, ge=0)
    #: how long the previous secret still signs after a rotation (both signatures are sent)
    secret_overlap_seconds: float = Field(default=86400, ge=0)
    #: a worker's hold on a subscription; another worker takes over when it lapses (crash)
    lease_seconds: float = Field(default=60, gt=0)
    #: idle wait of the dispatcher, the worker and the WebSocket stream between polls
    poll_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    #: subscriptions delivered in parallel by one worker (each one in order)
    concurrency: int = Field(default=32, ge=1, le=1000)
    #: change events moved into one subscription's queue per dispatcher transaction
    dispatch_batch: int = Field(default=1000, ge=1, le=100000)
    #: bytes of each response body kept in the attempt log
    response_log_bytes: int = Field(default=2048, ge=0, le=65536)

    @field_validator("allow_private_networks", "retry_schedule_seconds", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("allow_private_networks")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        return tuple(str(ipaddress.ip_network(v, strict=False)) for v in value)


class FederationSettings(BaseModel):
    """ActivityPub federation (hub.federation): remote fetches, HTTP Signatures, delivery."""

    model_config = _FROZEN

    #: serve the ActivityPub, WebFinger and NodeInfo routes at all
    enabled: bool = True
    #: hosts, IP addresses or networks (CIDR) remote fetches and deliveries may reach although they are
    #: private, loopback or link-local (``127.0.0.1,10.0.0.0/8,partner.internal``); empty: none
    allow_private: Annotated[tuple[str, ...], NoDecode] = ()
    #: how far a signature's Date (draft-cavage) or ``created`` (RFC 9421) may be from now
    signature_max_skew_seconds: int = Field(default=3600, ge=30, le=86400)
    #: how long a fetched remote actor (and its public key) is trusted before it is fetched again
    key_cache_seconds: int = Field(default=86400, ge=0)
    fetch_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    #: largest remote document (actor, activity) accepted, in bytes
    fetch_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    #: delivery attempts before a delivery is given up (failed)
    delivery_max_attempts: int = Field(default=10, ge=1, le=50)
    #: first retry delay; each further retry doubles it (capped at a day)
    delivery_backoff_seconds: float = Field(default=30.0, ge=0)
    #: how often the federation worker looks for work
    worker_interval_seconds: float = Field(default=2.0, gt=0, le=3600)
    #: outbox page size
    page_size: int = Field(default=20, ge=1, le=200)

    @field_validator("allow_private", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


class SchedulerSettings(BaseModel):
    """Worker and scheduler roles (scheduler/): leases, heartbeats, polling."""

    model_config = _FROZEN

    #: a claimed run whose heartbeat is older than this is taken to be dead and is re-queued
    lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    #: how often a worker bumps the heartbeat of its runs (well below the lease)
    heartbeat_seconds: float = Field(default=10.0, gt=0, le=600)
    #: idle wait of the claim loop between looks at the queue
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    #: runs one worker process executes at once (always 1 on SQLite)
    concurrency: int = Field(default=2, ge=1, le=64)
    #: on SIGTERM, how long running syncs may finish before they are interrupted (and re-queued)
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, le=3600)
    #: how often the scheduler re-reads the schedules table (changes made on other nodes)
    reload_seconds: float = Field(default=15.0, gt=0, le=3600)
    #: at start, slots this far in the past are claimed too (the ledger drops ones already taken)
    catchup_seconds: float = Field(default=300.0, ge=0, le=86400)


class ImportSettings(BaseModel):
    """Files schools deliver (hub.imports): tenant import directories, uploads, the SFTP drop."""

    model_config = _FROZEN

    #: root of the tenant import directories (``<dir>/<tenant>/``); empty: ``<data_dir>/imports``
    dir: Path | None = None
    #: largest upload (HTTPS or SFTP), in bytes
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    #: largest total uncompressed size of an uploaded zip (zip-bomb guard)
    max_uncompressed_bytes: int = Field(default=4 * 1024 * 1024 * 1024, ge=1024)
    #: highest uncompressed / compressed ratio of an uploaded zip over 1 MiB (zip-bomb guard)
    max_compression_ratio: float = Field(default=200.0, gt=1)
    #: most members in an uploaded zip
    max_zip_members: int = Field(default=1000, ge=1)
    #: address and port of the ``sftp`` role (port 0: any free port)
    sftp_host: str = "127.0.0.1"
    sftp_port: int = Field(default=2222, ge=0, le=65535)
    #: the SFTP server's private host key; empty: ``<data_dir>/sftp_host_key`` (created on first start)
    sftp_host_key: Path | None = None


class IdentitySettings(BaseModel):
    """Cross-source identity (hub.identity, docs/identity.md): which fields link the records of
    several sources of one tenant that describe the same person, org, course or class."""

    model_config = _FROZEN
    #: canonical type -> fields compared, in order; two records of different sources are linked when
    #: one of these fields has the same non-empty value (case and surrounding space ignored) in both.
    #: A type not named here is never linked. Set with FEDIFLOW_IDENTITY__MATCH='{"User": [...]}'.
    match: dict[str, tuple[str, ...]] = Field(default_factory=lambda: {
        "User": ("userMasterIdentifier", "identifier"),
        "Org": ("identifier",),
    })

    @field_validator("match")
    @classmethod
    def _known_fields(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        import schemas

        for type_name, fields in value.items():
            model = getattr(schemas, type_name, None)
            if type_name not in schemas.BUILTIN_TYPES or model is None:
                raise ValueError(f"{type_name!r} is not a canonical type ({', '.join(schemas.BUILTIN_TYPES)})")
            unknown = [name for name in fields if name not in model.model_fields or name == "sourcedId"]
            if unknown or not fields:
                raise ValueError(f"{type_name}: give one or more of its fields (unknown: {', '.join(unknown)})")
        return value


class Settings(BaseSettings):
    """All settings of one hub process."""

    model_config = SettingsConfigDict(
        env_prefix="FEDIFLOW_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("var")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    #: folders of tenant mapping overrides: ``<mapping_dir>/<tenant>/<connector>/<stream>.yaml``
    mapping_dir: Path | None = None
    database: DatabaseSettings = DatabaseSettings()
    plugins: PluginSettings = PluginSettings()
    security: SecuritySettings = SecuritySettings()
    sync: SyncSettings = SyncSettings()
    api: ApiSettings = ApiSettings()
    webhooks: WebhookSettings = WebhookSettings()
    federation: FederationSettings = FederationSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    identity: IdentitySettings = IdentitySettings()
    imports: ImportSettings = ImportSettings()

    @cached_property
    def database_url(self) -> str:
        """The effective database URL."""
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'fediflow.db').as_posix()}"

    @property
    def imports_dir(self) -> Path:
        """Root of the tenant import directories."""
        return self.imports.dir if self.imports.dir is not None else self.data_dir / "imports"

    @property
    def sftp_host_key_file(self) -> Path:
        return self.imports.sftp_host_key if self.imports.sftp_host_key is not None else self.data_dir / "sftp_host_key"

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret.key"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment plus ``overrides``; a wrong value raises ConfigurationError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None
