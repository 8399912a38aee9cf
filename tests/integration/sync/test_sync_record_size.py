"""sync.max_record_bytes on a real store (SQLite and PostgreSQL): a canonical record bigger than the
limit is a record error naming it, is not stored, and the run goes on (docs/data-quality.md)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest
from sync_support import add_csv_source

from hub.errors import NotFound


async def test_a_record_over_the_limit_is_a_record_error(hub: Any, small_bundle: Any, tmp_path: Path) -> None:
    from hub.sync import SyncEngine

    path, stats = small_bundle
    bundle = tmp_path / "bundle"
    shutil.copytree(path, bundle)
    with (bundle / "users.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    big = rows[0]
    # 400 identifiers: about 4 KB as read, about 13 KB once each is {"type": ..., "identifier": ...}
    big["userIds"] = ",".join(f"{{SIS:{n}}}" for n in range(400))
    with (bundle / "users.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    store = await add_csv_source(hub, "sis", bundle)
    engine = SyncEngine(hub)
    engine.max_record_bytes = 8 * 1024

    summary = await engine.sync(store, "sis")
    assert summary.status == "succeeded"
    assert summary.per_stream["users"]["errors"] == 1
    assert summary.per_stream["users"]["created"] == stats.counts["users"] - 1
    _, errors = await store.run_errors(summary.run_id)
    problem = next(e for e in errors if e.stream == "users")
    assert problem.ref == "users.csv:2"
    assert problem.message.startswith("record is ")
    assert problem.message.endswith("bytes, over the limit of 8192 (sync.max_record_bytes)")
    assert int(problem.message.split()[2]) > 8192
    with pytest.raises(NotFound):
        await store.get_entity("User", big["sourcedId"])
