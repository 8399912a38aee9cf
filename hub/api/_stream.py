"""``/api/v1/stream``: a tenant's change events, live, over a WebSocket.

Authenticated with the same access tokens as the REST API: an ``Authorization: Bearer`` header,
or the ``access_token`` query parameter for browsers (which cannot set headers on a WebSocket).
Each change is one JSON text message, in sequence order::

    {"seq": 42, "type": "person.updated", "timestamp": "...Z", "data": {... as in webhooks ...}}

``after=SEQ`` resumes after a sequence the client already has (default: only new changes;
``after=0``: the whole log). Changes of types the token's scopes do not cover
(:func:`hub.auth.may_read`: Demographics without ``roster-demographics.readonly``) are left out. The stream is read from the change log in the database (polled), so
every API node serves every change, whichever node wrote it. Closing codes: 4401 (no or bad
token), 1011 (server error).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import QueryParameter

from hub.auth import ClientService, readable_types, split_authorization
from hub.errors import HubError
from hub.events import ChangeOp
from hub.store import ChangeRecord, TenantStore
from hub.webhooks import event_type_for, iso_timestamp

__all__ = ["change_stream"]

log = logging.getLogger("fediflow.api.stream")
_PAGE = 500


def _message(change: ChangeRecord, sources: dict[int, str]) -> dict[str, Any]:
    event_type = event_type_for(change.entity_type, ChangeOp(change.op).value)
    return {
        "seq": change.seq, "type": event_type, "timestamp": iso_timestamp(change.at),
        "data": {"seq": change.seq, "entity_type": change.entity_type, "stable_id": change.stable_id, "op": change.op,
                 "version": change.version, "run_id": change.run_id,
                 "source": sources.get(change.source_id) if change.source_id is not None else None,
                 "record": dict(change.data)},
    }


@websocket("/api/v1/stream", opt={"exclude_from_auth": True}, tags=["changes"])
async def change_stream(
    socket: WebSocket[Any, Any, Any],
    after: Annotated[int | None, QueryParameter(ge=0, le=2**53 - 1, description="Resume after this sequence")] = None,
    access_token: Annotated[str | None, QueryParameter(max_length=4096,
                                                       description="Token for clients that cannot set headers")] = None,
) -> None:
    """Stream the caller's tenant's change events (see the module docstring)."""
    scheme, token = split_authorization(socket.headers.get("authorization", ""))
    token = (token if scheme == "bearer" else "") or (access_token or "")
    await socket.accept()
    if not token:
        await socket.close(code=4401, reason="an access token is required")
        return
    service: ClientService = socket.app.state.clients
    try:
        principal, client = await service.caller(f"Bearer {token}")
    except HubError as exc:
        await socket.close(code=4401, reason=str(exc)[:120])
        return
    hub = socket.app.state.hub
    tenant = TenantStore(hub.store, client.tenant)
    types = readable_types(principal.scopes, hub.types)  # None: every type; []: none at all
    poll = hub.settings.webhooks.poll_interval_seconds
    position = await tenant.last_seq() if after is None else after
    closed = asyncio.Event()

    async def watch_disconnect() -> None:
        try:
            while True:
                await socket.receive_data(mode="text")  # clients send nothing; this notices them leaving
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            closed.set()

    watcher = asyncio.create_task(watch_disconnect())
    sources = {s.id: s.name for s in await tenant.list_sources()}
    try:
        while not closed.is_set():
            page = await tenant.changes_after(position, limit=_PAGE, types=types) if types != [] else []
            if any(c.source_id is not None and c.source_id not in sources for c in page):
                sources = {s.id: s.name for s in await tenant.list_sources()}
            for change in page:
                await socket.send_json(_message(change, sources))
                position = change.seq
            if len(page) < _PAGE:
                try:
                    await asyncio.wait_for(closed.wait(), poll)
                except TimeoutError:
                    pass
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("change stream failed")
        if not closed.is_set():
            await socket.close(code=1011, reason="server error")
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
