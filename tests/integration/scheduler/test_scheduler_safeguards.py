"""Safeguards: a run beyond a source's thresholds is held with its diff; approve applies it, discard drops it."""

from __future__ import annotations

from typing import Any

import pytest
from scheduler_support import FAST, add_source, point_source

from hub.errors import ConfigurationError, Conflict
from hub.sync import (
    Safeguards,
    SyncEngine,
    approve_run,
    discard_run,
    get_hold,
    list_holds,
    purge_deleted,
    set_safeguards,
)
from scheduler import Worker


async def _synced(hub: Any, roster: dict[str, Any]) -> Any:
    store = await add_source(hub, "sis", roster["base"])
    await SyncEngine(hub).sync(store, "sis")
    await set_safeguards(store, "sis", Safeguards(max_delete_pct=10, min_entities=5))
    return store


async def test_a_run_deleting_too_many_users_is_held_then_approved(hub: Any, roster: dict[str, Any]) -> None:
    store = await _synced(hub, roster)
    users = await store.count_entities("User", status="active")
    await point_source(store, hub, "sis", roster["purged"])
    run = await store.create_run(await store.get_source("sis"))
    worker = Worker(hub, FAST, name="w1")
    await worker.run_until_idle()
    assert worker.counts == {"held": 1}
    held = await store.get_run(run.id)
    assert held.status == "held" and "User" in (held.message or "")
    hold = await get_hold(store, run.id)
    assert hold.diff["streams"]["users"]["deleted"] == roster["purged_users"]
    assert hold.diff["streams"]["users"]["active_before"] == users
    assert (await store.get_run(hold.dry_run_id)).dry_run  # type: ignore[arg-type]
    assert await store.count_entities("User", status="active") == users  # nothing applied
    assert [h.run_id for h in await list_holds(store)] == [run.id]

    await approve_run(store, run.id, by="tester")
    await worker.run_until_idle()
    done = await store.get_run(run.id)
    assert done.status == "succeeded"
    assert await store.count_entities("User", status="tobedeleted") == roster["purged_users"]
    assert (await get_hold(store, run.id)).decision == "approved"
    with pytest.raises(Conflict):
        await discard_run(store, run.id)

    # soft delete by default; the hard purge only when asked
    assert await purge_deleted(store, source="sis", type_name="User") == roster["purged_users"]
    assert await store.count_entities("User", status="tobedeleted") == 0


async def test_discard_and_small_changes(hub: Any, roster: dict[str, Any]) -> None:
    store = await _synced(hub, roster)
    await point_source(store, hub, "sis", roster["purged"])
    run = await store.create_run(await store.get_source("sis"))
    await Worker(hub, FAST).run_until_idle()
    assert (await discard_run(store, run.id, by="tester")).status == "discarded"
    assert await store.count_entities("User", status="tobedeleted") == 0

    await point_source(store, hub, "sis", roster["tweaked"])  # 2% deleted: within the 10%
    small = await store.create_run(await store.get_source("sis"))
    await Worker(hub, FAST).run_until_idle()
    assert (await store.get_run(small.id)).status == "succeeded"
    assert await store.count_entities("User", status="tobedeleted") == roster["tweaked_users"]


def test_thresholds_validate_themselves() -> None:
    with pytest.raises(ConfigurationError):
        Safeguards(max_delete_pct=-1)
    with pytest.raises(ConfigurationError):
        Safeguards(per_type={"User": {"max_deletes": 3}})
    s = Safeguards(max_delete_pct=10, per_type={"User": {"max_delete_pct": 2}})
    assert s.limits_for("User", "users") == (2, None) and s.limits_for("Org", "orgs") == (10, None)
