"""Webhook subscriptions, their deliveries and replay (``/api/v1/webhooks``), over hub.webhooks.

Reading needs any role; creating, changing, rotating, enabling and replaying need admin or
integrator. A client may only create or change a subscription whose change events it may read
itself (:func:`hub.auth.may_read`): one without ``roster-demographics.readonly`` must list
``entity_types`` that leave Demographics out. A subscription's secret is returned when it is created or rotated, and by
``GET /subscriptions/{id}/secret``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Router, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from hub.api._problems import problem_responses
from hub.api.deps import HubDep, PrincipalDep, TenantStoreDep
from hub.api.guards import READ, WRITE
from hub.auth import Principal
from hub.context import Hub
from hub.errors import Forbidden
from hub.store import TenantStore
from hub.webhooks import AttemptRecord, DeliveryRecord, SubscriptionRecord, WebhookStore

__all__ = ["webhooks_router"]

_IN = ConfigDict(extra="forbid")
_R = problem_responses(400, 401, 403, 404, 422, 429, 500)
Limit = Annotated[int, QueryParameter(ge=1, le=1000)]
Offset = Annotated[int, QueryParameter(ge=0, le=2**31 - 1)]
#: ids beyond the bigint column (and exact JSON numbers) are 400, never a database overflow
Id = Annotated[int, PathParameter(ge=1, le=2**53 - 1)]


class SubscriptionIn(BaseModel):
    model_config = _IN
    url: str = Field(min_length=8, max_length=2048, description="http(s) URL of the receiver")
    event_types: list[str] = Field(min_length=1, max_length=100,
                                   description="Patterns: person.*, enrollment.deleted, sync.run.finished, *")
    sources: list[str] | None = Field(default=None, max_length=100, description="Only changes of these sources")
    entity_types: list[str] | None = Field(default=None, max_length=100,
                                           description="Only changes of these canonical types (User, Enrollment)")
    description: str = Field(default="", max_length=255)
    enabled: bool = True


class SubscriptionPatch(BaseModel):
    model_config = _IN
    url: str | None = Field(default=None, min_length=8, max_length=2048)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100)
    sources: list[str] | None = Field(default=None, max_length=100)
    entity_types: list[str] | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=255)


class RotateIn(BaseModel):
    model_config = _IN
    overlap_seconds: float | None = Field(default=None, ge=0, le=30 * 86400,
                                          description="How long the old secret still signs (default: settings)")


class EnableIn(BaseModel):
    model_config = _IN
    skip_backlog: bool = Field(default=False, description="Cancel pending deliveries and start at the current change")


class ReplayIn(BaseModel):
    model_config = _IN
    after_seq: int = Field(ge=0, le=2**53 - 1, description="Queue again every event after this change sequence")


class SubscriptionOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    sources: list[str] | None
    entity_types: list[str] | None
    enabled: bool
    disabled_reason: str | None
    last_seq: int
    failing_since: datetime | None
    previous_secret_until: datetime | None
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionOut):
    secret: str


class SecretOut(BaseModel):
    secret: str
    previous_secret: str | None


class DeliveryOut(BaseModel):
    id: int
    subscription_id: int
    webhook_id: str
    seq: int | None
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    replay_of: int | None
    created_at: datetime
    finished_at: datetime | None


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str | None


class DeliveryDetail(DeliveryOut):
    body: str
    attempt_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[DeliveryOut]


class ReplayOut(BaseModel):
    queued: int


def _sub_out(sub: SubscriptionRecord) -> dict[str, Any]:
    return {
        "id": sub.id, "url": sub.url, "description": sub.description, "event_types": list(sub.event_types),
        "sources": list(sub.sources) if sub.sources is not None else None,
        "entity_types": list(sub.entity_types) if sub.entity_types is not None else None, "enabled": sub.enabled,
        "disabled_reason": sub.disabled_reason, "last_seq": sub.last_seq, "failing_since": sub.failing_since,
        "previous_secret_until": sub.previous_secret_until, "created_at": sub.created_at, "updated_at": sub.updated_at,
    }


def _delivery_out(d: DeliveryRecord) -> dict[str, Any]:
    return {"id": d.id, "subscription_id": d.subscription_id, "webhook_id": d.msg_id, "seq": d.seq,
            "event_type": d.event_type, "status": d.status, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
            "last_status_code": d.last_status_code, "last_error": d.last_error, "replay_of": d.replay_of,
            "created_at": d.created_at, "finished_at": d.finished_at}


def _attempt_out(a: AttemptRecord) -> AttemptOut:
    return AttemptOut(attempt=a.attempt, at=a.at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error,
                      response=a.response)


def _store(hub: Hub, tenant_store: TenantStore) -> WebhookStore:
    return WebhookStore.for_hub(hub, tenant_store.tenant_id)


def _entity_type(body: str | None) -> str | None:
    """The entity type of a change event's delivery body (None for other events)."""
    try:
        data = json.loads(body or "{}").get("data")
    except (ValueError, AttributeError):
        return None
    value = data.get("entity_type") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _within_scopes(principal: Principal, hub: Hub, entity_types: Any) -> None:
    """Forbidden unless the caller may read every entity type the subscription would deliver."""
    hidden = sorted(t for t in (entity_types if entity_types is not None else hub.types) if not principal.may_read(t))
    if hidden:
        raise Forbidden(f"this client's scopes do not cover {', '.join(hidden)}: list entity_types it may read")


