"""A worker killed (SIGKILL) in the middle of a delivery loses nothing: another worker finishes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from webhook_support import append_changes

from hub.webhooks import Dispatcher, WebhookStore, run_webhook_worker

_WORKER = """
import asyncio, sys
from hub.context import Hub
from hub.settings import load_settings
from hub.webhooks import run_webhook_worker

async def main():
    hub = Hub.from_settings(load_settings())
    await run_webhook_worker(hub, asyncio.Event(), worker_id="doomed")

asyncio.run(main())
"""


@pytest.mark.slow
async def test_killed_worker_loses_nothing(wh_hub: Any, receivers: Any) -> None:
    hold = threading.Event()

    def respond(n: int, item: Any) -> tuple[int, dict[str, str]]:
        if item.payload["data"]["seq"] == 5 and not hold.is_set():
            hold.set()
            time.sleep(30)  # the worker dies while waiting for this answer
            return 500, {}
        return 200, {}

    receiver = receivers(respond=respond)
    tenant = (await wh_hub.store.get_tenant("default")).id
    store = WebhookStore.for_hub(wh_hub, tenant)
    sub, receiver.secret = await store.create(receiver.url, ["person.*"])
    seqs = await append_changes(wh_hub, tenant, 12)

    proc = subprocess.Popen([sys.executable, "-c", _WORKER], env=dict(os.environ), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not hold.is_set():
            assert time.monotonic() < deadline and proc.poll() is None, "the worker never reached delivery 5"
            await asyncio.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    before_kill = len(receiver.accepted)
    assert receiver.seqs() == seqs[:4]

    stop = asyncio.Event()
    task = asyncio.create_task(run_webhook_worker(wh_hub, stop, worker_id="survivor"))
    deadline = time.monotonic() + 20
    while len({r.msg_id for r in receiver.accepted}) < 12:
        assert time.monotonic() < deadline, receiver.seqs()
        await asyncio.sleep(0.05)
    stop.set()
    await task
    # the survivor sends in order; outcomes the killed worker had not yet written are sent again
    # with the same webhook-id (at-least-once), so a receiver that de-duplicates sees each event once
    after = receiver.seqs()[before_kill:]
    assert after == sorted(after) and after[-8:] == seqs[4:]
    first_seen = list(dict.fromkeys(r.msg_id for r in receiver.accepted))
    assert first_seen == [f"msg_t{tenant}_s{seq}" for seq in seqs]
    total, rows = await store.deliveries(sub.id, status="succeeded")
    assert total == 12
    assert await Dispatcher(wh_hub.db, wh_hub.settings.webhooks).dispatch_once() == 0
