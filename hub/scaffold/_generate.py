"""Writing the files of :mod:`hub.scaffold._templates` for one connector name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from hub.errors import ConfigurationError
from hub.scaffold._templates import COMMON_FILES, KINDS

__all__ = ["CONNECTOR_KINDS", "NAME_PATTERN", "ScaffoldResult", "generate_connector"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,40}$")

#: what a scaffold can generate: ``http`` (an HttpConnector on a cassette), ``file`` (CSV files)
CONNECTOR_KINDS: tuple[str, ...] = tuple(KINDS)


@dataclass(frozen=True, slots=True)
class ScaffoldResult:
    """Where the package was written, its distribution and import names, and its files."""

    root: Path
    dist: str
    package: str
    files: tuple[Path, ...]


def _fediflow_version() -> str:
    try:
        return version("fediflow")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
        return "0.1.0"


def generate_connector(
    name: str, directory: Path | str = ".", *, title: str | None = None, kind: str = "http"
) -> ScaffoldResult:
    """Write the package ``fediflow-<name>`` into ``directory``; refuse to overwrite anything.

    ``name`` is the connector's name (lower_snake: ``acme_sis``), also its mapping folder; ``kind``
    is ``http`` (a connector of one HTTP API, tested on a recorded cassette) or ``file`` (a
    connector reading CSV files, tested on files in ``tests/data``).
    Raise :class:`~hub.errors.ConfigurationError` for a bad name or kind, or an existing target folder.
    """
    if kind not in KINDS:
        raise ConfigurationError(f"connector kind {kind!r} is not one of {', '.join(CONNECTOR_KINDS)}")
    if not NAME_PATTERN.match(name):
        raise ConfigurationError(
            f"connector name {name!r} must be lower_snake: a letter, then letters, digits or _ (at most 41)"
        )
    dist = "fediflow-" + name.replace("_", "-")
    values = {
        "name": name,
        "package": f"fediflow_{name}",
        "dist": dist,
        "title": title or name.replace("_", " ").title(),
        "class_name": "".join(part.capitalize() for part in name.split("_")) + "Connector",
        "fediflow_version": _fediflow_version(),
    }
    kind_files, readme_values = KINDS[kind]
    values.update(readme_values)
    root = Path(directory) / dist
    if root.exists():
        raise ConfigurationError(f"{root} already exists; choose another --dir or remove it")
    written = []
    for relative, template in {**COMMON_FILES, **kind_files}.items():
        path = root / relative.format(**values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
        written.append(path)
    return ScaffoldResult(root=root, dist=dist, package=values["package"], files=tuple(written))
