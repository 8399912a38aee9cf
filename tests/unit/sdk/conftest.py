"""Fixtures of the SDK tests: a real HTTP server on loopback, scripted per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sdk_testserver import LocalServer, Sleeps

# the test kit's fixtures (cassette, vcr_config ...): a non-root conftest cannot use pytest_plugins
from hub.sdk.testkit.plugin import cassette, cassette_dir, record_mode, vcr_config, vcr_secrets  # noqa: F401


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer().start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def other_server() -> Iterator[LocalServer]:
    local = LocalServer().start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
