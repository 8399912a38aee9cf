"""Run lifecycle events: ``sync.run.started|finished|failed|held|approved`` for webhook subscribers.

Each is a system event (:func:`hub.webhooks.emit_system_event`) queued in the transaction that
changes the run's status, so a delivery exists exactly when the status change is committed. Only
real runs emit them (dry runs, including a safeguard's check, do not). The ``data`` of every
lifecycle event has the same shape (no personal data: ids, names, counts and times)::

    {"run_id": 42, "tenant": "default", "source": "sis", "status": "succeeded", "dry_run": false,
     "full_refresh": false, "attempt": 1, "queued_at": "...", "started_at": "...", "finished_at": "...",
     "counts": {"created": 3, "updated": 1, "deleted": 0, "unchanged": 96, "errors": 0, "warnings": 0},
     "message": null}

``sync.run.held`` adds ``reasons``, ``diff``, ``approve`` and ``discard`` (API paths);
``sync.run.approved`` adds ``by``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store._tables import sources, sync_runs
from hub.webhooks._events import iso_timestamp
from hub.webhooks._queue import emit_system_event

__all__ = [
    "RUN_APPROVED",
    "RUN_EVENTS",
    "RUN_FAILED",
    "RUN_FINISHED",
    "RUN_HELD",
    "RUN_STARTED",
    "emit_run_event",
    "run_event_data",
]

RUN_STARTED = "sync.run.started"
RUN_FINISHED = "sync.run.finished"
RUN_FAILED = "sync.run.failed"
RUN_HELD = "sync.run.held"
RUN_APPROVED = "sync.run.approved"
RUN_EVENTS = (RUN_STARTED, RUN_FINISHED, RUN_FAILED, RUN_HELD, RUN_APPROVED)
_COUNTS = ("created", "updated", "deleted", "unchanged", "errors", "warnings")


def run_event_data(row: Any, tenant: str) -> dict[str, Any]:
    """The ``data`` of a lifecycle event from a ``sync_runs`` row joined with its source's ``name``."""
    def at(value: Any) -> str | None:
        return iso_timestamp(value) if value is not None else None

    return {
        "run_id": row.id, "tenant": tenant, "source": row.source_name, "status": row.status,
        "dry_run": bool(row.dry_run), "full_refresh": bool(row.full_refresh), "attempt": row.attempts,
        "queued_at": at(row.queued_at), "started_at": at(row.started_at), "finished_at": at(row.finished_at),
        "counts": {k: int(getattr(row, k) or 0) for k in _COUNTS}, "message": row.message,
    }


async def emit_run_event(conn: AsyncConnection, run_id: int, event_type: str, *, tenant: str,
                         extra: Mapping[str, Any] | None = None) -> int:
    """Queue ``event_type`` for run ``run_id`` in ``conn``'s transaction (after its status change).

    Returns the deliveries queued (0 for a dry run, or when no subscription wants the event).
    """
    if event_type not in RUN_EVENTS:
        raise ValueError(f"{event_type!r} is not a run lifecycle event")
    row = (await conn.execute(
        select(sync_runs, sources.c.name.label("source_name")).join(sources, sources.c.id == sync_runs.c.source_id)
        .where(sync_runs.c.id == run_id))).first()
    if row is None or row.dry_run:
        return 0
    data = run_event_data(row, tenant)
    if extra:
        data.update(extra)
    return await emit_system_event(conn, row.tenant_id, event_type, data)
