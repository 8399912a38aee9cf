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
    "PluginSettings",
    "SecuritySettings",
    "Settings",
    "SyncSettings",
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


class ApiSettings(BaseModel):
    model_config = _FROZEN

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    #: public base URL used in links (OneRoster hrefs, ActivityPub ids); empty: http://host:port
    public_url: str = ""
    max_page_size: int = Field(default=1000, ge=1, le=10000)
    request_max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    rate_limit_per_minute: int = Field(default=600, ge=1)
    redis_url: str = ""


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

    @cached_property
    def database_url(self) -> str:
        """The effective database URL."""
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'fediflow.db').as_posix()}"

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
