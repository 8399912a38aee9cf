"""Helpers for sync tests: a generated bundle added as a source of the default tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.demo import generate_bundle


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    path = tmp_path_factory.mktemp("bundles") / "small"
    return path, generate_bundle(path, users=60, seed=3)
