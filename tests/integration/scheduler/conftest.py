"""Fixtures of the scheduler tests: generated OneRoster bundles (original and mutated)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.demo import generate_bundle, mutate_bundle


@pytest.fixture(scope="session")
def roster(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``base``: 60 users; ``purged``: the same with 30% of the users removed; ``tweaked``: 2% removed."""
    root = tmp_path_factory.mktemp("sched_bundles")
    generate_bundle(root / "base", users=60, seed=3)
    stats = mutate_bundle(root / "base", root / "purged", change_pct=0, delete_pct=30, seed=5)
    small = mutate_bundle(root / "base", root / "tweaked", change_pct=5, delete_pct=2, seed=6)
    return {"base": root / "base", "purged": root / "purged", "tweaked": root / "tweaked",
            "purged_users": len(stats.deleted), "tweaked_users": len(small.deleted)}
