"""The ``fediflow`` command line (typer + rich)."""

from __future__ import annotations

import typer

from hub.cli._admin import connectors_app, init, plugins_app, tenants_app
from hub.cli._data import demo, export_app, generate_app, mappings_app
from hub.cli._sources import sources_app
from hub.cli._sync import runs_app, sync

__all__ = ["app", "build_app", "main"]


def build_app() -> typer.Typer:
    """The CLI app: built-in commands plus the groups plugins register."""
    app = typer.Typer(name="fediflow", help="FediFlow: an integration hub for education data.",
                      no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
    app.command()(init)
    app.command()(sync)
    app.command()(demo)
    for group in (tenants_app, sources_app, runs_app, connectors_app, mappings_app, export_app, generate_app, plugins_app):
        app.add_typer(group)
    _add_optional(app)
    from hub.cli._clients import clients_app

    app.add_typer(clients_app)
    from hub.cli._federation import federation_app

    app.add_typer(federation_app)
    from hub.cli._schedules import add_schedule_commands

    add_schedule_commands(app)
    from hub.cli._webhooks import webhooks_app

    app.add_typer(webhooks_app)
    from hub.cli._sftp import sftp_app

    app.add_typer(sftp_app)
    return app


def _add_optional(app: typer.Typer) -> None:
    """Commands of the parts that need more than the core (the API server) and of plugins."""
    try:
        from hub.cli._serve import serve
    except ImportError:  # pragma: no cover - the API package is part of the distribution
        pass
    else:
        app.command()(serve)
    from hub.context import Hub
    from hub.settings import load_settings

    try:
        plugins = Hub.from_settings(load_settings()).plugins
    except Exception:  # settings errors are reported by the command that runs
        return
    for _plugin, group in plugins.cli_commands():
        app.add_typer(group)


app = build_app()


def main() -> None:
    app()