class SubscriptionController(Controller):
    path = "/subscriptions"
    tags = ["webhooks"]
    guards = [READ]

    @post("/", summary="Subscribe a URL to events", guards=[WRITE], responses=_R)
    async def create(self, data: JSONBody[SubscriptionIn], tenant_store: TenantStoreDep,
                     hub: HubDep, principal: PrincipalDep) -> SubscriptionWithSecret:
        """The signing secret (``whsec_...``) is generated here and returned in ``secret``."""
        _within_scopes(principal, hub, data.entity_types)
        sub, secret = await _store(hub, tenant_store).create(
            data.url, data.event_types, sources_=data.sources, entity_types=data.entity_types,
            description=data.description, enabled=data.enabled)
        return SubscriptionWithSecret(**_sub_out(sub), secret=secret)

    @get("/", summary="The tenant's subscriptions", responses=_R)
    async def list_subscriptions(self, tenant_store: TenantStoreDep, hub: HubDep) -> list[SubscriptionOut]:
        return [SubscriptionOut(**_sub_out(s)) for s in await _store(hub, tenant_store).list()]

    @get("/{sub_id:int}", summary="One subscription", responses=_R)
    async def get_subscription(self, sub_id: Id, tenant_store: TenantStoreDep,
                               hub: HubDep) -> SubscriptionOut:
        return SubscriptionOut(**_sub_out(await _store(hub, tenant_store).get(sub_id)))

    @patch("/{sub_id:int}", summary="Change a subscription", guards=[WRITE], responses=_R)
    async def update(self, sub_id: Id, data: JSONBody[SubscriptionPatch], tenant_store: TenantStoreDep,
                     hub: HubDep, principal: PrincipalDep) -> SubscriptionOut:
        """Fields left out are kept; ``sources`` or ``entity_types`` given as ``null`` clear that filter."""
        given = data.model_fields_set
        current = await _store(hub, tenant_store).get(sub_id)
        _within_scopes(principal, hub, data.entity_types if "entity_types" in given else current.entity_types)
        kwargs: dict[str, Any] = {"url": data.url, "event_types": data.event_types, "description": data.description}
        if "sources" in given:
            kwargs["sources_"] = data.sources
        if "entity_types" in given:
            kwargs["entity_types"] = data.entity_types
        return SubscriptionOut(**_sub_out(await _store(hub, tenant_store).update(sub_id, **kwargs)))

    @delete("/{sub_id:int}", summary="Remove a subscription and its deliveries", guards=[WRITE], status_code=204,
            responses=_R)
    async def remove(self, sub_id: Id, tenant_store: TenantStoreDep, hub: HubDep) -> None:
        await _store(hub, tenant_store).delete(sub_id)

    @get("/{sub_id:int}/secret", summary="The signing secret(s)", guards=[WRITE], responses=_R)
    async def secret(self, sub_id: Id, tenant_store: TenantStoreDep, hub: HubDep) -> SecretOut:
        current, previous = await _store(hub, tenant_store).secrets(sub_id)
        return SecretOut(secret=current, previous_secret=previous)

    @post("/{sub_id:int}/rotate", summary="Rotate the signing secret", guards=[WRITE], status_code=200, responses=_R)
    async def rotate(self, sub_id: Id, data: JSONBody[RotateIn], tenant_store: TenantStoreDep,
                     hub: HubDep) -> SubscriptionWithSecret:
        """The old secret keeps signing (a second ``v1`` signature) during the overlap."""
        overlap = data.overlap_seconds if data.overlap_seconds is not None else hub.settings.webhooks.secret_overlap_seconds
        sub, secret = await _store(hub, tenant_store).rotate(sub_id, overlap)
        return SubscriptionWithSecret(**_sub_out(sub), secret=secret)

    @post("/{sub_id:int}/enable", summary="Enable (resumes where it stopped)", guards=[WRITE], status_code=200,
          responses=_R)
    async def enable(self, sub_id: Id, data: JSONBody[EnableIn], tenant_store: TenantStoreDep,
                     hub: HubDep) -> SubscriptionOut:
        sub = await _store(hub, tenant_store).set_enabled(sub_id, True, skip_backlog=data.skip_backlog)
        return SubscriptionOut(**_sub_out(sub))

    @post("/{sub_id:int}/disable", summary="Disable (deliveries wait)", guards=[WRITE], status_code=200, responses=_R)
    async def disable(self, sub_id: Id, tenant_store: TenantStoreDep, hub: HubDep) -> SubscriptionOut:
        return SubscriptionOut(**_sub_out(await _store(hub, tenant_store).set_enabled(sub_id, False)))

    @get("/{sub_id:int}/deliveries", summary="A subscription's deliveries, newest first", responses=_R)
    async def deliveries(self, sub_id: Id, tenant_store: TenantStoreDep, hub: HubDep,
                         status: Annotated[str | None, QueryParameter(max_length=16)] = None,
                         offset: Offset = 0, limit: Limit = 100) -> DeliveryPage:
        total, rows = await _store(hub, tenant_store).deliveries(sub_id, status=status, limit=limit, offset=offset)
        return DeliveryPage(total=total, offset=offset, limit=limit, items=[DeliveryOut(**_delivery_out(d)) for d in rows])

    @post("/{sub_id:int}/replay", summary="Queue again everything after a change sequence", guards=[WRITE],
          status_code=202, responses=_R)
    async def replay(self, sub_id: Id, data: JSONBody[ReplayIn], tenant_store: TenantStoreDep,
                     hub: HubDep) -> ReplayOut:
        return ReplayOut(queued=await _store(hub, tenant_store).replay_since(sub_id, data.after_seq))


