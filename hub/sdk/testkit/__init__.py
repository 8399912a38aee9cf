"""The connector test kit: recorded HTTP with secrets scrubbed, and the shared contract suite.

In the top-level ``conftest.py`` of a connector's tests::

    pytest_plugins = ["hub.sdk.testkit.plugin"]

then subclass :class:`ConnectorContract` and use the ``cassette`` fixture. See docs/sdk.md.
Needs the ``testkit`` extra (pytest, pytest-asyncio, vcrpy): ``pip install "fediflow[testkit]"``.
"""

from hub.sdk.testkit._scrub import REDACTED, vcr_config_for
from hub.sdk.testkit.contract import ConnectorContract

__all__ = ["REDACTED", "ConnectorContract", "vcr_config_for"]
