"""Run lifecycle events (sync.run.started|finished|failed|held|approved): queued with the run's status
change, delivered to a real receiver on loopback that verifies them with the official library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.demo import generate_bundle, mutate_bundle
from hub.errors import HubError
from hub.sync import Safeguards, SyncEngine, approve_run, set_safeguards
from hub.webhooks import RUN_EVENTS, DeliveryWorker, Dispatcher, WebhookStore
from scheduler import SchedulerSettings, Worker

_FAST = SchedulerSettings(lease_seconds=5, heartbeat_seconds=1, poll_seconds=0.1, shutdown_grace_seconds=5)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lifecycle_bundles")
    generate_bundle(root / "base", users=30, seed=11)
    mutate_bundle(root / "base", root / "purged", change_pct=0, delete_pct=40, seed=12)
    return {"base": root / "base", "purged": root / "purged", "missing": root / "missing"}


async def _point(store: Any, hub: Any, path: Path, *, add: bool = False) -> None:
    cls = hub.plugins.connector("oneroster_csv")
    config = store.validate_config(cls.config_model, {"path": str(path)})
    if add:
        await store.add_source("sis", "oneroster_csv", config)
    else:
        await store.update_source("sis", config)


async def test_run_lifecycle_events_reach_subscribers(wh_hub: Any, receivers: Any, bundles: dict[str, Path]) -> None:
    receiver, people_only = receivers(), receivers()
    tenant_id = (await wh_hub.store.get_tenant("default")).id
    hooks = WebhookStore.for_hub(wh_hub, tenant_id)
    _, receiver.secret = await hooks.create(receiver.url, ["sync.run.*"])
    _, people_only.secret = await hooks.create(people_only.url, ["sync.run.finished"])
    store = await wh_hub.store.tenant("default")
    await _point(store, wh_hub, bundles["base"], add=True)

    first = await SyncEngine(wh_hub).sync(store, "sis")  # started, finished
    await SyncEngine(wh_hub).sync(store, "sis", dry_run=True)  # dry runs emit nothing
    await set_safeguards(store, "sis", Safeguards(max_delete_pct=10, min_entities=5))
    await _point(store, wh_hub, bundles["purged"])
    held = await store.create_run(await store.get_source("sis"))
    await Worker(wh_hub, _FAST).run_until_idle()  # held (its dry run emits nothing)
    await approve_run(store, held.id, by="tester")  # approved
    await Worker(wh_hub, _FAST).run_until_idle()  # started, finished
    await _point(store, wh_hub, bundles["missing"])
    with pytest.raises(HubError):
        await SyncEngine(wh_hub).sync(store, "sis")  # started, failed

    # a system event waits behind the change events committed before it: dispatch those first
    await Dispatcher(wh_hub.db, wh_hub.settings.webhooks).dispatch_all()
    worker = DeliveryWorker(wh_hub.db, wh_hub.secret_box, wh_hub.settings.webhooks)
    await worker.run_once()
    await worker.sender.aclose()

    got = [(r.payload["type"], r.payload["data"]["run_id"]) for r in receiver.accepted]  # verified signatures
    failed_id = got[-1][1]
    assert got == [("sync.run.started", first.run_id), ("sync.run.finished", first.run_id),
                   ("sync.run.held", held.id), ("sync.run.approved", held.id),
                   ("sync.run.started", held.id), ("sync.run.finished", held.id),
                   ("sync.run.started", failed_id), ("sync.run.failed", failed_id)]
    assert {t for t, _ in got} == set(RUN_EVENTS) and receiver.rejected_signatures == 0
    by_type = {(r.payload["type"], r.payload["data"]["run_id"]): r.payload["data"] for r in receiver.accepted}
    done = by_type[("sync.run.finished", first.run_id)]
    assert done["source"] == "sis" and done["tenant"] == "default" and done["status"] == "succeeded"
    assert done["counts"]["created"] == first.created > 0 and done["counts"]["errors"] == 0
    assert done["finished_at"] and done["dry_run"] is False and done["attempt"] == 1
    assert by_type[("sync.run.held", held.id)]["status"] == "held"
    assert by_type[("sync.run.held", held.id)]["reasons"] and by_type[("sync.run.held", held.id)]["diff"]["streams"]
    assert by_type[("sync.run.approved", held.id)]["by"] == "tester"
    assert by_type[("sync.run.approved", held.id)]["status"] == "queued"
    assert by_type[("sync.run.failed", failed_id)]["status"] == "failed"
    assert by_type[("sync.run.failed", failed_id)]["message"]
    assert by_type[("sync.run.finished", held.id)]["counts"]["deleted"] > 0
    for data in by_type.values():  # ids, names, counts and times only: no records
        assert set(data) >= {"run_id", "tenant", "source", "status", "counts", "queued_at"}
        assert "record" not in data and "data" not in data
    assert [(r.payload["type"], r.payload["data"]["run_id"]) for r in people_only.accepted] == [
        ("sync.run.finished", first.run_id), ("sync.run.finished", held.id)]
