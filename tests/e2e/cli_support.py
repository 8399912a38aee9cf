"""Running the real `fediflow` command in a subprocess, for the end-to-end tests."""

from __future__ import annotations

import subprocess
import sys


def fediflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def ok(env: dict[str, str], *args: str) -> str:
    result = fediflow(env, *args)
    assert result.returncode == 0, f"fediflow {' '.join(args)}: {result.stderr[-3000:]}"
    return result.stdout
