"""The SSRF guard and the Standard Webhooks signature, checked against the official library."""

from __future__ import annotations

import ipaddress
import socket
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from hub.webhooks import UrlGuard, UrlRefused, event_type_for, generate_secret, matches, signed_headers


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x", "http://[::1]/x", "http://10.0.0.1/", "http://192.168.0.10:8080/", "http://172.16.3.4/",
    "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/",
    "http://224.0.0.1/", "http://240.0.0.1/", "http://[fe80::1]/", "http://[fc00::1]/",
])
async def test_refused_ranges(url: str) -> None:
    with pytest.raises(UrlRefused):
        await UrlGuard().resolve(url)


@pytest.mark.parametrize("url", ["ftp://example.org/", "http://user:pw@example.org/", "http:///nohost", "file:///etc/passwd"])
async def test_bad_urls(url: str) -> None:
    with pytest.raises(UrlRefused):
        await UrlGuard().resolve(url)


async def test_names_are_checked_after_dns_and_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"rebind.example": ["93.184.216.34", "127.0.0.1"], "public.example": ["93.184.216.34"],
               "localhost": ["127.0.0.1"]}

    async def fake_getaddrinfo(self: Any, host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    import asyncio

    monkeypatch.setattr(type(asyncio.get_running_loop()), "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UrlRefused, match="127.0.0.1 is loopback"):
        await UrlGuard().resolve("https://rebind.example/hook")  # any refused address refuses the URL
    target = await UrlGuard().resolve("https://public.example/hook?x=1")
    assert (target.ip, target.host, target.port, target.path) == ("93.184.216.34", "public.example", 443, "/hook?x=1")
    assert target.pinned_url == "https://93.184.216.34:443/hook?x=1" and target.host_header == "public.example"
    with pytest.raises(UrlRefused):
        await UrlGuard().resolve("http://localhost:8080/")  # a name resolving to loopback


async def test_allow_list_makes_loopback_explicit() -> None:
    guard = UrlGuard(["127.0.0.0/8", "::1/128"])
    assert (await guard.resolve("http://127.0.0.1:9/x")).ip == "127.0.0.1"
    assert (await guard.resolve("http://[::1]:9/x")).pinned_url == "http://[::1]:9/x"
    with pytest.raises(UrlRefused):
        await guard.resolve("http://10.0.0.1/")
    assert guard.allow == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def test_signatures_verify_with_the_official_library() -> None:
    old, new = generate_secret(), generate_secret()
    assert old.startswith("whsec_") and len(Webhook(old)._whsecret) == 32
    body = '{"type":"person.created","timestamp":"2026-01-01T00:00:00.000Z","data":{"seq":1}}'
    headers = signed_headers([new, old], "msg_t1_s1", int(time.time()), body)
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers)["data"] == {"seq": 1}
    expected = Webhook(new).sign("msg_t1_s1", datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC), body)
    assert headers["webhook-signature"].split(" ")[0] == expected


def test_event_type_names_and_patterns() -> None:
    assert event_type_for("User", "created") == "person.created"
    assert event_type_for("AcademicSession", "deleted") == "academicSession.deleted"
    assert event_type_for("Demographics", "updated") == "demographics.updated"
    assert event_type_for("LineItem", "updated") == "lineItem.updated"
    assert matches(["person.*"], "person.deleted") and not matches(["person.*"], "enrollment.created")
    assert matches(["sync.*"], "sync.run.finished") and matches(["*"], "webhook.subscription.disabled")
