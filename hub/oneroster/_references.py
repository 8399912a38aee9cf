"""What the hub emits of a record's references: the one rule the OneRoster API and exports share.

By default (``references="valid"``) an active record never points at an object that is not
there: a reference whose sourcedId is not stored, or whose record is ``tobedeleted``, dangles, and

* a dangling optional reference (``User.primaryOrg``, ``Org.parent``, ``Course.schoolYear``) is
  dropped from the record;
* a dangling element of a list (``Class.terms``, ``User.agents``, ``Org.children``; a role of
  ``User.roles`` whose ``org`` dangles) is dropped from the list; an optional list left empty is
  dropped;
* a record whose required reference dangles (an enrollment without its class or user, a class
  without its course or school, a course without its org), or whose required list is left empty
  (a class with none of its terms, a user with none of its roles), is left out.

References of a type the hub does not store (``resource`` ...) cannot be checked and are kept.
Records with status ``tobedeleted`` are emitted as stored: they announce a removal, and their
references say what is being removed. With ``references="all"`` every record is emitted as stored.

The reference fields come from the canonical models (:mod:`hub.references`). :func:`apply_references`
is the rule on one record, given a :data:`Resolver` (what a reference becomes: its sourcedId, or
None when it dangles) that :func:`load_resolver` builds for a set of records with one query per
target type; :func:`kept_condition` is the same rule's "is the record left out?" in SQL, so counts
and paging of the API agree with what it renders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import and_, case, exists, not_, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from hub.oneroster._json import JsonDialect
from hub.oneroster._links import show_linked
from hub.references import REF_TYPES, RefField, iter_refs, ref_fields, target_type
from hub.store._tables import entities

__all__ = ["REFERENCE_MODES", "ReferencesMode", "Resolver", "apply_references", "emit_records", "kept_condition",
           "load_resolver"]

ReferencesMode = Literal["valid", "all"]
REFERENCE_MODES: tuple[str, ...] = ("valid", "all")

#: (canonical type of the target, sourcedId) -> the sourcedId to emit, or None when the reference dangles
Resolver = Callable[[str, str], str | None]

_IN_CHUNK = 900


def _resolved(ref: Mapping[str, Any], resolve: Resolver) -> Mapping[str, Any] | None:
    """``ref`` as emitted (a new dict when the resolver rewrites it), or None when it dangles."""
    target = target_type(ref.get("type"))
    if target is None:
        return ref
    sourced_id = resolve(target, ref["sourcedId"])
    if sourced_id is None:
        return None
    return ref if sourced_id == ref["sourcedId"] else {**ref, "sourcedId": sourced_id}


def _apply_field(field: RefField, out: dict[str, Any], resolve: Resolver) -> bool:
    """Apply the rule to one field of ``out`` in place; False when the record must be left out."""
    value = out.get(field.key)
    if value is None:
        return True
    if not field.many:
        ref = _resolved(value, resolve) if isinstance(value, Mapping) else value
        if ref is None:
            if field.required:
                return False
            del out[field.key]
        else:
            out[field.key] = ref
        return True
    items: list[Any] = []
    for item in value:
        if field.inner:
            holder = item.get(field.inner) if isinstance(item, Mapping) else None
        else:
            holder = item
        if not isinstance(holder, Mapping):
            items.append(item)
            continue
        ref = _resolved(holder, resolve)
        if ref is None:
            continue
        if ref is holder:
            items.append(item)
        else:
            items.append({**item, field.inner: ref} if field.inner else ref)
    if not items and value:
        if field.required:
            return False
        del out[field.key]
    else:
        out[field.key] = items
    return True


def apply_references(type_: str, data: Mapping[str, Any], resolve: Resolver, *,
                     status: str | None = None) -> dict[str, Any] | None:
    """Record ``data`` of canonical type ``type_`` as it may be emitted, or None when it is left out
    (see the module docstring). ``status`` is the record's (default: ``data["status"]``)."""
    out = dict(data)
    if (status or data.get("status", "active")) != "active":
        return out
    for field in ref_fields(type_):
        if not _apply_field(field, out, resolve):
            return None
    return out


