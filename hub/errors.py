"""The one exception tree of the hub.

Every error the hub raises on purpose derives from :class:`HubError`, so callers at a
boundary (CLI, API, scheduler) catch one type and translate it once::

    HubError
     +-- ConfigurationError      settings, connector config or CLI arguments are wrong
     |    +-- PathRefused        a file path given through the API leaves the tenant's import directory
     +-- PluginError             a plugin failed to load or broke a hook contract
     +-- ConnectorError          talking to an upstream system failed (``retryable`` says if a retry may help)
     |    +-- SourceDataError    the upstream data as a whole is unusable (missing file, bad zip, bad manifest)
     +-- UploadRefused           an uploaded file is refused (not a zip, unsafe member names, zip bomb)
     |    +-- UploadTooLarge     ... because it is bigger than the configured cap
     +-- MappingError            a mapping file is invalid (names the file and line)
     +-- RecordError             one record could not be mapped or validated (goes to the run's error report)
     +-- StoreError              the database failed in a way the caller cannot fix
     +-- NotFound                a named thing does not exist (or belongs to another tenant)
     +-- Conflict                the request clashes with the current state (duplicate name, run already active)
     +-- AuthError               credentials missing or wrong
     |    +-- Forbidden          authenticated, but not allowed

Third-party errors (httpx, SQLAlchemy, lxml, pydantic) are translated into this tree where they
are caught: inside the SDK, inside the store and inside the mapping engine.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigurationError",
    "Conflict",
    "ConnectorError",
    "Forbidden",
    "HubError",
    "MappingError",
    "NotFound",
    "PathRefused",
    "PluginError",
    "RecordError",
    "SourceDataError",
    "StoreError",
    "UploadRefused",
    "UploadTooLarge",
]


class HubError(Exception):
    """Base of every error the hub raises on purpose."""

    #: short machine-readable code, used in problem+json ``type`` and CLI output
    code: str = "hub-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(HubError):
    code = "configuration-error"


class PathRefused(ConfigurationError):
    """A path given through the API is absolute, climbs out with ``..`` or resolves outside the tenant's
    import directory. The message is the same whether or not the path exists (no oracle on server paths)."""

    code = "path-refused"


class UploadRefused(HubError):
    """An uploaded file is refused: not a zip, unsafe member names, symlinks, too big once unpacked."""

    code = "upload-refused"


class UploadTooLarge(UploadRefused):
    """An upload is bigger than ``imports.max_upload_bytes``."""

    code = "upload-too-large"


class PluginError(HubError):
    """A plugin could not be loaded or broke a hook contract; ``plugin`` names it."""

    code = "plugin-error"

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        super().__init__(f"plugin {plugin!r}: {message}" if plugin else message)
        self.plugin = plugin


class ConnectorError(HubError):
    """Talking to an upstream system failed. ``retryable`` tells the engine whether a retry may help."""

    code = "connector-error"

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class SourceDataError(ConnectorError):
    """The source data as a whole cannot be used: a missing file, an unreadable archive, a wrong manifest."""

    code = "source-data-error"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message, retryable=False)
        self.where = where


class MappingError(HubError):
    """A mapping file is invalid. ``file`` and ``line`` say where."""

    code = "mapping-error"

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        where = file or "<mapping>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.detail = message


class RecordError(HubError):
    """One record could not be mapped or validated.

    ``field`` names the canonical (or source) field at fault; ``message`` never contains a secret
    or a password value, only what is wrong with it.
    """

    code = "record-error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StoreError(HubError):
    code = "store-error"


class NotFound(HubError):
    code = "not-found"


class Conflict(HubError):
    code = "conflict"


class AuthError(HubError):
    code = "unauthorized"


class Forbidden(AuthError):
    code = "forbidden"
