"""Where mapping files live, which one wins, and a cache of compiled mappings.

Folders (shipped by plugins through ``register_mapping_folders``) hold
``<connector>/<stream>.yaml``; a later folder overrides an earlier one for the same connector and
stream. A tenant override ``<tenant_dir>/<tenant>/<connector>/<stream>.yaml`` wins for that
tenant. A compiled mapping is cached by file and recompiled when the file changes on disk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from hub.errors import MappingError, NotFound
from hub.mapping._compiled import CompiledMapping, check_mapping, load_mapping

__all__ = ["MappingInfo", "MappingRegistry"]

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
SUFFIX = ".yaml"


@dataclass(frozen=True, slots=True)
class MappingInfo:
    """One mapping file, for listings: ``overridden_by`` names the later folders' files and the
    tenants (``tenant:<name>``) that win over it; ``error`` is its first problem, if any."""

    connector: str
    stream: str
    target: str
    path: Path
    tenant: str | None = None
    overridden_by: tuple[str, ...] = ()
    error: str | None = None


class MappingRegistry:
    """The mapping files of the hub, by connector and stream, with tenant overrides."""

    def __init__(
        self,
        folders: Sequence[Path],
        types: Mapping[str, type[BaseModel]],
        tenant_dir: Path | None = None,
    ) -> None:
        self.folders = tuple(Path(folder) for folder in folders)
        self.types = types
        self.tenant_dir = Path(tenant_dir) if tenant_dir is not None else None
        self._cache: dict[Path, tuple[tuple[int, int], CompiledMapping]] = {}

    # --- finding files -------------------------------------------------------------------------

    def path_for(self, connector: str, stream: str, tenant: str | None = None) -> Path:
        """The file that maps ``connector``/``stream`` for ``tenant``; NotFound if there is none."""
        for name in (connector, stream, *([tenant] if tenant is not None else [])):
            if not _NAME.match(name):
                raise NotFound(f"no mapping for {connector}/{stream}: {name!r} is not a valid name")
        if tenant is not None and self.tenant_dir is not None:
            candidate = self.tenant_dir / tenant / connector / f"{stream}{SUFFIX}"
            if candidate.is_file():
                return candidate
        for folder in reversed(self.folders):
            candidate = folder / connector / f"{stream}{SUFFIX}"
            if candidate.is_file():
                return candidate
        raise NotFound(f"no mapping for connector {connector!r} stream {stream!r}")

    def available(self, connector: str, tenant: str | None = None) -> list[str]:
        """The streams of ``connector`` that have a mapping (shipped, or for ``tenant``)."""
        roots = list(self.folders)
        if tenant is not None and self.tenant_dir is not None and _NAME.match(tenant):
            roots.append(self.tenant_dir / tenant)
        streams = {path.stem for root in roots for path in _files(root / connector)}
        return sorted(streams)

    # --- compiling -----------------------------------------------------------------------------

    def get(self, connector: str, stream: str, tenant: str | None = None) -> CompiledMapping:
        """The compiled mapping for ``connector``/``stream`` (and ``tenant``), compiled once per file version."""
        path = self.path_for(connector, stream, tenant)
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        compiled = load_mapping(path, self.types)
        problem = _location_problem(path, compiled.connector, compiled.stream, connector, stream)
        if problem is not None:
            raise problem
        self._cache[path] = (key, compiled)
        return compiled

    def clear(self) -> None:
        """Forget every compiled mapping."""
        self._cache.clear()

    def check_all(self) -> list[MappingError]:
        """Every problem of every mapping file (shipped and tenant overrides), not just the first."""
        problems: list[MappingError] = []
        for _, connector, path in self._all_files():
            errors = check_mapping(path, self.types)
            problems.extend(errors)
            if not errors:
                compiled = load_mapping(path, self.types)
                problem = _location_problem(path, compiled.connector, compiled.stream, connector, path.stem)
                if problem is not None:
                    problems.append(problem)
        return problems

    def describe(self) -> list[MappingInfo]:
        """One row per mapping file: connector, stream, target, path, what overrides it."""
        files = self._all_files()
        rows = []
        for tenant, connector, path in files:
            stream = path.stem
            later: list[str] = []
            if tenant is None:
                shipped = [p for t, c, p in files if t is None and c == connector and p.stem == stream]
                later = [str(p) for p in shipped[shipped.index(path) + 1 :]]
                later += [f"tenant:{t}" for t, c, p in files if t is not None and c == connector and p.stem == stream]
            target, error = "", None
            try:
                compiled = load_mapping(path, self.types)
                target = compiled.target
            except MappingError as exc:
                error = str(exc)
            rows.append(MappingInfo(connector, stream, target, path, tenant, tuple(later), error))
        return rows

    def _all_files(self) -> list[tuple[str | None, str, Path]]:
        found: list[tuple[str | None, str, Path]] = []
        for folder in self.folders:
            for connector_dir in _dirs(folder):
                found.extend((None, connector_dir.name, path) for path in _files(connector_dir))
        if self.tenant_dir is not None:
            for tenant_dir in _dirs(self.tenant_dir):
                for connector_dir in _dirs(tenant_dir):
                    found.extend((tenant_dir.name, connector_dir.name, path) for path in _files(connector_dir))
        return found


def _dirs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and _NAME.match(p.name))


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"*{SUFFIX}") if p.is_file() and _NAME.match(p.stem))


def _location_problem(path: Path, connector: str, stream: str, want_connector: str, want_stream: str) -> MappingError | None:
    for key, found, wanted in (("connector", connector, want_connector), ("stream", stream, want_stream)):
        if found != wanted:
            return MappingError(
                f"{key}: {found} does not match the file's place ({want_connector}/{want_stream}{SUFFIX})",
                file=str(path),
                line=_line_of(path, key),
            )
    return None


def _line_of(path: Path, key: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for number, line in enumerate(lines, start=1):
        if line.startswith(f"{key}:"):
            return number
    return None
