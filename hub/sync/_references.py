"""Reference checks of a sync run: does every reference a record carries point at a stored object?

After a run's streams (:func:`check_run_references`), the active records of the run's source
written by this run (created or updated: ``updated_at`` at or after the run's start), and those
pointing at a record this run marked ``tobedeleted``, are checked,
one set-based query per reference field (``Enrollment.class``, ``Class.terms``,
``User.roles.org`` ... see :mod:`hub.references`), against the tenant's whole store (any
source); a run that created, updated and deleted nothing of a type checks nothing of it. A
reference to a sourcedId that is not stored, or whose record is ``tobedeleted``, is a
warning in the run report: stream, the record's sourcedId, the field, and ``class 'c-17' is not
in the store`` / ``class 'c-17' is tobedeleted``. Warnings are all counted (``sync_runs.warnings``
and the stream's ``warnings``); at most the run's error limit are kept as rows.

With the source option ``references: reject`` a record is checked before it is written
(:class:`ReferenceGate`, called per batch by the stream): a record with a failing reference is not
kept and is reported as an error, so the change log never shows it created and then removed.
Streams run in dependency order, so the referenced types are stored by then; references to the
stream's own type (``Org.parent``, ``User.agents``) or to a type a later stream of the run still
writes cannot be checked yet and are left to the after-run check (warnings).

Dry runs write nothing, so nothing is checked for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.jsonutil import loads
from hub.oneroster import JsonDialect
from hub.references import REF_TYPES, RefField, iter_refs, ref_fields, target_type
from hub.store._sync_ops import rows_for_errors
from hub.store._tables import entities, run_errors, sync_runs
from hub.sync._batches import Batch, Pending

__all__ = ["ReferenceGate", "check_run_references", "dangling_query", "missing_message", "reference_gate"]

log = logging.getLogger("fediflow.sync")

_IN_CHUNK = 900


def missing_message(ref_type: str, sourced_id: str, status: str | None) -> str:
    """The report's message for a dangling reference (``status`` None: not stored)."""
    if status is None:
        return f"{ref_type} {sourced_id!r} is not in the store"
    return f"{ref_type} {sourced_id!r} is {status}"


def _ref_columns(j: JsonDialect, field: RefField, e: Any) -> tuple[Any, Any, Any | None]:
    """(ref sourcedId, ref type, the array's table-valued expression or None) of ``field`` in ``e``."""
    if not field.many:
        return j.text(e.c.data, (field.key, "sourcedId")), j.text(e.c.data, (field.key, "type")), None
    el = j.elements(e.c.data, (field.key,))
    path = (field.inner,) if field.inner else ()
    return j.text(el.c.value, (*path, "sourcedId")), j.text(el.c.value, (*path, "type")), el


def dangling_query(dialect: str, field: RefField, tenant_id: int, *, source_id: int | None = None,
                   since: datetime | None = None) -> Any:
    """SELECT (stable_id, ref_type, ref_id, target_status) of the active records of ``field.type``
    whose ``field`` points at a missing (status NULL) or not-active record; narrowed to a source's
    records when given, and with ``since`` to the records written at or after it or pointing at a
    record that was (marked ``tobedeleted``) at or after it."""
    j = JsonDialect(dialect)
    e, t = entities.alias("e"), entities.alias("t")
    ref_id, ref_type, el = _ref_columns(j, field, e)
    target = case(*[(ref_type == name, type_) for name, type_ in REF_TYPES.items()], else_=None)
    conds = [e.c.tenant_id == tenant_id, e.c.type == field.type, e.c.status == "active",
             ref_type.in_(list(REF_TYPES)), ref_id.is_not(None)]
    if source_id is not None:
        conds.append(e.c.source_id == source_id)
    if since is not None:
        conds.append(or_(e.c.updated_at >= since, t.c.updated_at >= since))
    source: Any = e if el is None else e.join(el, true())
    joined = source.outerjoin(t, and_(t.c.tenant_id == e.c.tenant_id, t.c.type == target, t.c.stable_id == ref_id))
    return (select(e.c.stable_id, ref_type, ref_id, t.c.status).select_from(joined)
            .where(*conds, or_(t.c.id.is_(None), t.c.status != "active")).order_by(e.c.id))


async def check_run_references(ctx: Any) -> int:
    """Check the references of what run ``ctx`` (the engine's run context) wrote; returns the
    number of warnings, all counted on the run and its streams, the first ones kept in its report.
    A warning names the first of the run's streams that produce the record's type.
    """
    if ctx.dry_run:
        return 0
    type_streams: dict[str, list[str]] = {}
    for stream_name, type_name in ctx.stream_types:
        type_streams.setdefault(type_name, []).append(stream_name)
    tenant, run = ctx.tenant, ctx.run
    dialect = tenant.db.dialect
    kept: dict[str, list[tuple[str, str | None, str, str]]] = {}  # stream -> report entries
    per_stream: dict[str, int] = {}
    total = 0
    # a type none of whose streams created or updated a record has nothing to check, unless the run
    # marked something deleted (records of any type may point at it): an unchanged re-sync checks nothing
    deleted_any = any(counts.get("deleted", 0) for counts in ctx.per_stream.values())
    async with tenant.db.connect() as conn:
        for type_, streams in type_streams.items():
            if not deleted_any and not any(ctx.per_stream.get(name, {}).get("created", 0)
                                           or ctx.per_stream.get(name, {}).get("updated", 0) for name in streams):
                continue
            stream = streams[0]
            for field in ref_fields(type_):
                query = dangling_query(dialect, field, tenant.tenant_id, source_id=ctx.source.id,
                                       since=run.started_at)
                result = await conn.stream(query.execution_options(yield_per=5000))
                async for stable_id, ref_type, ref_id, status in result:
                    total += 1
                    per_stream[stream] = per_stream.get(stream, 0) + 1
                    if ctx.keep_error():
                        kept.setdefault(stream, []).append(
                            (stable_id, field.label, missing_message(ref_type, ref_id, status), "warning"))
    if not total:
        return 0
    for stream, count in per_stream.items():
        counts = ctx.per_stream.setdefault(stream, {})
        counts["warnings"] = counts.get("warnings", 0) + count
    async with tenant.db.begin() as conn:
        rows = [row for stream, entries in kept.items() for row in rows_for_errors(run.id, stream, entries)]
        if rows:
            await conn.execute(run_errors.insert(), rows)
        await conn.execute(
            update(sync_runs)
            .where(sync_runs.c.id == run.id, sync_runs.c.tenant_id == tenant.tenant_id)
            .values(warnings=sync_runs.c.warnings + total, per_stream={k: dict(v) for k, v in ctx.per_stream.items()})
        )
    log.info("references checked", extra={"run": run.id, "source": ctx.source.name, "warnings": total})
    return total