class DeliveryController(Controller):
    path = "/deliveries"
    tags = ["webhooks"]
    guards = [READ]

    @get("/{delivery_id:int}", summary="One delivery with its body and attempt log", responses=_R)
    async def get_delivery(self, delivery_id: Id, tenant_store: TenantStoreDep,
                           hub: HubDep, principal: PrincipalDep) -> DeliveryDetail:
        """403 when the body carries a record of a type the caller's scopes do not cover."""
        delivery, attempts = await _store(hub, tenant_store).delivery(delivery_id)
        _within_scopes(principal, hub, [_entity_type(delivery.body)] if _entity_type(delivery.body) else [])
        return DeliveryDetail(**_delivery_out(delivery), body=delivery.body or "",
                              attempt_log=[_attempt_out(a) for a in attempts])

    @post("/{delivery_id:int}/replay", summary="Send one delivery again", guards=[WRITE], status_code=202,
          responses=_R)
    async def replay(self, delivery_id: Id, tenant_store: TenantStoreDep, hub: HubDep) -> DeliveryOut:
        return DeliveryOut(**_delivery_out(await _store(hub, tenant_store).replay_delivery(delivery_id)))


webhooks_router = Router(path="/api/v1/webhooks", route_handlers=[SubscriptionController, DeliveryController])
