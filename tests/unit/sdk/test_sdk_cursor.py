"""The incremental Cursor over StreamState.cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.errors import ConnectorError
from hub.sdk import Cursor, StreamState


async def agen(items):
    for item in items:
        yield item


def test_first_read_is_complete_later_reads_are_deltas():
    state = StreamState()
    assert Cursor(state, "since").start() is None and state.complete is True
    state.cursor["since"] = "2026-01-01T00:00:00Z"
    assert Cursor(state, "since").start() == "2026-01-01T00:00:00Z" and state.complete is False
    state.full_refresh = True
    assert Cursor(state, "since").start() is None and state.complete is True


async def test_track_advances_after_each_record_in_order():
    state = StreamState()
    cursor = Cursor(state, "since")
    rows = [{"u": "2026-01-01T00:00:00Z"}, {"u": "2026-01-02T00:00:00Z"}, {"u": "2026-01-03T00:00:00Z"}]
    marks = []
    async for _row in cursor.track(agen(rows), lambda r: r["u"]):
        marks.append(state.cursor.get("since"))  # while a record is handed over, the mark is the previous one
    assert marks == [None, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]
    assert state.cursor == {"since": "2026-01-03T00:00:00Z"} and cursor.in_order


def test_out_of_order_freezes_the_mark_until_finish(caplog):
    state = StreamState()
    cursor = Cursor(state, "v")
    for value in (1, 5, 3, 9):
        cursor.advance(value)
    assert state.cursor == {"v": 5} and not cursor.in_order
    assert "out of order" in caplog.text
    cursor.finish()
    assert state.cursor == {"v": 9}


def test_datetimes_stored_as_iso_and_none_ignored():
    state = StreamState()
    cursor = Cursor(state, "since")
    cursor.advance(None)
    cursor.advance(datetime(2026, 3, 1, tzinfo=UTC))
    assert state.cursor == {"since": "2026-03-01T00:00:00+00:00"}
    with pytest.raises(ConnectorError, match="different types"):
        cursor.advance(3)
