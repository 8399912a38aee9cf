"""Schedules, source safeguards and held runs (approve / discard) of the management API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Router, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, PathParameter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.api._data import run_out
from hub.api._problems import problem_responses
from hub.api._shapes import RunOut
from hub.api.deps import PrincipalDep, TenantStoreDep
from hub.api.guards import READ, WRITE
from hub.sync import (
    HoldRecord,
    Safeguards,
    approve_run,
    clear_safeguards,
    discard_run,
    get_hold,
    get_safeguards,
    list_holds,
    set_safeguards,
)
from scheduler import ScheduleRecord, ScheduleStore, next_fire_times

__all__ = ["schedules_router"]

_IN = ConfigDict(extra="forbid", frozen=True)
_R = problem_responses(400, 401, 403, 404, 429, 500)
_RW = problem_responses(400, 401, 403, 404, 409, 422, 429, 500)
Id = Annotated[int, PathParameter(ge=1, le=2**53 - 1)]


class ScheduleCreate(BaseModel):
    """Exactly one of ``cron`` (five crontab fields, or six with seconds first, read as crontab reads
    them: 0 and 7 are Sunday, names accepted) and ``interval_seconds``."""

    model_config = ConfigDict(**_IN, json_schema_extra={"oneOf": [
        {"required": ["cron"], "properties": {"cron": {"type": "string"}, "interval_seconds": {"type": "null"}}},
        {"required": ["interval_seconds"],
         "properties": {"interval_seconds": {"type": "integer"}, "cron": {"type": "null"}}},
    ]})
    source: str = Field(min_length=1, max_length=128)
    cron: str | None = Field(default=None, max_length=128, examples=["30 2 * * mon-fri"])
    interval_seconds: int | None = Field(default=None, ge=1, le=366 * 86400)
    timezone: str = Field(default="UTC", max_length=64, description="IANA zone the cron expression is read in")
    full_refresh: bool = False
    enabled: bool = True

    @model_validator(mode="after")
    def _one(self) -> ScheduleCreate:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError("give either cron or interval_seconds")
        return self


class SchedulePatch(BaseModel):
    model_config = _IN
    enabled: bool


class SafeguardsIn(BaseModel):
    """Thresholds in percent of the source's active entities of a type; null: no limit."""

    model_config = _IN
    max_delete_pct: float | None = Field(default=None, ge=0, le=100)
    max_change_pct: float | None = Field(default=None, ge=0)
    per_type: dict[str, dict[str, float | None]] = Field(default_factory=dict,
                                                       examples=[{"User": {"max_delete_pct": 5}}])
    min_entities: int = Field(default=0, ge=0)


@dataclass
class ScheduleOut:
    id: int
    source: str
    kind: str
    cron: str | None
    interval_seconds: int | None
    timezone: str
    full_refresh: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime
    #: the next slot (UTC); null when the schedule is disabled
    next_run_at: datetime | None = None


@dataclass
class SafeguardsOut:
    source: str
    max_delete_pct: float | None
    max_change_pct: float | None
    per_type: dict[str, dict[str, float | None]]
    min_entities: int
    active: bool


@dataclass
class HoldOut:
    run_id: int
    source: str
    dry_run_id: int | None
    reasons: list[str]
    diff: dict[str, Any]
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


def _schedule_out(s: ScheduleRecord) -> ScheduleOut:
    upcoming = next_fire_times(s, 1) if s.enabled else []
    return ScheduleOut(s.id, s.source, s.kind, s.cron, s.interval_seconds, s.timezone, s.full_refresh, s.enabled,
                       s.created_at, s.updated_at, upcoming[0] if upcoming else None)


def _safeguards_out(source: str, s: Safeguards) -> SafeguardsOut:
    return SafeguardsOut(source, s.max_delete_pct, s.max_change_pct, {k: dict(v) for k, v in s.per_type.items()},
                         s.min_entities, s.active)


def _hold_out(h: HoldRecord) -> HoldOut:
    return HoldOut(h.run_id, h.source, h.dry_run_id, list(h.reasons), dict(h.diff), h.decision, h.decided_by,
                   h.decided_at, h.created_at)


