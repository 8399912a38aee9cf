"""The real `fediflow` command: init, add a source, sync, look at runs, export, import the export again."""

from __future__ import annotations

import os
import sqlite3
import zipfile
from pathlib import Path

import pytest
from cli_support import fediflow, ok

from hub.demo import generate_bundle, mutate_bundle

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FEDIFLOW_")}
    return {**clean, "FEDIFLOW_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "160"}


def entity_rows(env: dict[str, str]) -> list[tuple[str, str, bytes, str]]:
    with sqlite3.connect(Path(env["FEDIFLOW_DATA_DIR"]) / "fediflow.db") as conn:
        return sorted(conn.execute("SELECT type, stable_id, hash, status FROM entities"))


def test_sync_runs_export_and_lossless_reimport(env: dict[str, str], tmp_path: Path) -> None:
    bundle = tmp_path / "district.zip"
    generate_bundle(bundle, users=120, seed=4, zip=True)
    ok(env, "init")
    ok(env, "sources", "add", "district", "--connector", "oneroster_csv", "--set", f"path={bundle}")
    assert "district" in ok(env, "sources", "list")
    assert "ok" in ok(env, "sources", "check", "district")

    dry = ok(env, "sync", "district", "--dry-run")
    assert "dry run: nothing written" in dry
    assert entity_rows(env) == []

    out = ok(env, "sync", "district")
    assert "succeeded" in out and "total" in out
    first = entity_rows(env)
    assert len(first) > 120 * 5

    runs = ok(env, "runs", "list")
    assert "succeeded" in runs
    shown = ok(env, "runs", "show", "2")
    assert "enrollments" in shown

    again = ok(env, "sync", "district")
    assert entity_rows(env) == first
    assert "0 created" not in again  # the table, not a sentence
    exported = tmp_path / "export.zip"
    ok(env, "export", "oneroster-csv", str(exported))
    with zipfile.ZipFile(exported) as zf:
        assert {"manifest.csv", "users.csv", "enrollments.csv", "roles.csv"} <= set(zf.namelist())

    other = {**env, "FEDIFLOW_DATA_DIR": str(tmp_path / "other")}
    ok(other, "init")
    ok(other, "sources", "add", "district", "--connector", "oneroster_csv", "--set", f"path={exported}")
    ok(other, "sync", "district")
    assert entity_rows(other) == first, "import -> export -> import is lossless"


def test_updates_and_deletions_through_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    generate_bundle(folder, users=80, seed=6)
    ok(env, "init")
    ok(env, "sources", "add", "sis", "--connector", "oneroster_csv", "--set", f"path={folder}")
    ok(env, "sync", "sis")
    mutated = mutate_bundle(folder, tmp_path / "next", change_pct=10, delete_pct=5, seed=8)
    ok(env, "sources", "set", "sis", "--set", f"path={mutated.path}")
    ok(env, "sync", "sis")
    with sqlite3.connect(Path(env["FEDIFLOW_DATA_DIR"]) / "fediflow.db") as conn:
        deleted = {r[0] for r in conn.execute("SELECT stable_id FROM entities WHERE type='User' AND status='tobedeleted'")}
    assert deleted == set(mutated.deleted)


@pytest.mark.parametrize("problem", ["missing", "corrupt-zip", "bad-manifest", "mapping"])
def test_bad_input_gives_one_clear_message_and_writes_nothing(env: dict[str, str], tmp_path: Path,
                                                             problem: str) -> None:
    bundle = tmp_path / "bundle"
    generate_bundle(bundle, users=30, seed=2)
    path = bundle
    expected = ""
    if problem == "missing":
        path, expected = tmp_path / "nowhere", "nowhere"
    elif problem == "corrupt-zip":
        path = tmp_path / "broken.zip"
        path.write_bytes(b"PK\x03\x04 this is not a zip file")
        expected = "broken.zip"
    elif problem == "bad-manifest":
        (bundle / "manifest.csv").write_text("propertyName,value\noneroster.version,9.9\n", encoding="utf-8")
        expected = "manifest"
    elif problem == "mapping":
        overrides = tmp_path / "maps" / "default" / "oneroster_csv"
        overrides.mkdir(parents=True)
        (overrides / "users.yaml").write_text(
            "connector: oneroster_csv\nstream: users\ntarget: User\nid: {path: sourcedId}\nfields:\n"
            "  givenName: givenName\n  nosuchfield: familyName\n", encoding="utf-8")
        env = {**env, "FEDIFLOW_MAPPING_DIR": str(tmp_path / "maps")}
        expected = "users.yaml:"
    ok(env, "init")
    ok(env, "sources", "add", "sis", "--connector", "oneroster_csv", "--set", f"path={path}")
    result = fediflow(env, "sync", "sis")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and expected in lines[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert entity_rows(env) == []


def test_a_manual_sync_beyond_the_safeguards_is_held_until_approved(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    generate_bundle(folder, users=80, seed=9)
    ok(env, "init")
    ok(env, "sources", "add", "sis", "--connector", "oneroster_csv", "--set", f"path={folder}")
    ok(env, "safeguards", "set", "sis", "--max-delete-pct", "5")
    ok(env, "sync", "sis")  # a first import has nothing to delete
    mutated = mutate_bundle(folder, tmp_path / "next", change_pct=0, delete_pct=25, seed=3)
    ok(env, "sources", "set", "sis", "--set", f"path={mutated.path}")

    held = fediflow(env, "sync", "sis")
    assert held.returncode == 3, held.stderr[-2000:]
    assert "held" in held.stdout and "approve" in held.stdout
    with sqlite3.connect(Path(env["FEDIFLOW_DATA_DIR"]) / "fediflow.db") as conn:
        assert conn.execute("SELECT count(*) FROM entities WHERE status='tobedeleted'").fetchone()[0] == 0
    assert "deleted (" in ok(env, "runs", "held")

    ok(env, "sync", "sis", "--no-safeguards")
    with sqlite3.connect(Path(env["FEDIFLOW_DATA_DIR"]) / "fediflow.db") as conn:
        deleted = {r[0] for r in conn.execute("SELECT stable_id FROM entities WHERE type='User' AND status='tobedeleted'")}
    assert deleted == set(mutated.deleted)


def test_source_options_through_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    """A second source gets an id prefix by default; options can be given at add and changed later."""
    bundle = tmp_path / "district"
    generate_bundle(bundle, users=20, seed=5)
    ok(env, "init")
    ok(env, "sources", "add", "sis", "--connector", "oneroster_csv", "--set", f"path={bundle}")
    added = ok(env, "sources", "add", "lms", "--connector", "oneroster_csv", "--set", f"path={bundle}")
    assert "id prefix 'lms:'" in added
    ok(env, "sources", "add", "idp", "--connector", "oneroster_csv", "--set", f"path={bundle}",
       "--id-prefix", "idp-", "--precedence", "5")
    shown = ok(env, "sources", "options", "idp")
    assert "id_prefix: 'idp-'" in shown and "precedence: 5" in shown and "references: warn" in shown
    changed = ok(env, "sources", "options", "lms", "--references", "reject", "--precedence", "7")
    assert "id_prefix: 'lms:'" in changed and "precedence: 7" in changed and "references: reject" in changed
    bad = fediflow(env, "sources", "options", "lms", "--references", "maybe")
    assert bad.returncode != 0 and "references" in (bad.stderr + bad.stdout)
    ok(env, "sync", "sis")
    ok(env, "sync", "lms")
    ids = {stable_id for _, stable_id, _, _ in entity_rows(env)}
    assert any(i.startswith("lms:") for i in ids) and any(not i.startswith(("lms:", "idp-")) for i in ids)
