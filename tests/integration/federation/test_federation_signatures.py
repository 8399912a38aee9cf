"""Refusals: forged signature, replayed Date, key of another actor, wrong content type, private address."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _key(hub: Any, username: str) -> tuple[str, str]:
    async def go(h: Any) -> tuple[str, str]:
        from hub.federation import Federation

        r = await Federation(h).resolve(username)
        return r.key_id, r.actor.private_key_pem()

    return hub.run(go)


def test_inbox_refusals(start_hub: Any) -> None:
    from hub.federation import sign_request, sign_request_rfc9421

    a = start_hub("a", "alpha")
    b = start_hub("b", "beta")
    key_id, pem = _key(b, "beta")
    actor = key_id.split("#")[0]
    inbox = f"{a.base_url}/ap/inbox"

    def follow(signer: Any = sign_request, actor_id: str = actor, **kw: Any) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"id": f"{actor_id}#follows/{uuid.uuid4()}", "type": "Follow", "actor": actor_id,
                           "object": f"{a.base_url}/ap/actors/alpha"}).encode()
        headers = signer("POST", inbox, body, key_id=key_id, private_key_pem=pem, **kw)
        return body, {**headers, "Content-Type": "application/activity+json"}

    with a.http() as http:
        body, headers = follow()
        assert http.post("/ap/inbox", content=body, headers=headers).status_code == 202
        assert http.post("/ap/inbox", content=body, headers=headers).status_code == 202  # duplicate: ignored
        body, headers = follow(signer=sign_request_rfc9421)
        assert http.post("/ap/inbox", content=body, headers=headers).status_code == 202

        body, headers = follow()
        forged = headers["Signature"].replace('signature="', 'signature="AAAA')
        assert http.post("/ap/inbox", content=body, headers={**headers, "Signature": forged}).status_code == 401
        tampered = body.replace(b"Follow", b"Block")
        assert http.post("/ap/inbox", content=tampered, headers=headers).status_code == 401  # digest

        body, headers = follow(when=time.time() - 7200)  # replayed Date
        resp = http.post("/ap/inbox", content=body, headers=headers)
        assert resp.status_code == 401 and "Date" in resp.json()["detail"]

        body, headers = follow(actor_id=f"{b.base_url}/ap/actors/beta.library")  # key of another actor
        resp = http.post("/ap/inbox", content=body, headers=headers)
        assert resp.status_code == 401 and "does not belong" in resp.json()["detail"]

        unsigned = http.post("/ap/inbox", content=body, headers={"Content-Type": "application/activity+json"})
        assert unsigned.status_code == 401

    with a.admin() as admin:
        followers = admin.get("/api/v1/federation/followers").json()
        assert [f["follower"] for f in followers] == [actor] and followers[0]["state"] == "accepted"


def test_fetch_refusals(start_hub: Any) -> None:
    from hub.errors import ConnectorError
    from hub.federation import Fetcher
    from hub.settings import FederationSettings

    a = start_hub("a", "alpha")

    async def fetch(hub: Any, url: str, allow: tuple[str, ...]) -> str:
        fetcher = Fetcher(hub.db, FederationSettings(allow_private=allow), "test")
        try:
            await fetcher.fetch(url)
        except ConnectorError as exc:
            return str(exc)
        return "ok"

    assert a.run(lambda h: fetch(h, f"{a.base_url}/ap/actors/alpha", ("127.0.0.1",))) == "ok"
    assert "non-public address" in a.run(lambda h: fetch(h, f"{a.base_url}/ap/actors/alpha", ()))
    assert "not an ActivityStreams document" in a.run(
        lambda h: fetch(h, f"{a.base_url}/.well-known/nodeinfo", ("127.0.0.1",)))
    assert "id differs" in a.run(lambda h: fetch(h, f"{a.base_url}/ap/actors/alpha?x=1", ("127.0.0.1",)))
