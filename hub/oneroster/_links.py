"""References to linked records, shown as references to the record their group shows.

Records of several sources that describe one person are linked (hub.identity); collections list
only the shown record of each group, so a reference to one of the others (an LMS enrollment's
user) is rewritten to the shown one before rendering. The stored records are never changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hub.references import iter_refs, ref_fields, target_type
from hub.store import EntityLinks, TenantStore

__all__ = ["show_linked"]


async def show_linked(tenant: TenantStore, type_name: str,
                      records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``records`` (canonical data of type ``type_name``) with every reference to a linked record
    pointing at the record its group shows; records without such references are returned as they are.

    Costs one indexed query when the tenant has no links at all.
    """
    fields = ref_fields(type_name)
    if not records or not fields:
        return list(records)
    repo = EntityLinks(tenant)
    if not await repo.has_links():
        return list(records)
    wanted: dict[str, set[str]] = {}
    for field in fields:
        for data in records:
            for ref in iter_refs(field, data):
                target = target_type(ref.get("type"))
                if target is not None:
                    wanted.setdefault(target, set()).add(ref["sourcedId"])
    shown: dict[str, dict[str, str]] = {}
    for target, ids in wanted.items():
        found = await repo.primaries(target, ids)
        if found:
            shown[target] = found
    if not shown:
        return list(records)
    return [_rewritten(data, fields, shown) for data in records]


def _swap(ref: Any, shown: Mapping[str, Mapping[str, str]]) -> Any:
    if not isinstance(ref, Mapping):
        return ref
    target = target_type(ref.get("type"))
    primary = shown.get(target, {}).get(ref.get("sourcedId")) if target else None
    return {**ref, "sourcedId": primary} if primary else ref


def _rewritten(data: Mapping[str, Any], fields: Sequence[Any], shown: Mapping[str, Mapping[str, str]]
               ) -> Mapping[str, Any]:
    out: dict[str, Any] | None = None
    for field in fields:
        value = data.get(field.key)
        if value is None:
            continue
        if not field.many:
            new = _swap(value, shown)
        elif field.inner:
            new = [{**item, field.inner: _swap(item.get(field.inner), shown)} if isinstance(item, Mapping) else item
                   for item in value]
        else:
            new = [_swap(item, shown) for item in value]
        if new != value:
            out = out if out is not None else dict(data)
            out[field.key] = new
    return out if out is not None else data
