"""`fediflow sync SOURCE` and `fediflow runs list|show`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from hub.cli._common import TenantOption, console, run_with_hub
from hub.context import Hub
from hub.errors import ConfigurationError
from hub.events import RunSummary
from hub.sync import SyncEngine

runs_app = typer.Typer(name="runs", help="Sync runs and their error reports.", no_args_is_help=True)

_COLUMNS = ("created", "updated", "deleted", "unchanged", "errors", "warnings")


class RichProgress:
    """Engine progress shown as one rich task per stream (records read, rate, elapsed)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def stream_started(self, stream: str) -> None:
        self.tasks[stream] = self.progress.add_task(stream, total=None)

    def advance(self, stream: str, records: int) -> None:
        self.progress.advance(self.tasks[stream], records)

    def stream_finished(self, stream: str, counts: Mapping[str, int]) -> None:
        task = self.tasks[stream]
        done = self.progress.tasks[task].completed
        self.progress.update(task, total=done, completed=done)


def summary_table(summary: RunSummary) -> Table:
    title = f"run {summary.run_id} of {summary.source}: {summary.status}{' (dry run: nothing written)' if summary.dry_run else ''}"
    table = Table("stream", *_COLUMNS, title=title)
    for stream, counts in summary.per_stream.items():
        table.add_row(stream, *(str(counts.get(c, 0)) for c in _COLUMNS))
    table.add_row("[bold]total[/]", *(f"[bold]{getattr(summary, c)}[/]" for c in _COLUMNS))
    return table


def sync(
    source: str,
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would be created/updated/deleted; write nothing."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Ignore saved cursors and re-map every record."),
    no_safeguards: bool = typer.Option(False, "--no-safeguards",
                                       help="Apply the changes even beyond the source's change thresholds."),
    tenant: str = TenantOption,
) -> None:
    """Sync one source now, with a progress bar and a summary table. Resumes an interrupted run.

    When the source has safeguards (`fediflow safeguards set`), a run that would change more than
    they allow is held with its diff instead of applied (exit code 3).
    """
    from hub.sync import get_safeguards, run_with_safeguards

    async def go(hub: Hub) -> RunSummary | Any:
        store = await hub.store.tenant(tenant)
        record = await store.get_source(source)
        guarded = (not dry_run and not no_safeguards and (await get_safeguards(store, record)).active
                   and await store.unfinished_run(record) is None)
        columns = (SpinnerColumn(), TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            if guarded:
                run = await store.create_run(record, full_refresh=full_refresh, status="queued")
                outcome = await run_with_safeguards(hub, store, run.id, progress=RichProgress(progress))
                return outcome.summary if outcome.summary is not None else outcome.hold
            return await SyncEngine(hub).sync(store, source, dry_run=dry_run, full_refresh=full_refresh,
                                              progress=RichProgress(progress))

    summary = run_with_hub(go)
    if not isinstance(summary, RunSummary):  # held by the safeguards
        console.print(f"[yellow]run {summary.run_id} held:[/] " + "; ".join(summary.reasons))
        console.print(f"nothing was applied; see `fediflow runs held`, then `fediflow runs approve {summary.run_id}` "
                      f"or `fediflow runs discard {summary.run_id}`")
        raise typer.Exit(3)
    console.print(summary_table(summary))
    if summary.errors:
        console.print(f"{summary.errors} record(s) had errors: [bold]fediflow runs show {summary.run_id}[/]")
    if summary.warnings:
        console.print(f"{summary.warnings} warning(s) (records kept with a problem, such as a reference to a missing "
                      f"object): [bold]fediflow runs show {summary.run_id} --severity warning[/]")


@runs_app.command("list")
def runs_list(source: str = typer.Option(None, help="Only this source."), limit: int = typer.Option(20),
              tenant: str = TenantOption) -> None:
    """Recent runs with their status, duration and counts."""

    async def go(hub: Hub) -> None:
        store = await hub.store.tenant(tenant)
        table = Table("run", "source", "status", "dry", "started", "seconds", *_COLUMNS)
        for run in await store.list_runs(source=source, limit=limit):
            seconds = run.duration_seconds
            table.add_row(str(run.id), run.source, run.status, "yes" if run.dry_run else "",
                          run.started_at.isoformat(timespec="seconds") if run.started_at else "",
                          f"{seconds:.1f}" if seconds is not None else "", *(str(getattr(run, c)) for c in _COLUMNS))
        console.print(table)

    run_with_hub(go)


@runs_app.command("show")
def runs_show(run_id: int, limit: int = typer.Option(50, help="Errors and warnings to show."),
              offset: int = typer.Option(0),
              severity: str = typer.Option(None, help="Only 'error' (records not kept) or 'warning' (records kept "
                                                      "with a problem, e.g. a reference to a missing object)."),
              tenant: str = TenantOption) -> None:
    """One run: counts per stream and its report: record errors and warnings (severity, stream,
    record, field, message)."""

    async def go(hub: Hub) -> None:
        if severity not in (None, "error", "warning"):
            raise ConfigurationError(f"--severity must be 'error' or 'warning', not {severity!r}")
        store = await hub.store.tenant(tenant)
        run = await store.get_run(run_id)
        console.print(summary_table(RunSummary(
            run_id=run.id, tenant=tenant, source=run.source, status=run.status, dry_run=run.dry_run,
            created=run.created, updated=run.updated, deleted=run.deleted, unchanged=run.unchanged,
            errors=run.errors, warnings=run.warnings, started_at=run.started_at or run.queued_at,
            finished_at=run.finished_at, per_stream=run.per_stream)))
        if run.message:
            console.print(f"message: {run.message}")
        total, errors = await store.run_errors(run_id, limit=limit, offset=offset, severity=severity)
        if total:
            what = {"error": "errors", "warning": "warnings"}.get(severity or "", "errors and warnings")
            table = Table("severity", "stream", "record", "field", "message",
                          title=f"{what} {offset + 1}-{offset + len(errors)} of {total}")
            for e in errors:
                table.add_row(e.severity, e.stream, e.ref, e.field or "", e.message)
            console.print(table)

    run_with_hub(go)
