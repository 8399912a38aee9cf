"""The real `fediflow` command on a bundle with dangling references: the sync's warnings, `runs show`
with and without `--severity`, and `export oneroster-csv --references` (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest
from cli_support import fediflow, ok

from hub.demo import generate_bundle

pytestmark = pytest.mark.slow


def _enrollments(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_warnings_in_the_cli_and_the_export(hub: Any, hub_env: dict[str, str], tmp_path: Path) -> None:
    env = {**os.environ, **hub_env, "COLUMNS": "200"}
    bundle = tmp_path / "bundle"
    generate_bundle(bundle, users=20, seed=5)
    header, rows = _enrollments(bundle / "enrollments.csv")
    ghosts = {rows[0]["sourcedId"], rows[1]["sourcedId"]}
    rows[0]["userSourcedId"] = rows[1]["userSourcedId"] = "usr-ghost"
    with (bundle / "enrollments.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(rows)

    ok(env, "sources", "add", "sis", "--connector", "oneroster_csv", "--set", f"path={bundle}")
    synced = ok(env, "sync", "sis")
    assert "2 warning(s)" in synced and "fediflow runs show 1 --severity warning" in synced

    shown = ok(env, "runs", "show", "1")
    assert "warnings" in shown and "errors and warnings 1-2 of 2" in shown
    assert shown.count("user 'usr-ghost' is not in the store") == 2
    only = ok(env, "runs", "show", "1", "--severity", "warning")
    assert "warnings 1-2 of 2" in only
    assert "usr-ghost" not in ok(env, "runs", "show", "1", "--severity", "error")
    bad = fediflow(env, "runs", "show", "1", "--severity", "fatal")
    assert bad.returncode == 1 and "--severity" in bad.stderr

    ok(env, "export", "oneroster-csv", str(tmp_path / "valid"))
    ok(env, "export", "oneroster-csv", str(tmp_path / "all"), "--references", "all")
    _, valid = _enrollments(tmp_path / "valid" / "enrollments.csv")
    _, everything = _enrollments(tmp_path / "all" / "enrollments.csv")
    assert len(everything) == len(valid) + 2 == len(rows)
    assert ghosts.isdisjoint(r["sourcedId"] for r in valid)
    assert ghosts <= {r["sourcedId"] for r in everything}
    wrong = fediflow(env, "export", "oneroster-csv", str(tmp_path / "x"), "--references", "some")
    assert wrong.returncode == 1 and "references" in wrong.stderr
