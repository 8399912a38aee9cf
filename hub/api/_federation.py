"""ActivityPub, WebFinger and NodeInfo routes, and the federation admin API.

Public routes (no bearer token; HTTP Signatures where it matters)::

    GET  /.well-known/webfinger?resource=acct:user@host      application/jrd+json
    GET  /.well-known/nodeinfo   GET /nodeinfo/2.1
    GET  /ap/actors/{username}[/outbox|/followers|/following]
    POST /ap/actors/{username}/inbox   POST /ap/inbox (shared inbox)
    GET  /ap/objects/{tenant}/{type}/{sourcedId}              (410 with a Tombstone once deleted)
    GET  /ap/actors/{username}/activities/{seq}[/note]   GET /ap/actors/{username}/notes/{seq}
    GET  /ap/actors/{username}/backfills/{run}/{n}

Admin API (bearer token, role admin, the caller's tenant)::

    GET  /api/v1/federation/followers[?state=pending]
    POST /api/v1/federation/followers/{id}/approve | /reject
    GET  /api/v1/federation/following   POST /api/v1/federation/following {"actor": ...}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from hub.api._problems import problem_responses
from hub.api.deps import HubDep, TenantStoreDep
from hub.api.guards import ADMIN
from hub.federation import (
    ActivityPart,
    Federation,
    FollowerRecord,
    FollowingRecord,
    approve,
    follow_remote,
    list_followers,
    list_following,
    parse_username,
    receive,
    reject,
)

__all__ = ["FederationAdminController", "federation_routes"]

AP_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
_PUBLIC = {"exclude_from_auth": True}
_INBOX_MAX = 512 * 1024
#: ids and sequences beyond the bigint column (and exact JSON numbers) are 400, never a database overflow
Id = Annotated[int, PathParameter(ge=0, le=2**53 - 1)]


def _path_qs(request: Request[Any, Any, Any]) -> str:
    query = request.scope.get("query_string", b"").decode("latin-1")
    return request.url.path + (f"?{query}" if query else "")


def _headers(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


def _as(request: Request[Any, Any, Any], doc: dict[str, Any], status: int = 200) -> Response[bytes]:
    accept = request.headers.get("accept", "")
    media = LD_JSON if "application/ld+json" in accept and AP_JSON not in accept else AP_JSON
    return Response(json.dumps(doc).encode(), status_code=status, media_type=media,
                    headers={"Vary": "Accept", "Cache-Control": "max-age=60"})


async def _reader(request: Request[Any, Any, Any], fed: Federation, *, required: bool) -> str | None:
    """The verified signer of a GET that must be signed; None (signature not even looked at) otherwise.

    Public documents never verify signatures: verifying means fetching the signer's key, whose
    fetch is signed in turn, and two hubs would fetch each other's keys forever.
    """
    if not required:
        return None
    return await fed.verify_request(request.method, _path_qs(request), _headers(request), b"")


@get("/.well-known/webfinger", opt=_PUBLIC, tags=["federation"], summary="WebFinger (RFC 7033)",
     responses=problem_responses(400, 404))
async def webfinger(hub: HubDep, resource: FromQuery[str]) -> Response[bytes]:
    doc = await Federation(hub).webfinger(resource)
    return Response(json.dumps(doc).encode(), media_type="application/jrd+json",
                    headers={"Access-Control-Allow-Origin": "*"})


@get("/.well-known/nodeinfo", opt=_PUBLIC, tags=["federation"], summary="NodeInfo discovery")
async def nodeinfo_links(hub: HubDep) -> Response[bytes]:
    return Response(json.dumps(Federation(hub).nodeinfo_links()).encode(), media_type="application/json")


@get("/nodeinfo/2.1", opt=_PUBLIC, tags=["federation"], summary="NodeInfo 2.1")
async def nodeinfo(hub: HubDep) -> Response[bytes]:
    return Response(json.dumps(await Federation(hub).nodeinfo()).encode(),
                    media_type='application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"')


class ActorController(Controller):
    path = "/ap"
    tags = ["federation"]
    #: rate limited per remote server: host[:port] of the HTTP signature's keyId (hub.api._ratelimit)
    opt = {**_PUBLIC, "rate_limit": "federation"}

    @get("/actors/{username:str}", summary="An actor", responses=problem_responses(401, 404))
    async def actor(self, request: Request[Any, Any, Any], hub: HubDep, username: FromPath[str]) -> Response[bytes]:
        fed = Federation(hub)
        name = parse_username(username)
        await _reader(request, fed, required=name is not None and not name.public)
        return _as(request, await fed.actor_document(username))

    @get("/actors/{username:str}/outbox", summary="An actor's outbox (paged)", responses=problem_responses(401, 403, 404))
    async def outbox(self, request: Request[Any, Any, Any], hub: HubDep, username: FromPath[str],
                     page: FromQuery[bool] = False, before: FromQuery[int | None] = None) -> Response[bytes]:
        fed = Federation(hub)
        name = parse_username(username)
        reader = await _reader(request, fed, required=name is not None and not name.public)
        return _as(request, await fed.outbox(username, page=page, before=before, reader=reader))

    @get("/actors/{username:str}/followers", summary="Follower count", responses=problem_responses(404))
    async def followers(self, request: Request[Any, Any, Any], hub: HubDep, username: FromPath[str]) -> Response[bytes]:
        return _as(request, await Federation(hub).followers_collection(username))

    @get("/actors/{username:str}/following", summary="Following (empty)", responses=problem_responses(404))
    async def following(self, request: Request[Any, Any, Any], hub: HubDep, username: FromPath[str]) -> Response[bytes]:
        return _as(request, await Federation(hub).following_collection(username))

    @post("/actors/{username:str}/inbox", summary="An actor's inbox", status_code=202,
          request_max_body_size=_INBOX_MAX, responses=problem_responses(401, 404, 413, 422))
    async def inbox(self, request: Request[Any, Any, Any], hub: HubDep, username: FromPath[str]) -> Response[bytes]:
        fed = Federation(hub)
        if parse_username(username) is None:
            from hub.errors import NotFound

            raise NotFound(f"no actor {username!r}")
        await receive(fed, "POST", _path_qs(request), _headers(request), await request.body())
        return Response(b"", status_code=202)

    @post("/inbox", summary="The shared inbox", status_code=202, request_max_body_size=_INBOX_MAX,
          responses=problem_responses(401, 413, 422))
    async def shared_inbox(self, request: Request[Any, Any, Any], hub: HubDep) -> Response[bytes]:
        await receive(Federation(hub), "POST", _path_qs(request), _headers(request), await request.body())
        return Response(b"", status_code=202)

    @get("/objects/{tenant:str}/{type_name:str}/{stable_id:str}", summary="A catalogue object",
         responses=problem_responses(401, 404, 410))
    async def object(self, request: Request[Any, Any, Any], hub: HubDep, tenant: FromPath[str],
                     type_name: FromPath[str], stable_id: FromPath[str]) -> Response[bytes]:
        fed = Federation(hub)
        reader = await _reader(request, fed, required=fed.is_personal(type_name))
        doc = await fed.object_document(tenant, type_name, stable_id, reader)
        return _as(request, doc, status=410 if doc["type"] == "Tombstone" else 200)  # deleted (ActivityPub 6.4)

    @get("/actors/{username:str}/activities/{seq:int}", summary="An activity of an actor",
         responses=problem_responses(401, 404))
    async def activity(self, request: Request[Any, Any, Any], hub: HubDep, username: FromPath[str],
                       seq: Id) -> Response[bytes]:
        return await _minted(request, hub, username, seq, "activity")

    @get("/actors/{username:str}/activities/{seq:int}/note", summary="The Create of a Note of an actor",
         responses=problem_responses(401, 404))
    async def note_create(self, request: Request[Any, Any, Any], hub: HubDep, username: FromPath[str],
                          seq: Id) -> Response[bytes]:
        return await _minted(request, hub, username, seq, "note-create")

    @get("/actors/{username:str}/notes/{seq:int}", summary="A Note of an actor", responses=problem_responses(401, 404))
    async def note(self, request: Request[Any, Any, Any], hub: HubDep, username: FromPath[str],
                   seq: Id) -> Response[bytes]:
        return await _minted(request, hub, username, seq, "note")

    @get("/actors/{username:str}/backfills/{run:str}/{number:int}", summary="A backfill activity (its follower only)",
         responses=problem_responses(401, 404))
    async def backfill(self, request: Request[Any, Any, Any], hub: HubDep, username: FromPath[str],
                       run: FromPath[str], number: Id) -> Response[bytes]:
        fed = Federation(hub)
        reader = await _reader(request, fed, required=True)
        return _as(request, await fed.backfill_document(username, run, number, reader))


async def _minted(request: Request[Any, Any, Any], hub: Any, username: str, seq: int,
                  part: ActivityPart) -> Response[bytes]:
    """An activity or Note the outbox lists; the roster actor's only to signed fetches of approved followers."""
    fed = Federation(hub)
    name = parse_username(username)
    reader = await _reader(request, fed, required=name is not None and not name.public)
    return _as(request, await fed.activity_document(username, seq, part, reader))


