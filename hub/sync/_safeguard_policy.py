"""Safeguard thresholds of a source, where they are kept, and what a run's counts break.

A :class:`Safeguards` is the policy (percentages of a source's active entities per canonical type);
:func:`get_safeguards` / :func:`set_safeguards` / :func:`clear_safeguards` keep it per source;
:func:`evaluate` turns a dry run's per-stream counts into the diff and the thresholds it breaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update

from hub.errors import ConfigurationError
from hub.store import SourceRecord, TenantStore
from hub.store._tables import source_safeguards

__all__ = ["Safeguards", "clear_safeguards", "evaluate", "get_safeguards", "set_safeguards"]

_COUNT_KEYS = ("created", "updated", "deleted", "unchanged", "errors")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Safeguards:
    """Thresholds of one source, in percent of the source's active entities of a type.

    ``max_delete_pct``: most entities of a type a run may delete (mark ``tobedeleted``);
    ``max_change_pct``: most it may create + update + delete. ``per_type`` overrides both per
    canonical type (or stream name): ``{"User": {"max_delete_pct": 5}}``. Types with fewer than
    ``min_entities`` active entities (a first import has none) are not checked.
    """

    max_delete_pct: float | None = None
    max_change_pct: float | None = None
    per_type: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    min_entities: int = 0

    def __post_init__(self) -> None:
        for name, value in (("max_delete_pct", self.max_delete_pct), ("max_change_pct", self.max_change_pct)):
            if value is not None and value < 0:
                raise ConfigurationError(f"{name} must be >= 0")
        for type_name, limits in self.per_type.items():
            unknown = set(limits) - {"max_delete_pct", "max_change_pct"}
            if unknown:
                raise ConfigurationError(f"per_type[{type_name!r}]: unknown limit(s) {', '.join(sorted(unknown))}")
            if any(v is not None and v < 0 for v in limits.values()):
                raise ConfigurationError(f"per_type[{type_name!r}]: limits must be >= 0")
        if self.min_entities < 0:
            raise ConfigurationError("min_entities must be >= 0")

    @property
    def active(self) -> bool:
        return self.max_delete_pct is not None or self.max_change_pct is not None or any(
            v is not None for limits in self.per_type.values() for v in limits.values())

    def limits_for(self, type_name: str, stream: str) -> tuple[float | None, float | None]:
        own = self.per_type.get(type_name) or self.per_type.get(stream) or {}
        return (own["max_delete_pct"] if "max_delete_pct" in own else self.max_delete_pct,
                own["max_change_pct"] if "max_change_pct" in own else self.max_change_pct)

    def as_dict(self) -> dict[str, Any]:
        return {"max_delete_pct": self.max_delete_pct, "max_change_pct": self.max_change_pct,
                "per_type": {k: dict(v) for k, v in self.per_type.items()}, "min_entities": self.min_entities}



async def get_safeguards(tenant: TenantStore, source: str | SourceRecord) -> Safeguards:
    record = source if isinstance(source, SourceRecord) else await tenant.get_source(source)
    async with tenant.db.connect() as conn:
        row = (await conn.execute(select(source_safeguards).where(
            source_safeguards.c.tenant_id == tenant.tenant_id, source_safeguards.c.source_id == record.id))).first()
    if row is None:
        return Safeguards()
    return Safeguards(row.max_delete_pct, row.max_change_pct, row.per_type or {}, row.min_entities)


async def set_safeguards(tenant: TenantStore, source: str, safeguards: Safeguards) -> Safeguards:
    record = await tenant.get_source(source)
    values = {"max_delete_pct": safeguards.max_delete_pct, "max_change_pct": safeguards.max_change_pct,
              "per_type": {k: dict(v) for k, v in safeguards.per_type.items()},
              "min_entities": safeguards.min_entities, "updated_at": _now()}
    async with tenant.db.begin() as conn:
        done = await conn.execute(update(source_safeguards).where(
            source_safeguards.c.tenant_id == tenant.tenant_id, source_safeguards.c.source_id == record.id).values(**values))
        if done.rowcount == 0:
            await conn.execute(source_safeguards.insert().values(tenant_id=tenant.tenant_id, source_id=record.id,
                                                                **values))
    return await get_safeguards(tenant, record)


async def clear_safeguards(tenant: TenantStore, source: str) -> None:
    record = await tenant.get_source(source)
    async with tenant.db.begin() as conn:
        await conn.execute(delete(source_safeguards).where(
            source_safeguards.c.tenant_id == tenant.tenant_id, source_safeguards.c.source_id == record.id))



def evaluate(safeguards: Safeguards, per_stream: Mapping[str, Mapping[str, int]], types: Mapping[str, str],
             baseline: Mapping[str, int]) -> tuple[dict[str, Any], list[str]]:
    """The diff (per stream: type, baseline, counts, percentages) and the thresholds it breaks."""
    diff: dict[str, Any] = {}
    reasons: list[str] = []
    for stream, counts in per_stream.items():
        type_name = types.get(stream, stream)
        base = baseline.get(type_name, 0)
        changed = sum(counts.get(k, 0) for k in ("created", "updated", "deleted"))
        entry: dict[str, Any] = {"type": type_name, "active_before": base,
                                 **{k: counts.get(k, 0) for k in _COUNT_KEYS}}
        if base:
            entry["delete_pct"] = round(100.0 * counts.get("deleted", 0) / base, 2)
            entry["change_pct"] = round(100.0 * changed / base, 2)
        diff[stream] = entry
        if not base or base < safeguards.min_entities:
            continue
        max_delete, max_change = safeguards.limits_for(type_name, stream)
        if max_delete is not None and entry["delete_pct"] > max_delete:
            reasons.append(f"{type_name}: {counts.get('deleted', 0)} of {base} deleted "
                           f"({entry['delete_pct']}% > {max_delete}%)")
        if max_change is not None and entry["change_pct"] > max_change:
            reasons.append(f"{type_name}: {changed} of {base} changed ({entry['change_pct']}% > {max_change}%)")
    return diff, reasons
