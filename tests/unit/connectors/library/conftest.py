"""Fixtures of the library connector tests: cassettes recorded from the loopback fake server.

In the default record mode (``none``) the tests replay ``cassettes/*.yaml`` against the canonical
origin ``http://library.example.edu`` and no server runs. With ``--record-mode=all`` (or ``once``)
the fake server starts, the connectors talk to it, and every recorded request is rewritten to the
canonical origin, so the cassettes replay anywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from library_fakeserver import CANONICAL, FakeLibraryServer  # noqa: E402


@pytest.fixture
def library_url(record_mode: str) -> Iterator[str]:
    """Origin the connectors under test talk to (the live fake server only while recording)."""
    if record_mode == "none":
        yield CANONICAL
        return
    with FakeLibraryServer() as server:
        yield server.url


@pytest.fixture
def vcr_config(vcr_config: dict[str, Any], library_url: str) -> dict[str, Any]:
    scrub = vcr_config["before_record_request"]

    def canonical(request: Any) -> Any:
        if library_url != CANONICAL and request.uri.startswith(library_url):
            request.uri = CANONICAL + request.uri[len(library_url) :]
            for name in [key for key in request.headers if key.lower() == "host"]:
                request.headers[name] = CANONICAL.split("://", 1)[1]
        return scrub(request)

    return {**vcr_config, "before_record_request": canonical}
