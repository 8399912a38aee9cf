"""Delivery end to end: a real receiver on loopback verifying with the official library."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from webhook_support import Receiver, append_changes

from hub.webhooks import (
    SUBSCRIPTION_DISABLED,
    DeliveryWorker,
    Dispatcher,
    WebhookStore,
    emit_system_event,
    run_webhook_worker,
)


async def _tenant(hub: Any) -> int:
    return (await hub.store.get_tenant("default")).id


async def _subscribe(hub: Any, receiver: Receiver, patterns: list[str] | None = None, **kwargs: Any) -> Any:
    store = WebhookStore.for_hub(hub, await _tenant(hub))
    sub, secret = await store.create(receiver.url, patterns or ["person.*"], **kwargs)
    receiver.secret = secret
    return store, sub


async def _until(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_fail_then_recover_delivers_everything_once_in_order(wh_hub: Any, receivers: Any) -> None:
    failing_until = time.monotonic() + 1.0

    def flaky(n: int, item: Any) -> tuple[int, dict[str, str]]:
        return (503, {}) if time.monotonic() < failing_until else (200, {})

    first, second = receivers(respond=flaky), receivers()
    store, sub1 = await _subscribe(wh_hub, first)
    _, sub2 = await _subscribe(wh_hub, second, ["person.created", "enrollment.*"])
    tenant = await _tenant(wh_hub)
    seqs = await append_changes(wh_hub, tenant, 20)
    enrollments = await append_changes(wh_hub, tenant, 5, entity_type="Enrollment", op="deleted", start=100)
    await append_changes(wh_hub, tenant, 3, entity_type="Org", start=200)  # wanted by nobody

    stop = asyncio.Event()
    task = asyncio.create_task(run_webhook_worker(wh_hub, stop))
    try:
        await _until(lambda: len(first.accepted) == 20 and len(second.accepted) == 25)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)

    assert first.seqs() == seqs and second.seqs() == seqs + enrollments
    assert first.rejected_signatures == second.rejected_signatures == 0
    assert len({r.msg_id for r in first.accepted}) == 20
    body = first.accepted[0].payload
    assert body["type"] == "person.created" and body["timestamp"].endswith("Z")
    assert body["data"]["entity_type"] == "User" and body["data"]["record"]["sourcedId"] == "id-0"
    assert second.accepted[-1].payload["type"] == "enrollment.deleted"
    assert first.requests > 20  # failed attempts happened

    total, rows = await store.deliveries(sub1.id)
    assert total == 20 and all(d.status == "succeeded" for d in rows)
    retried = [d for d in rows if d.attempts > 1]
    assert retried
    delivery, attempts = await store.delivery(retried[0].id)
    assert [a.status_code for a in attempts][-1] == 200 and attempts[0].status_code == 503
    assert attempts[0].error == "HTTP 503" and attempts[0].response == "ok" and attempts[0].latency_ms >= 0
    # the same webhook-id on every attempt
    assert delivery.msg_id == first.accepted[[r.msg_id for r in first.accepted].index(delivery.msg_id)].msg_id
    assert (await store.get(sub1.id)).failing_since is None


async def test_retry_after_is_honoured(wh_hub: Any, receivers: Any) -> None:
    answers = iter([(429, {"Retry-After": "1"})])
    receiver = receivers(respond=lambda n, item: next(answers, (200, {})))
    store, sub = await _subscribe(wh_hub, receiver)
    await append_changes(wh_hub, await _tenant(wh_hub), 1)
    worker = DeliveryWorker(wh_hub.db, wh_hub.secret_box, wh_hub.settings.webhooks)
    await Dispatcher(wh_hub.db, wh_hub.settings.webhooks).dispatch_all()
    started = time.monotonic()
    await worker.run_once()
    _, rows = await store.deliveries(sub.id)
    assert rows[0].status == "pending" and rows[0].last_status_code == 429
    wait = (rows[0].next_attempt_at - rows[0].created_at).total_seconds()
    assert 0.9 <= wait <= 2.5, wait  # Retry-After, not the 0.1 s schedule
    while not receiver.accepted:
        await worker.run_once()
        await asyncio.sleep(0.05)
    assert time.monotonic() - started >= 0.9
    await worker.sender.aclose()


async def test_gone_disables_and_notifies(wh_hub: Any, receivers: Any) -> None:
    gone = receivers(respond=lambda n, item: (410, {}))
    watcher = receivers()
    store, sub = await _subscribe(wh_hub, gone)
    _, watch = await _subscribe(wh_hub, watcher, ["webhook.*"])
    await append_changes(wh_hub, await _tenant(wh_hub), 2)
    worker = DeliveryWorker(wh_hub.db, wh_hub.secret_box, wh_hub.settings.webhooks)
    await Dispatcher(wh_hub.db, wh_hub.settings.webhooks).dispatch_all()
    await worker.run_once()
    await worker.run_once()
    await worker.sender.aclose()
    record = await store.get(sub.id)
    assert not record.enabled and "410" in (record.disabled_reason or "")
    assert gone.requests == 1  # nothing more is sent to a disabled subscription
    assert [r.payload["type"] for r in watcher.accepted] == [SUBSCRIPTION_DISABLED]
    assert watcher.accepted[0].payload["data"]["subscription_id"] == sub.id
    # re-enabled, it resumes where it stopped: nothing lost
    gone.respond = None
    await store.set_enabled(sub.id, True)
    worker = DeliveryWorker(wh_hub.db, wh_hub.secret_box, wh_hub.settings.webhooks)
    await worker.run_once()
    await worker.sender.aclose()
    assert gone.seqs() == [1, 2]


async def test_failing_period_disables(wh_hub: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = receivers(respond=lambda n, item: (500, {}))
    store, sub = await _subscribe(wh_hub, receiver)
    await append_changes(wh_hub, await _tenant(wh_hub), 1)
    settings = wh_hub.settings.webhooks.model_copy(update={"disable_after_seconds": 0.3})
    worker = DeliveryWorker(wh_hub.db, wh_hub.secret_box, settings)
    await Dispatcher(wh_hub.db, settings).dispatch_all()
    deadline = time.monotonic() + 10
    while (await store.get(sub.id)).enabled:
        assert time.monotonic() < deadline
        await worker.run_once()
        await asyncio.sleep(0.05)
    await worker.sender.aclose()
    record = await store.get(sub.id)
    assert record.disabled_reason and "failed for" in record.disabled_reason


async def test_exhausted_retries_mark_failed_and_queue_moves_on(wh_hub: Any, receivers: Any) -> None:
    receiver = receivers(respond=lambda n, item: (500, {}) if item.payload["data"]["seq"] == 1 else (200, {}))
    store, sub = await _subscribe(wh_hub, receiver)
    await append_changes(wh_hub, await _tenant(wh_hub), 3)
    settings = wh_hub.settings.webhooks.model_copy(update={"retry_schedule_seconds": (0.05, 0.05)})
    worker = DeliveryWorker(wh_hub.db, wh_hub.secret_box, settings)
    await Dispatcher(wh_hub.db, settings).dispatch_all()
    while len(receiver.accepted) < 2:
        await worker.run_once()
        await asyncio.sleep(0.03)
    await worker.sender.aclose()
    _, rows = await store.deliveries(sub.id, status="failed")
    assert [(d.seq, d.attempts) for d in rows] == [(1, 3)]
    assert receiver.seqs() == [2, 3]


async def test_rotation_sends_both_signatures(wh_hub: Any, receivers: Any) -> None:
    receiver = receivers()
    store, sub = await _subscribe(wh_hub, receiver)
    old = receiver.secret
    _, new = await store.rotate(sub.id, overlap_seconds=60)
    assert new != old and new.startswith("whsec_")
    await append_changes(wh_hub, await _tenant(wh_hub), 1)
    receiver.secret = old  # a receiver not yet updated still verifies
    stop = asyncio.Event()
    task = asyncio.create_task(run_webhook_worker(wh_hub, stop))
    await _until(lambda: len(receiver.accepted) == 1)
    assert len(receiver.accepted[0].headers["webhook-signature"].split(" ")) == 2
    receiver.secret = new  # and so does an updated one
    await append_changes(wh_hub, await _tenant(wh_hub), 1)
    await _until(lambda: len(receiver.accepted) == 2)
    _, new2 = await store.rotate(sub.id, overlap_seconds=0)  # no overlap: only the newest signs
    receiver.secret = new2
    await append_changes(wh_hub, await _tenant(wh_hub), 1)
    await _until(lambda: len(receiver.accepted) == 3)
    stop.set()
    await task
    assert len(receiver.accepted[2].headers["webhook-signature"].split(" ")) == 1
    assert receiver.rejected_signatures == 0


async def test_filters_by_source_and_entity_type(wh_hub: Any, receivers: Any) -> None:
    from datetime import UTC, datetime

    from hub.store._tables import sources as sources_table

    tenant = await _tenant(wh_hub)
    now = datetime.now(UTC)
    async with wh_hub.db.begin() as conn:
        ids = []
        for name in ("sis", "lms"):
            result = await conn.execute(sources_table.insert().values(
                tenant_id=tenant, name=name, connector="x", config={}, enabled=True, created_at=now, updated_at=now))
            ids.append(result.inserted_primary_key[0])
    only_sis, only_users = receivers(), receivers()
    await _subscribe(wh_hub, only_sis, ["*"], sources_=["sis"])
    await _subscribe(wh_hub, only_users, ["*"], entity_types=["User"])
    await append_changes(wh_hub, tenant, 2, source_id=ids[0])
    await append_changes(wh_hub, tenant, 2, source_id=ids[1], entity_type="Class")
    await Dispatcher(wh_hub.db, wh_hub.settings.webhooks).dispatch_all()
    worker = DeliveryWorker(wh_hub.db, wh_hub.secret_box, wh_hub.settings.webhooks)
    await worker.run_once()
    await worker.sender.aclose()
    assert only_sis.seqs() == [1, 2] and only_sis.accepted[0].payload["data"]["source"] == "sis"
    assert only_users.seqs() == [1, 2]


async def test_system_events_follow_the_callers_transaction(wh_hub: Any, receivers: Any) -> None:
    receiver = receivers()
    store, sub = await _subscribe(wh_hub, receiver, ["sync.*"])
    tenant = await _tenant(wh_hub)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with wh_hub.db.begin() as conn:
            assert await emit_system_event(conn, tenant, "sync.held", {"source": "sis"}) == 1
            raise Boom
    assert await emit_system_event(wh_hub.db, tenant, "sync.run.finished", {"run_id": 7}) == 1
    assert await emit_system_event(wh_hub.db, tenant, "person.other", {}) == 0
    worker = DeliveryWorker(wh_hub.db, wh_hub.secret_box, wh_hub.settings.webhooks)
    await worker.run_once()
    await worker.sender.aclose()
    assert [(r.payload["type"], r.payload["data"]) for r in receiver.accepted] == [("sync.run.finished", {"run_id": 7})]


async def test_replay_one_and_since_a_sequence(wh_hub: Any, receivers: Any) -> None:
    receiver = receivers()
    store, sub = await _subscribe(wh_hub, receiver, ["person.*", "sync.*"])
    tenant = await _tenant(wh_hub)
    await append_changes(wh_hub, tenant, 3)
    await emit_system_event(wh_hub.db, tenant, "sync.run.finished", {"run_id": 1})
    await append_changes(wh_hub, tenant, 2, start=3)
    dispatcher = Dispatcher(wh_hub.db, wh_hub.settings.webhooks)
    worker = DeliveryWorker(wh_hub.db, wh_hub.secret_box, wh_hub.settings.webhooks)
    await dispatcher.dispatch_all()
    await worker.run_once()
    sent = [(r.payload["type"], r.payload["data"].get("seq")) for r in receiver.accepted]
    # the system event follows the changes committed before it
    assert sent == [("person.created", 1), ("person.created", 2), ("person.created", 3),
                    ("sync.run.finished", None), ("person.created", 4), ("person.created", 5)]
    _, rows = await store.deliveries(sub.id)
    first = next(d for d in rows if d.seq == 1)
    again = await store.replay_delivery(first.id)
    assert again.replay_of == first.id and again.msg_id == first.msg_id and again.status == "pending"
    assert await store.replay_since(sub.id, 2) == 4  # changes 3, 4, 5 and the system event after 3
    await worker.run_once()
    await worker.sender.aclose()
    replayed = [(r.payload["type"], r.payload["data"].get("seq")) for r in receiver.accepted[6:]]
    assert replayed == [("person.created", 1), ("person.created", 3), ("sync.run.finished", None),
                        ("person.created", 4), ("person.created", 5)]
    assert receiver.accepted[6].msg_id == receiver.accepted[0].msg_id  # a replay keeps its webhook-id
