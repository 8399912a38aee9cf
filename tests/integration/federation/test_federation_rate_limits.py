"""Rate limits on the ActivityPub routes are per remote server (issue 12, item 5): a partner hub
delivering from one address is not limited like anonymous callers of that address, another server
has its own budget, and a sender forging another server's keyId is stopped on its own address."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from test_federation_signatures import _key

pytestmark = pytest.mark.slow


def _follow(sender: Any, target: Any, key: tuple[str, str]) -> tuple[bytes, dict[str, str]]:
    from hub.federation import sign_request

    key_id, pem = key
    actor = key_id.split("#")[0]
    body = json.dumps({"id": f"{actor}#follows/{uuid.uuid4()}", "type": "Follow", "actor": actor,
                       "object": f"{target.base_url}/ap/actors/{target.tenant}"}).encode()
    headers = sign_request("POST", f"{target.base_url}/ap/inbox", body, key_id=key_id, private_key_pem=pem)
    return body, {**headers, "Content-Type": "application/activity+json"}


def test_inbox_deliveries_are_limited_per_remote_server(start_hub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDIFLOW_API__RATE_LIMIT_ANONYMOUS_PER_MINUTE", "3")
    monkeypatch.setenv("FEDIFLOW_API__RATE_LIMIT_FEDERATION_PER_MINUTE", "6")
    monkeypatch.setenv("FEDIFLOW_API__RATE_LIMIT_AUTH_FAILURES_PER_MINUTE", "2")
    a = start_hub("a", "alpha")
    b = start_hub("b", "beta")
    c = start_hub("c", "gamma")
    key_b, key_c = _key(b, "beta"), _key(c, "gamma")
    with a.http() as http:
        # six deliveries from one address: twice the anonymous budget, within the server's
        codes = [http.post("/ap/inbox", content=body, headers=headers).status_code
                 for body, headers in (_follow(b, a, key_b) for _ in range(6))]
        assert codes == [202] * 6
        body, headers = _follow(b, a, key_b)
        refused = http.post("/ap/inbox", content=body, headers=headers)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "127.0.0.1:" in refused.json()["detail"]
        # another server (same address, another origin) has its own budget, anonymous callers theirs
        body, headers = _follow(c, a, key_c)
        accepted = http.post("/ap/inbox", content=body, headers=headers)
        assert accepted.status_code == 202 and accepted.headers["RateLimit-Limit"] == "6"
        assert http.get("/.well-known/nodeinfo").status_code == 200
        # forging c's keyId: 401s counted on the sender's address, which is then refused first
        for _ in range(2):
            body, headers = _follow(c, a, key_c)
            forged = headers["Signature"].replace('signature="', 'signature="AAAA')
            assert http.post("/ap/inbox", content=body, headers={**headers, "Signature": forged}).status_code == 401
        body, headers = _follow(c, a, key_c)
        stopped = http.post("/ap/inbox", content=body, headers=headers)
        assert stopped.status_code == 429 and "failed signatures" in stopped.json()["detail"]
        assert int(stopped.headers["Retry-After"]) >= 1
