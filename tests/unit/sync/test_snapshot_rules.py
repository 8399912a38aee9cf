"""The snapshot key and the rule that decides whether a stream may be skipped (hub.sync._snapshots)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from hub.errors import SourceDataError
from hub.sdk import CheckResult, Connector, RawRecord, StreamSpec, StreamState
from hub.store._sync_ops import StoredStreamState
from hub.sync._snapshots import snapshot_key, unchanged_records


class Fixed(Connector):
    name = "fixed"

    def __init__(self, value: Any) -> None:
        self.value = value

    def streams(self) -> Sequence[StreamSpec]:
        return (StreamSpec("things", "Org"),)

    async def check(self) -> CheckResult:
        return CheckResult(True, "ok")

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        yield RawRecord({}, "x")

    async def fingerprint(self, stream: str) -> str | None:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


class Silent(Fixed):
    fingerprint = Connector.fingerprint  # the SDK's default


M1, M2 = SimpleNamespace(fingerprint="m1"), SimpleNamespace(fingerprint="m2")


async def test_key_depends_on_the_data_and_the_mapping() -> None:
    a1 = await snapshot_key(Fixed("a"), "things", M1)
    assert a1 is not None and a1 == await snapshot_key(Fixed("a"), "things", M1)
    assert a1 != await snapshot_key(Fixed("b"), "things", M1)
    assert a1 != await snapshot_key(Fixed("a"), "things", M2)


@pytest.mark.parametrize("connector", [Silent(None), Fixed(None), Fixed(SourceDataError("gone")), Fixed(OSError("io"))])
async def test_no_key_when_the_connector_cannot_tell(connector: Connector) -> None:
    assert await snapshot_key(connector, "things", M1) is None


def state(snapshot: dict[str, Any] | None, done: bool = True) -> StoredStreamState:
    return StoredStreamState({}, {}, 7, done, 12, snapshot)


def test_unchanged_only_with_the_same_key_and_generation_of_a_finished_stream() -> None:
    snap = {"key": "k", "records": 12, "type": "Org", "generation": [10, 14]}
    assert unchanged_records(state(snap), "k", [10, 14]) == 12
    assert unchanged_records(state(snap), "other", [10, 14]) is None
    assert unchanged_records(state(snap), "k", [10, 15]) is None  # a version moved
    assert unchanged_records(state(snap), "k", [9, 13]) is None  # an entity left
    assert unchanged_records(state(snap, done=False), "k", [10, 14]) is None
    assert unchanged_records(state(None), "k", [10, 14]) is None
    assert unchanged_records(None, "k", [10, 14]) is None
