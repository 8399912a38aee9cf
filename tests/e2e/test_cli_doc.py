"""docs/cli.md names every command of the real CLI."""

from __future__ import annotations

from pathlib import Path

import typer

from hub.cli import build_app

DOC = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")


def _commands(app: typer.Typer, prefix: str = "fediflow") -> list[str]:
    names = []
    for command in app.registered_commands:
        names.append(f"{prefix} {command.name or command.callback.__name__}")  # type: ignore[union-attr]
    for group in app.registered_groups:
        names.extend(_commands(group.typer_instance, f"{prefix} {group.typer_instance.info.name}"))
    return names


def test_every_cli_command_is_documented() -> None:
    commands = _commands(build_app())
    assert len(commands) > 15
    missing = [name for name in commands if f"`{name}" not in DOC]
    assert not missing, f"docs/cli.md lacks {missing}"
