"""Tenant import directories and the one confinement rule for file paths given through the API.

Each tenant has ``<imports_dir>/<tenant-slug>/``. A path an API client names (a source's bundle)
is relative to it: absolute paths and ``..`` are refused, and the path is resolved (symlinks
followed) and must still lie inside. Every refusal says the same thing, whether or not the path
exists outside, so the API is no oracle on server paths. The host's CLI may still name any path.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import BaseModel

from hub.errors import PathRefused
from hub.settings import Settings

__all__ = ["FILE_FIELD", "OUTSIDE_MESSAGE", "REFUSED_MESSAGE", "Shield", "TenantImports", "file_fields"]

#: marks a connector config field as a server file path: ``Field(json_schema_extra={FILE_FIELD: True})``
FILE_FIELD = "x-fediflow-file"
REFUSED_MESSAGE = "path must be relative to the tenant's import directory and stay inside it"
#: what the API says about a file outside the tenant's import directory that cannot be used, whatever the cause
OUTSIDE_MESSAGE = "the source's file cannot be read"


def file_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """Names of the config fields of ``model`` that name a server file or folder."""
    names = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get(FILE_FIELD):
            names.append(name)
    return tuple(names)


class TenantImports:
    """The import directory of one tenant: where its uploads land and its file sources point."""

    def __init__(self, settings: Settings, tenant_slug: str) -> None:
        self.settings = settings
        self.slug = tenant_slug
        self.root = (settings.imports_dir / tenant_slug).resolve()

    def ensure(self) -> Path:
        """The directory, created (owner and group only) when missing."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o750)
        return self.root

    def contains(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` (absolute, or relative to the process) resolves inside this directory."""
        try:
            resolved = Path(path).resolve()
        except (OSError, RuntimeError, ValueError):
            return False
        return resolved == self.root or self.root in resolved.parents

    def confine(self, value: str) -> Path:
        """The absolute, resolved path of ``value`` (relative to this directory); PathRefused otherwise."""
        if not value or "\x00" in value or value.startswith(("/", "\\", "~")):
            raise PathRefused(REFUSED_MESSAGE)
        posix, windows = PurePosixPath(value), PureWindowsPath(value)
        if posix.is_absolute() or windows.is_absolute() or windows.drive or ".." in posix.parts \
                or ".." in windows.parts:
            raise PathRefused(REFUSED_MESSAGE)
        try:
            resolved = (self.root / posix).resolve()
        except (OSError, RuntimeError, ValueError):  # a symlink loop, a name the OS refuses
            raise PathRefused(REFUSED_MESSAGE) from None
        if resolved != self.root and self.root not in resolved.parents:
            raise PathRefused(REFUSED_MESSAGE)
        return resolved

    def relative(self, path: str) -> str | None:
        """``path`` as shown to the tenant (relative to this directory), or None when it lies outside."""
        candidate = Path(path)
        if not candidate.is_absolute() or not self.contains(candidate):
            return None
        rel = candidate.resolve().relative_to(self.root).as_posix()
        return rel

    def scrub(self, message: str) -> str:
        """``message`` with this directory's absolute prefix removed (tenants see relative paths)."""
        return message.replace(f"{self.root}{os.sep}", "").replace(str(self.root), ".")

    # -- connector configs ---------------------------------------------------------------------

    def confine_config(self, config: BaseModel, *, keep: dict[str, Any] | None = None) -> BaseModel:
        """``config`` with each file field confined and made absolute.

        ``keep``: stored values a PATCH leaves untouched; they are kept as they are (a path the host
        set through the CLI may lie outside).
        """
        updates: dict[str, Any] = {}
        for name in file_fields(type(config)):
            value = getattr(config, name)
            if value is None:
                continue
            if keep is not None and name in keep and keep[name] == value:
                continue
            updates[name] = str(self.confine(str(value)))
        return config.model_copy(update=updates) if updates else config

    def display_config(self, model: type[BaseModel] | None, config: dict[str, Any]) -> dict[str, Any]:
        """A stored config with file fields inside this directory shown relative to it."""
        if model is None:
            return config
        shown = dict(config)
        for name in file_fields(model):
            value = shown.get(name)
            if isinstance(value, str):
                rel = self.relative(value)
                if rel is not None:
                    shown[name] = rel
        return shown

    def outside_fields(self, model: type[BaseModel], config: BaseModel) -> list[str]:
        """File fields of ``config`` pointing outside this directory (set by the host through the CLI)."""
        return [name for name in file_fields(model)
                if getattr(config, name, None) and not self.contains(str(getattr(config, name)))]


class Shield:
    """What the API may tell a tenant about a source's files.

    For a file inside the tenant's import directory: the precise message, with the directory's prefix
    removed. For a file outside (a path the host set through the CLI): one message whatever went wrong,
    so that a missing file, an unreadable one and a bad archive look alike.
    """

    def __init__(self, imports: TenantImports, model: type[BaseModel], config: BaseModel) -> None:
        self.imports = imports
        self.outside = bool(imports.outside_fields(model, config))

    def message(self, message: str) -> str:
        return OUTSIDE_MESSAGE if self.outside else self.imports.scrub(message)

    def details(self, details: dict[str, Any]) -> dict[str, Any]:
        if self.outside:
            return {}
        return {k: self.imports.scrub(v) if isinstance(v, str) else v for k, v in details.items()}

    def __enter__(self) -> Shield:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        from hub.errors import SourceDataError

        if isinstance(exc, SourceDataError):
            raise SourceDataError(self.message(str(exc))) from None
