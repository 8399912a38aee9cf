from __future__ import annotations

from typing import Any

import pytest
from oneroster_roster_data import seed


@pytest.fixture
async def roster(hub: Any) -> Any:
    """(RosterQuery of tenant default, RosterQuery of tenant other) over the seeded roster."""
    from hub.oneroster import RosterQuery

    default, other = await seed(hub)
    return RosterQuery(default, "http://test/ims/oneroster/rostering/v1p2"), RosterQuery(other, "http://o")
