"""pytest plugin of the connector test kit: recorded HTTP (vcrpy) with secrets scrubbed.

Load it from the top-level ``conftest.py`` of a test suite::

    pytest_plugins = ["hub.sdk.testkit.plugin"]

Fixtures: ``record_mode`` (``--record-mode``, default ``none``: replay only, never the network),
``vcr_secrets`` (override: literal strings to scrub), ``vcr_config`` (the ``vcr.VCR`` keyword
arguments), ``cassette_dir`` (``cassettes/`` next to the test file) and ``cassette`` (a function
``cassette(name)`` returning the context manager that records or replays ``cassettes/<name>.yaml``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from hub.sdk.testkit._scrub import make_vcr, vcr_config_for

__all__ = ["cassette", "cassette_dir", "record_mode", "vcr_config", "vcr_secrets"]

RECORD_MODES = ("none", "once", "new_episodes", "all")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fediflow", "FediFlow connector test kit")
    group.addoption(
        "--record-mode",
        dest="record_mode",
        choices=RECORD_MODES,
        default=None,
        help="vcrpy record mode for connector cassettes (default: none, replay only; "
        "'once' records missing cassettes, 'all' re-records them)",
    )


@pytest.fixture
def record_mode(request: pytest.FixtureRequest) -> str:
    """``--record-mode``, else ``$FEDIFLOW_RECORD_MODE``, else ``none``."""
    mode = (
        request.config.getoption("record_mode", default=None)
        or os.environ.get("FEDIFLOW_RECORD_MODE")
        or "none"
    )
    if mode not in RECORD_MODES:
        raise pytest.UsageError(f"record mode must be one of {', '.join(RECORD_MODES)}, not {mode!r}")
    return str(mode)


@pytest.fixture
def vcr_secrets() -> list[str]:
    """Literal secret strings to scrub from cassettes; override it in a test module or class."""
    return []


@pytest.fixture
def vcr_config(record_mode: str, vcr_secrets: list[str]) -> dict[str, Any]:
    return vcr_config_for(vcr_secrets, record_mode)


@pytest.fixture
def cassette_dir(request: pytest.FixtureRequest) -> Path:
    return Path(request.node.path).parent / "cassettes"


@pytest.fixture
def cassette(vcr_config: dict[str, Any], cassette_dir: Path) -> Callable[[str], AbstractContextManager[Any]]:
    """``with cassette("canvas_courses"):`` records or replays ``cassettes/canvas_courses.yaml``."""
    recorder = make_vcr(vcr_config, cassette_dir)

    def use(name: str) -> AbstractContextManager[Any]:
        return recorder.use_cassette(name)

    return use