# --- admin API ---------------------------------------------------------------------------------


@dataclass
class FollowerOut:
    id: int
    actor: str
    follower: str
    state: str
    created_at: datetime
    #: the OneRoster scopes granted at approval: what a follower of the roster actor receives
    scopes: list[str] = field(default_factory=list)


@dataclass
class FollowingOut:
    id: int
    remote_actor: str
    state: str
    source: str | None
    created_at: datetime


_SCOPE = Literal[
    "roster.readonly", "roster-core.readonly", "roster-demographics.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly",
]


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[_SCOPE] = Field(default_factory=list, max_length=3, description=(
        "OneRoster scopes granted to the follower (short or full names); none: roster-core.readonly, "
        "everything but Demographics, which need roster-demographics.readonly"))


class FollowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor: str = Field(min_length=3, max_length=2048, description="Actor URL or user@host (WebFinger)")
    source: str | None = Field(default=None, max_length=128, description="Name of the federation source to feed")


def _follower(f: FollowerRecord) -> FollowerOut:
    return FollowerOut(f.id, f.actor, f.follower, f.state, f.created_at, list(f.scopes))


def _following(f: FollowingRecord) -> FollowingOut:
    return FollowingOut(f.id, f.remote_actor, f.state, f.source, f.created_at)


class FederationAdminController(Controller):
    path = "/api/v1/federation"
    tags = ["federation"]
    guards = [ADMIN]

    @get("/followers", summary="Followers of the tenant's actors")
    async def followers(self, tenant_store: TenantStoreDep, hub: HubDep,
                        follower_state: Annotated[str | None, QueryParameter(name="state")] = None) -> list[FollowerOut]:
        return [_follower(f) for f in await list_followers(Federation(hub), tenant_store, follower_state)]

    @post("/followers/{follower_id:int}/approve", summary="Approve a follower (sends Accept)", status_code=200,
          responses=problem_responses(400, 401, 403, 404, 422, 429, 500))
    async def approve(self, tenant_store: TenantStoreDep, hub: HubDep, follower_id: Id,
                      data: JSONBody[ApproveIn | None] = None) -> FollowerOut:
        """``scopes`` decide which records a follower of the roster actor receives (hub.auth.may_read)."""
        scopes = data.scopes if data is not None else []
        return _follower(await approve(Federation(hub), tenant_store, follower_id, scopes))

    @post("/followers/{follower_id:int}/reject", summary="Reject a follower (sends Reject)", status_code=200)
    async def reject(self, tenant_store: TenantStoreDep, hub: HubDep, follower_id: Id) -> FollowerOut:
        return _follower(await reject(Federation(hub), tenant_store, follower_id))

    @get("/following", summary="Remote actors the tenant follows")
    async def following(self, tenant_store: TenantStoreDep, hub: HubDep) -> list[FollowingOut]:
        return [_following(f) for f in await list_following(Federation(hub), tenant_store)]

    @post("/following", summary="Follow a remote actor (feeds a federation source)", status_code=201,
          responses=problem_responses(400, 401, 403, 404, 422, 429, 500, 502))
    async def follow(self, tenant_store: TenantStoreDep, hub: HubDep, data: JSONBody[FollowIn]) -> FollowingOut:
        return _following(await follow_remote(Federation(hub), tenant_store, data.actor, data.source))


def federation_routes(hub: Any) -> list[Any]:
    """The federation route handlers (none when ``settings.federation.enabled`` is false)."""
    if not hub.settings.federation.enabled:
        return []
    return [webfinger, nodeinfo_links, nodeinfo, ActorController, FederationAdminController]