def reference_gate(run: Any, stream: str, type_: str, model: Any) -> ReferenceGate | None:
    """The before-write check of ``stream`` of run ``run`` (the engine's run context), when its
    source's option is ``references: reject`` and the run writes (None otherwise)."""
    options = getattr(run.source, "options", None)
    if getattr(options, "references", "warn") != "reject" or run.dry_run:
        return None
    order = list(getattr(run, "stream_types", []))
    names = [name for name, _ in order]
    later = order[names.index(stream):] if stream in names else order
    gate = ReferenceGate(type_, model, {t for _, t in later})
    return gate if gate else None


class ReferenceGate:
    """The ``references: reject`` check of one stream, before its records are written.

    ``pending_types``: canonical types a stream of this run that has not run yet still writes (its
    own type included); references to them are left to the after-run check.
    """

    def __init__(self, type_: str, model: Any, pending_types: Iterable[str]) -> None:
        self.fields = ref_fields(type_, model)
        self.pending = set(pending_types) | {type_}

    def __bool__(self) -> bool:
        return bool(self.fields)

    async def screen(self, db: Any, tenant_id: int, batch: Batch, keep_error: Callable[[], bool]) -> None:
        """Take the active records whose reference is missing or not active out of ``batch``, each
        as a record error (counted; kept in the report while ``keep_error()`` allows; a replayed
        record neither, as it was reported by the attempt that read it first)."""
        records = [(p.stable_id, p.encoded) for p in batch.records if p.status == "active"]
        async with db.connect() as conn:
            failures = await self.failures(conn, tenant_id, records)
        if not failures:
            return
        kept: list[Pending] = []
        for item in batch.records:
            problem = failures.get(item.stable_id) if item.status == "active" else None
            if problem is None:
                kept.append(item)
            elif not item.replay:
                batch.delta["errors"] += 1
                if keep_error():
                    batch.errors.append((item.ref, problem[0], problem[1], "error"))
        batch.records = kept

    def _checkable(self, ref: Mapping[str, Any]) -> str | None:
        target = target_type(ref.get("type"))
        return target if target is not None and target not in self.pending else None

    async def failures(self, conn: AsyncConnection, tenant_id: int,
                       records: Sequence[tuple[str, bytes]]) -> dict[str, tuple[str, str]]:
        """For (stable id, canonical JSON) records: stable id -> (field, message) of the first
        reference that is missing or not active, for the records that have one."""
        wanted: dict[str, set[str]] = {}
        parsed: list[tuple[str, Any]] = []
        for stable_id, encoded in records:
            data = loads(encoded)
            parsed.append((stable_id, data))
            for field in self.fields:
                for ref in iter_refs(field, data):
                    target = self._checkable(ref)
                    if target is not None:
                        wanted.setdefault(target, set()).add(ref["sourcedId"])
        status = await _statuses(conn, tenant_id, wanted)
        found: dict[str, tuple[str, str]] = {}
        for stable_id, data in parsed:
            problem = self._first_problem(data, status)
            if problem is not None:
                found[stable_id] = problem
        return found

    def _first_problem(self, data: Any, status: Mapping[tuple[str, str], str]) -> tuple[str, str] | None:
        for field in self.fields:
            for ref in iter_refs(field, data):
                target = self._checkable(ref)
                if target is None:
                    continue
                state = status.get((target, ref["sourcedId"]))
                if state != "active":
                    return field.label, missing_message(ref["type"], ref["sourcedId"], state)
        return None


async def _statuses(conn: AsyncConnection, tenant_id: int,
                    wanted: Mapping[str, set[str]]) -> dict[tuple[str, str], str]:
    """(type, stable id) -> status of the stored ones among ``wanted`` (type -> stable ids)."""
    found: dict[tuple[str, str], str] = {}
    for type_, ids in wanted.items():
        listed = sorted(ids)
        for start in range(0, len(listed), _IN_CHUNK):
            rows = await conn.execute(
                select(entities.c.stable_id, entities.c.status).where(
                    entities.c.tenant_id == tenant_id, entities.c.type == type_,
                    entities.c.stable_id.in_(listed[start : start + _IN_CHUNK])))
            for stable_id, state in rows:
                found[(type_, stable_id)] = state
    return found
