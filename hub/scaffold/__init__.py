"""Generate an external connector package: ``fediflow connectors new NAME [--dir PATH]``.

The package installs with pip, registers its connector and mapping folder through the
``fediflow`` entry-point group, and passes its own cassette-backed tests (the shared
``ConnectorContract`` suite and a mapping test) as generated. docs/connectors.md walks through it.
"""

from hub.scaffold._generate import NAME_PATTERN, ScaffoldResult, generate_connector

__all__ = ["NAME_PATTERN", "ScaffoldResult", "generate_connector"]
