"""Generate an external connector package: ``fediflow connectors new NAME [--kind http|file] [--dir PATH]``.

The package installs with pip, registers its connector and mapping folder through the
``fediflow`` entry-point group, and passes its own cassette-backed tests (the shared
``ConnectorContract`` suite and a mapping test) as generated. ``--kind http`` writes an
``HttpConnector[Config]`` tested on a recorded cassette, ``--kind file`` a ``Connector[Config]``
reading CSV files. docs/connectors.md walks through it.
"""

from hub.scaffold._generate import CONNECTOR_KINDS, NAME_PATTERN, ScaffoldResult, generate_connector

__all__ = ["CONNECTOR_KINDS", "NAME_PATTERN", "ScaffoldResult", "generate_connector"]
