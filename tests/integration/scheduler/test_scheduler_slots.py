"""Schedules and the slot ledger: each slot claimed once across nodes; APScheduler drives the firing."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scheduler_support import FAST, add_source

from hub.errors import ConfigurationError, NotFound
from scheduler import SchedulerService, ScheduleStore, claim_slot, fire_times
from scheduler._repository import trigger_of


async def test_schedule_crud_and_validation(hub: Any, roster: dict[str, Any]) -> None:
    store = ScheduleStore(await add_source(hub, "sis", roster["base"]))
    cron = await store.add("sis", cron="30 2 * * mon-fri", timezone="Europe/Berlin")
    every = await store.add("sis", interval_seconds=3600, full_refresh=True)
    assert [s.id for s in await store.list()] == [cron.id, every.id]
    assert (await store.set_enabled(every.id, False)).enabled is False
    for bad in ({"cron": "61 * * * *"}, {"cron": "* *"}, {"interval_seconds": 0},
                {"cron": "0 2 * * *", "timezone": "Mars/Olympus"}, {}):
        with pytest.raises(ConfigurationError):
            await store.add("sis", **bad)
    with pytest.raises(NotFound):
        await store.add("nope", interval_seconds=60)
    await store.remove(cron.id)
    with pytest.raises(NotFound):
        await store.get(cron.id)


async def test_a_slot_is_won_once_and_coalesces_into_a_waiting_run(hub: Any, roster: dict[str, Any]) -> None:
    tenant = await add_source(hub, "sis", roster["base"])
    schedule = await ScheduleStore(tenant).add("sis", interval_seconds=60)
    slot = schedule.anchor
    results = await asyncio.gather(*(claim_slot(hub.db, schedule, slot, f"n{i}") for i in range(5)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and winners[0].outcome == "queued"
    later = await claim_slot(hub.db, schedule, slot + timedelta(seconds=60), "n1")
    assert later is not None and later.outcome == "coalesced" and later.run_id == winners[0].run_id
    assert len(await tenant.list_runs()) == 1


async def test_two_scheduler_nodes_claim_every_slot_once(hub: Any, roster: dict[str, Any]) -> None:
    tenant = await add_source(hub, "sis", roster["base"])
    schedule = await ScheduleStore(tenant).add("sis", interval_seconds=1)
    stop = asyncio.Event()
    settings = FAST.model_copy(update={"catchup_seconds": 60})
    nodes = [SchedulerService(hub, settings, name=f"node-{i}") for i in range(2)]
    tasks = [asyncio.create_task(n.run(stop)) for n in nodes]
    await asyncio.sleep(4.5)
    stop.set()
    await asyncio.gather(*tasks)
    claimed = sorted(c.slot for n in nodes for c in n.claimed)
    assert claimed and not [s for s, k in Counter(claimed).items() if k > 1]
    expected = list(fire_times(trigger_of(schedule), schedule.anchor - timedelta(microseconds=1), claimed[-1]))
    assert claimed == expected
    assert claimed[-1] >= datetime.now(UTC) - timedelta(seconds=3)