class ScheduleController(Controller):
    path = "/schedules"
    tags = ["schedules"]
    guards = [READ]

    @get("/", summary="Schedules of the tenant's sources", responses=_R)
    async def list_schedules(self, tenant_store: TenantStoreDep) -> list[ScheduleOut]:
        return [_schedule_out(s) for s in await ScheduleStore(tenant_store).list()]

    @post("/", summary="Add a cron or interval schedule to a source", guards=[WRITE], responses=_RW)
    async def add_schedule(self, data: JSONBody[ScheduleCreate], tenant_store: TenantStoreDep) -> ScheduleOut:
        return _schedule_out(await ScheduleStore(tenant_store).add(
            data.source, cron=data.cron, interval_seconds=data.interval_seconds, timezone=data.timezone,
            full_refresh=data.full_refresh, enabled=data.enabled))

    @get("/{schedule_id:int}", summary="One schedule", responses=_R)
    async def get_schedule(self, schedule_id: Id, tenant_store: TenantStoreDep) -> ScheduleOut:
        return _schedule_out(await ScheduleStore(tenant_store).get(schedule_id))

    @patch("/{schedule_id:int}", summary="Enable or disable a schedule", guards=[WRITE], responses=_RW)
    async def patch_schedule(self, schedule_id: Id, data: JSONBody[SchedulePatch],
                             tenant_store: TenantStoreDep) -> ScheduleOut:
        return _schedule_out(await ScheduleStore(tenant_store).set_enabled(schedule_id, data.enabled))

    @delete("/{schedule_id:int}", summary="Remove a schedule (its ledger of past slots is kept)", guards=[WRITE],
            responses=_RW)
    async def remove_schedule(self, schedule_id: Id, tenant_store: TenantStoreDep) -> None:
        await ScheduleStore(tenant_store).remove(schedule_id)


class SafeguardController(Controller):
    path = "/sources/{name:str}/safeguards"
    tags = ["sources"]
    guards = [READ]

    @get("/", summary="A source's change thresholds", responses=_R)
    async def get_safeguards(self, name: FromPath[str], tenant_store: TenantStoreDep) -> SafeguardsOut:
        return _safeguards_out(name, await get_safeguards(tenant_store, name))

    @put("/", summary="Set a source's change thresholds (a run beyond them is held)", guards=[WRITE],
         responses=_RW)
    async def put_safeguards(self, name: FromPath[str], data: JSONBody[SafeguardsIn],
                             tenant_store: TenantStoreDep) -> SafeguardsOut:
        saved = await set_safeguards(tenant_store, name, Safeguards(
            data.max_delete_pct, data.max_change_pct, data.per_type, data.min_entities))
        return _safeguards_out(name, saved)

    @delete("/", summary="Remove a source's thresholds", guards=[WRITE], responses=_RW)
    async def delete_safeguards(self, name: FromPath[str], tenant_store: TenantStoreDep) -> None:
        await clear_safeguards(tenant_store, name)


class HoldController(Controller):
    path = "/runs"
    tags = ["runs"]
    guards = [READ]

    @get("/held", summary="Runs held by safeguards, waiting for a decision", responses=_R)
    async def held_runs(self, tenant_store: TenantStoreDep) -> list[HoldOut]:
        return [_hold_out(h) for h in await list_holds(tenant_store)]

    @get("/{run_id:int}/hold", summary="Why a run was held, and its diff", responses=_R)
    async def get_hold(self, run_id: Id, tenant_store: TenantStoreDep) -> HoldOut:
        return _hold_out(await get_hold(tenant_store, run_id))

    @post("/{run_id:int}/approve", summary="Apply a held run (queued again, safeguard bypassed)",
          guards=[WRITE], status_code=200, responses=_RW)
    async def approve(self, run_id: Id, tenant_store: TenantStoreDep, principal: PrincipalDep) -> RunOut:
        return run_out(await approve_run(tenant_store, run_id, by=principal.client_id))

    @post("/{run_id:int}/discard", summary="Discard a held run (nothing applied)", guards=[WRITE],
          status_code=200, responses=_RW)
    async def discard(self, run_id: Id, tenant_store: TenantStoreDep, principal: PrincipalDep) -> RunOut:
        return run_out(await discard_run(tenant_store, run_id, by=principal.client_id))


schedules_router = Router(path="/api/v1", route_handlers=[ScheduleController, SafeguardController, HoldController])
