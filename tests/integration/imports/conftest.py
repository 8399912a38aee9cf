"""Fixtures of the file-delivery tests: a real API server on loopback (SQLite and PostgreSQL), bundles, zips."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from api_support import DEFAULT_CLIENTS, LiveServer, serving


@pytest.fixture
def live_server(hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., LiveServer]]:
    """Start the real app: ``live_server(env={...}, prepare=async fn(hub))``; tenants alpha and beta."""
    yield from serving(monkeypatch, {**DEFAULT_CLIENTS, "integrator_b": ("beta", "integrator")})


@pytest.fixture
def imports_root(hub_env: dict[str, str]) -> Path:
    """``<data_dir>/imports``: tenant ``alpha``'s directory is ``imports_root / "alpha"``."""
    return Path(hub_env["FEDIFLOW_DATA_DIR"]).resolve() / "imports"