async def load_resolver(conn: Any, tenant_id: int, records: Iterable[tuple[str, Mapping[str, Any]]],
                        known: dict[tuple[str, str], bool] | None = None) -> Resolver:
    """A resolver for the references of ``records`` ((canonical type, data) pairs): a reference
    resolves when its target is stored in the tenant with status active. One query per target type
    (in chunks) for the targets not in ``known`` ((type, sourcedId) -> resolves), which is filled
    in: a caller that streams many records (an export) passes the same dict each time."""
    known = {} if known is None else known
    wanted: dict[str, set[str]] = {}
    for type_, data in records:
        for field in ref_fields(type_):
            for ref in iter_refs(field, data):
                target = target_type(ref.get("type"))
                if target is not None and (target, ref["sourcedId"]) not in known:
                    wanted.setdefault(target, set()).add(ref["sourcedId"])
    for target, ids in wanted.items():
        listed = sorted(ids)
        for start in range(0, len(listed), _IN_CHUNK):
            chunk = listed[start : start + _IN_CHUNK]
            rows = await conn.execute(
                select(entities.c.stable_id).where(
                    entities.c.tenant_id == tenant_id, entities.c.type == target, entities.c.status == "active",
                    entities.c.stable_id.in_(chunk)))
            found = {stable_id for (stable_id,) in rows}
            known.update(((target, sourced_id), sourced_id in found) for sourced_id in chunk)

    def resolve(target: str, sourced_id: str) -> str | None:
        return sourced_id if known.get((target, sourced_id)) else None

    return resolve


def _target_exists(j: JsonDialect, doc: Any, path: tuple[str, ...], tenant_id: Any, alias: str) -> tuple[Any, Any]:
    """(the ref's type, EXISTS an active record the ref at ``path`` of ``doc`` points at)."""
    ref_type = j.text(doc, (*path, "type"))
    target = case(*[(ref_type == name, type_) for name, type_ in REF_TYPES.items()], else_=None)
    t = aliased(entities, name=alias)
    found = exists(select(true()).select_from(t).where(
        t.c.tenant_id == tenant_id, t.c.type == target, t.c.stable_id == j.text(doc, (*path, "sourcedId")),
        t.c.status == "active"))
    return ref_type, found


def kept_condition(j: JsonDialect, table: Any, type_: str) -> ColumnElement[bool] | None:
    """SQL: the records of ``type_`` in ``table`` that :func:`apply_references` keeps (None: all)."""
    conds: list[ColumnElement[bool]] = []
    known = list(REF_TYPES)
    for field in ref_fields(type_):
        if not field.required:
            continue
        if not field.many:
            ref_type, found = _target_exists(j, table.c.data, (field.key,), table.c.tenant_id, f"ref_{field.key}")
            conds.append(or_(j.text(table.c.data, (field.key, "sourcedId")).is_(None),
                             not_(ref_type.in_(known)), found))
        else:
            # fixed aliases: the same SQL text each time (the API caches counts by it)
            el = j.elements(table.c.data, (field.key,), name=f"refs_{field.key}")
            path = (field.inner,) if field.inner else ()
            ref_type, found = _target_exists(j, el.c.value, path, table.c.tenant_id, f"ref_{field.key}")
            element_ok = or_(ref_type.is_(None), not_(ref_type.in_(known)), found)
            conds.append(or_(j.text(table.c.data, (field.key,)).is_(None),
                             exists(select(true()).select_from(el).where(element_ok))))
    if not conds:
        return None
    return or_(table.c.status != "active", and_(*conds))


async def emit_records(tenant: Any, type_: str, records: Sequence[Mapping[str, Any]], *,
                       statuses: Sequence[str] | None = None, references: ReferencesMode = "valid",
                       known: dict[tuple[str, str], bool] | None = None) -> list[Mapping[str, Any] | None]:
    """``records`` (canonical data of ``type_``, stored in ``tenant``) as every way out of the hub
    emits them, None for a record left out: references to a linked record point at the record its
    group shows (:func:`hub.oneroster._links.show_linked`), then, unless ``references="all"``, the
    rule of this module applies. ``statuses``: the records' statuses (default: their ``status``);
    ``known``: targets already looked up (see :func:`load_resolver`), for callers that stream."""
    shown = await show_linked(tenant, type_, records)
    if references == "all" or not shown or not ref_fields(type_):
        return list(shown)
    async with tenant.db.connect() as conn:
        resolve = await load_resolver(conn, tenant.tenant_id, [(type_, data) for data in shown], known)
    states: Sequence[str | None] = statuses if statuses is not None else [None] * len(shown)
    return [apply_references(type_, data, resolve, status=state) for data, state in zip(shown, states, strict=True)]
