"""`fediflow connectors new NAME [--kind http|file] [--dir PATH]`: scaffold an external connector package.

Wire it into the ``connectors`` group with ``connectors_app.command("new")(new)``; ``scaffold_app``
is the same command as a stand-alone typer app.
"""

from __future__ import annotations

from pathlib import Path

import typer

from hub.errors import ConfigurationError
from hub.scaffold import generate_connector

__all__ = ["new", "scaffold_app"]


def new(
    name: str = typer.Argument(..., help="Connector name, lower_snake (acme_sis): also its mapping folder."),
    directory: Path = typer.Option(Path("."), "--dir", help="Folder to create the package folder in."),
    title: str = typer.Option(None, "--title", help="Human name of the system (default: from NAME)."),
    kind: str = typer.Option(
        "http", "--kind", help="http: a connector of one HTTP API (HttpConnector); file: one reading CSV files."
    ),
) -> None:
    """Create a pip-installable connector package with a mapping, a cassette-backed test and a README."""
    try:
        result = generate_connector(name, directory, title=title, kind=kind)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created {result.root} ({result.dist}, package {result.package}):")
    for path in result.files:
        typer.echo(f"  {path.relative_to(result.root)}")
    typer.echo(f'next: cd {result.root} && pip install -e ".[test]" && pytest')


scaffold_app = typer.Typer(name="scaffold", help="Scaffold connector packages.", no_args_is_help=True)
scaffold_app.command("new")(new)


@scaffold_app.callback()
def _group() -> None:
    """Scaffold connector packages (keeps ``new`` a sub-command)."""
