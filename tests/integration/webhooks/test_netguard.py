"""The one SSRF guard (hub.netguard) of webhooks and federation: IPv6 forms embedding a refused IPv4
address, link-local labelling, and pinning (the checked address is the one connected to)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hub.netguard import AddressRefused, NetGuard, refused_range
from hub.webhooks import UrlGuard, UrlRefused


@pytest.mark.parametrize(("url", "label"), [
    ("http://[2002:7f00:1::]/", "loopback (6to4 of 127.0.0.1)"),
    ("http://[2002:a9fe:a9fe::1]/", "link-local (6to4 of 169.254.169.254)"),
    ("http://[2002:a00:1::]/", "private (6to4 of 10.0.0.1)"),
    ("http://[::127.0.0.1]/", "loopback (IPv4-compatible of 127.0.0.1)"),
    ("http://[::ffff:169.254.169.254]/", "link-local (IPv4-mapped of 169.254.169.254)"),
    # Teredo: server 93.184.216.34 (public), client 127.0.0.1 stored as 0x7f000001 ^ 0xffffffff
    ("http://[2001:0:5db8:d822::80ff:fffe]/", "loopback (Teredo client of 127.0.0.1)"),
    ("http://[64:ff9b::a9fe:a9fe]/", "link-local (NAT64 of 169.254.169.254)"),
    ("http://[64:ff9b::7f00:1]/", "loopback (NAT64 of 127.0.0.1)"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("http://100.64.0.1/", "shared address space"),
])
async def test_ipv6_forms_embedding_a_refused_ipv4_are_refused(url: str, label: str) -> None:
    with pytest.raises(UrlRefused) as caught:
        await UrlGuard().resolve(url)
    assert f"is {label};" in str(caught.value)


async def test_public_addresses_and_their_embeddings_pass() -> None:
    import ipaddress

    for address in ("93.184.216.34", "2002:5db8:d822::1", "2606:4700::1111"):
        assert refused_range(ipaddress.ip_address(address)) is None
    assert (await UrlGuard().resolve("https://[2002:5db8:d822::1]/h")).ip == "2002:5db8:d822::1"


class _Rebinding:
    """A resolver whose first answer is loopback and every later one the cloud metadata address."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return ["127.0.0.1"] if len(self.calls) == 1 else ["169.254.169.254"]


@pytest.fixture
def origin() -> Iterator[tuple[int, list[dict[str, str]]]]:
    """A loopback HTTP server answering GET with an ActivityStreams actor whose id is the URL asked
    for (from its Host header) and POST with 200; it records each request's headers."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, body: bytes, ctype: str) -> None:
            self.send_response(200)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            seen.append({k.lower(): v for k, v in self.headers.items()})
            doc = {"id": f"http://{self.headers['host']}{self.path}", "type": "Person"}
            self._reply(json.dumps(doc).encode(), "application/activity+json")

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", "0")))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self._reply(b"ok", "text/plain")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


async def test_webhook_attempts_connect_to_the_checked_address(origin: tuple[int, list[dict[str, str]]]) -> None:
    from hub.settings import WebhookSettings
    from hub.webhooks import Sender

    port, seen = origin
    resolver = _Rebinding()
    sender = Sender(WebhookSettings(), guard=UrlGuard(["127.0.0.0/8"], resolver=resolver))
    try:
        url = f"http://hooks.rebind.test:{port}/hook"  # a name only the test's resolver knows
        first = await sender.send(url, "msg_1", '{"type":"x","timestamp":"t","data":{}}', ["whsec_" + "A" * 44])
        assert first.ok, first.error
        assert seen[-1]["host"] == f"hooks.rebind.test:{port}"  # pinned to 127.0.0.1, spoken to by name
        second = await sender.send(url, "msg_2", '{"type":"x","timestamp":"t","data":{}}', ["whsec_" + "A" * 44])
        assert second.status_code is None and second.error is not None
        assert "169.254.169.254 is link-local" in second.error and second.error.startswith("refused:")
        assert resolver.calls == ["hooks.rebind.test", "hooks.rebind.test"]  # one resolution per attempt
        assert len(seen) == 1
    finally:
        await sender.aclose()


async def test_federation_fetches_use_the_same_pinned_guard(hub: Any, origin: tuple[int, list[dict[str, str]]]) -> None:
    from hub.errors import ConnectorError
    from hub.federation import Fetcher
    from hub.settings import FederationSettings

    port, seen = origin
    resolver = _Rebinding()
    fetcher = Fetcher(hub.db, FederationSettings(allow_private=("127.0.0.1",)), "test", resolver=resolver)
    url = f"http://actor.rebind.test:{port}/users/a"
    assert (await fetcher.fetch(url))["id"] == url  # connected to 127.0.0.1, Host kept
    assert resolver.calls == ["actor.rebind.test"]
    with pytest.raises(ConnectorError, match="169.254.169.254 is link-local"):
        await fetcher.fetch(url)  # the next answer is refused at connect time, not fetched
    assert len(seen) == 1 and isinstance(fetcher.guard, NetGuard)


async def test_federation_allow_list_takes_host_names() -> None:
    guard = NetGuard(["partner.internal", "10.0.0.0/8"], resolver=_fixed("192.168.1.5"))
    assert (await guard.resolve("https://partner.internal/inbox")).ip == "192.168.1.5"
    assert (await guard.resolve("http://10.1.2.3/")).ip == "10.1.2.3"
    with pytest.raises(AddressRefused, match="192.168.1.5 is private"):
        await guard.resolve("https://other.internal/inbox")


def _fixed(address: str) -> Any:
    async def resolve(host: str, port: int) -> list[str]:
        return [address]

    return resolve
