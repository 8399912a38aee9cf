"""Fixtures of the webhook tests: a hub with loopback allowed and short retry schedules, receivers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from webhook_support import FAST_ENV, Receiver


@pytest.fixture
async def wh_hub(hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """A migrated hub (tenant ``default``) whose webhook settings suit tests (see FAST_ENV)."""
    from hub.context import Hub
    from hub.settings import load_settings

    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    instance = Hub.from_settings(load_settings())
    if instance.db.is_sqlite:
        await instance.db.migrate()
    await instance.store.ensure_tenant("default")
    yield instance
    await instance.close()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(**kwargs: Any) -> Receiver:
        receiver = Receiver(**kwargs).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()
