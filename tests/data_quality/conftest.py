"""A generated bundle to damage (see damage.py), shared by the tests of this folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.demo import generate_bundle


@pytest.fixture(scope="session")
def clean_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A OneRoster 1.2 bundle folder (60 users) and its stats; copy it before damaging it."""
    path = tmp_path_factory.mktemp("clean") / "bundle"
    return path, generate_bundle(path, users=60, seed=3)
