"""The hub's own OpenAPI document describes what it serves: schemathesis, every check, 0 failures.

The live app (uvicorn, SQLite and PostgreSQL, the seeded roster) is tested by the schemathesis CLI
against ``/schema/openapi.json`` with ``--checks all``: response schemas (status codes, content
types, bodies, headers), security (public routes need nothing, the others a token), positive and
negative data, on every operation of the document (none excluded). The budget is small and the seed
fixed, so a run is bounded (about half a minute per backend) and repeatable. schemathesis.toml says
which values and statuses are configured, and why.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
#: every operation of the document is held to 0 failures; none is excluded
EXCLUDE: tuple[str, ...] = ()


@pytest.fixture
def hub_env(hub_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The test hub, with a budget no schemathesis run spends (429s would leave operations untested)."""
    monkeypatch.setenv("FEDIFLOW_API__RATE_LIMIT_PER_MINUTE", "1000000")
    monkeypatch.setenv("FEDIFLOW_API__RATE_LIMIT_ANONYMOUS_PER_MINUTE", "1000000")
    return {**hub_env, "FEDIFLOW_API__RATE_LIMIT_PER_MINUTE": "1000000",
            "FEDIFLOW_API__RATE_LIMIT_ANONYMOUS_PER_MINUTE": "1000000"}


def _run(api: Any, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(SCHEMATHESIS if SCHEMATHESIS.exists() else shutil.which("schemathesis")),
        "--config-file", str(Path(__file__).with_name("schemathesis.toml")), "run",
        f"{api.server.base}/schema/openapi.json", "--checks", "all", "--max-examples", "5", "--seed", "1",
        "--workers", "1", "--no-shrink", "--generation-deterministic", "--suppress-health-check", "all",
        "--request-timeout", "30", "-H", f"Authorization: Bearer {api.tokens['admin']}", *args,
    ]
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, check=False)


async def test_schemathesis_all_checks_on_the_hub_document(api: Any) -> None:
    result = await asyncio.to_thread(_run, api, *EXCLUDE)
    assert result.returncode == 0, result.stdout + result.stderr
