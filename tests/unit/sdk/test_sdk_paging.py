"""Every pagination style end to end against the loopback server, plus resume and guards."""

from __future__ import annotations

import pytest
from sdk_testserver import Reply, Seen

from hub.errors import ConnectorError
from hub.sdk import (
    CursorPaging,
    HttpClient,
    LinkHeaderPaging,
    OffsetLimitPaging,
    PageNumberPaging,
    ResumptionTokenPaging,
)
from hub.sdk._paging import parse_link_header

ROWS = [{"id": i} for i in range(1, 8)]


async def collect(client, *args, **kwargs):
    return [page async for page in client.paginate(*args, **kwargs)]


async def test_link_header_canvas_style(server, sleeps):
    def courses(seen: Seen) -> Reply:
        page, per = int(seen.query.get("page", 1)), int(seen.query["per_page"])
        links = [f'<{server.url}/api/v1/courses?page=1&per_page={per}>; rel="first"']
        if page * per < len(ROWS):
            links.insert(0, f'<{server.url}/api/v1/courses?page={page + 1}&per_page={per}>; rel="next"')
        return Reply(200, ROWS[(page - 1) * per : page * per], {"Link": ", ".join(links)})

    server.route("GET", "/api/v1/courses", courses)
    async with HttpClient(server.url, sleep=sleeps) as client:
        pages = await collect(client, "/api/v1/courses", {"per_page": 3}, LinkHeaderPaging())
        assert [i["id"] for p in pages for i in p.items] == list(range(1, 8))
        assert [p.number for p in pages] == [1, 2, 3] and pages[-1].done and not pages[0].done
        assert pages[0].state == {"next_url": f"{server.url}/api/v1/courses?page=2&per_page=3"}
        assert pages[0].info.status == 200 and "link" in pages[0].info.headers
        resumed = await collect(
            client, "/api/v1/courses", {"per_page": 3}, LinkHeaderPaging(), resume=pages[0].state
        )
        assert [i["id"] for p in resumed for i in p.records] == [4, 5, 6, 7]


def test_parse_link_header_rfc8288():
    value = '<https://x/a?b=1,2>; rel="next last"; title="a, b", <https://x/p>; REL=prev, </rel>; rel=first'
    links = parse_link_header([value, '<https://x/q>; rel="self"'])
    assert links[0] == ("https://x/a?b=1,2", {"rel": "next last", "title": "a, b"})
    assert links[1] == ("https://x/p", {"rel": "prev"})
    assert [uri for uri, _ in links] == ["https://x/a?b=1,2", "https://x/p", "/rel", "https://x/q"]


async def test_next_link_to_another_host_is_refused(server, other_server, sleeps):
    server.route("GET", "/l", Reply(200, [], {"Link": f'<{other_server.url}/l?page=2>; rel="next"'}))
    async with HttpClient(server.url, sleep=sleeps) as client:
        with pytest.raises(ConnectorError, match="another host"):
            await collect(client, "/l")
    assert other_server.seen == []


async def test_pagination_loop_is_detected(server, sleeps):
    server.route("GET", "/l", Reply(200, [{"id": 1}], {"Link": '</l?page=2>; rel="next"'}))
    async with HttpClient(server.url, sleep=sleeps) as client:
        with pytest.raises(ConnectorError, match="pagination loop"):
            await collect(client, "/l")


def offset_handler(total_header: bool):
    def handler(seen: Seen) -> Reply:
        offset, limit = int(seen.query["offset"]), int(seen.query["limit"])
        headers = {"X-Total-Count": str(len(ROWS))} if total_header else {}
        return Reply(200, {"users": ROWS[offset : offset + limit]}, headers)

    return handler


@pytest.mark.parametrize("total_header", [True, False])
async def test_offset_limit(server, sleeps, total_header):
    server.route("GET", "/users", offset_handler(total_header))
    strategy = OffsetLimitPaging(limit=3, items_path="users")
    async with HttpClient(server.url, sleep=sleeps) as client:
        pages = await collect(client, "/users", {"filter": "x"}, strategy)
    assert [i["id"] for p in pages for i in p.items] == list(range(1, 8))
    assert [(s.query["offset"], s.query["filter"]) for s in server.seen] == [
        ("0", "x"),
        ("3", "x"),
        ("6", "x"),
    ]
    assert pages[1].state == {"offset": 6}


async def test_offset_limit_stops_at_total_on_a_full_last_page(server, sleeps):
    server.route(
        "GET",
        "/users",
        lambda seen: Reply(200, {"users": ROWS[:6][int(seen.query["offset"]) :][:3]}, {"X-Total-Count": "6"}),
    )
    async with HttpClient(server.url, sleep=sleeps) as client:
        pages = await collect(client, "/users", None, OffsetLimitPaging(limit=3, items_path="users"))
    assert len(pages) == 2 and len(server.seen) == 2


async def test_page_number(server, sleeps):
    def handler(seen: Seen) -> Reply:
        page, size = int(seen.query["page"]), int(seen.query["size"])
        return Reply(200, {"data": {"items": ROWS[(page - 1) * size : page * size]}})

    server.route("GET", "/items", handler)
    strategy = PageNumberPaging(size=2, size_param="size", items_path="data.items")
    async with HttpClient(server.url, sleep=sleeps) as client:
        pages = await collect(client, "/items", None, strategy)
        assert [i["id"] for p in pages for i in p.items] == list(range(1, 8))
        assert [s.query["page"] for s in server.seen] == ["1", "2", "3", "4"]
        again = await collect(client, "/items", None, strategy, resume={"page": 4})
        assert [i["id"] for p in again for i in p.items] == [7]


async def test_cursor_next_token(server, sleeps):
    def handler(seen: Seen) -> Reply:
        start = int(seen.query.get("cursor", "0").removeprefix("c"))
        nxt = f"c{start + 3}" if start + 3 < len(ROWS) else None
        return Reply(200, {"data": ROWS[start : start + 3], "meta": {"next_cursor": nxt}})

    server.route("GET", "/events", handler)
    async with HttpClient(server.url, sleep=sleeps) as client:
        pages = await collect(client, "/events", {"limit": 3}, CursorPaging(token_path="meta.next_cursor"))
    assert [i["id"] for p in pages for i in p.items] == list(range(1, 8))
    assert [s.query.get("cursor") for s in server.seen] == [None, "c3", "c6"]
    assert all(s.query["limit"] == "3" for s in server.seen)
    assert pages[0].state == {"cursor": "c3"} and pages[-1].done


OAI = "http://www.openarchives.org/OAI/2.0/"


def oai_page(ids: list[int], token: str | None) -> bytes:
    records = "".join(f"<record><header><identifier>oai:x:{i}</identifier></header></record>" for i in ids)
    resumption = "" if token is None else f'<resumptionToken completeListSize="5">{token}</resumptionToken>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI}"><responseDate>2026-01-01T00:00:00Z'
        f"</responseDate><ListRecords>{records}{resumption}</ListRecords></OAI-PMH>"
    ).encode()


async def test_oai_pmh_resumption_token(server, sleeps):
    def handler(seen: Seen) -> Reply:
        token = seen.query.get("resumptionToken")
        if token is None:
            assert seen.query == {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "theses"}
            return Reply(200, oai_page([1, 2], "t1"))
        assert set(seen.query) == {"verb", "resumptionToken"}  # exclusive argument
        return Reply(200, oai_page([3, 4], "t2") if token == "t1" else oai_page([5], ""))

    server.route("GET", "/oai", handler)
    async with HttpClient(server.url, sleep=sleeps) as client:
        pages = await collect(client, "/oai", {"set": "theses"}, ResumptionTokenPaging())
    ids = [r.findtext(f"{{{OAI}}}header/{{{OAI}}}identifier") for p in pages for r in p.items]
    assert ids == [f"oai:x:{i}" for i in range(1, 6)]
    assert pages[0].state == {"resumption_token": "t1"} and pages[-1].done


async def test_oai_pmh_no_records_and_errors(server, sleeps):
    error = '<OAI-PMH xmlns="{0}"><error code="{1}">msg</error></OAI-PMH>'
    server.route("GET", "/empty", Reply(200, error.format(OAI, "noRecordsMatch").encode()))
    server.route("GET", "/bad", Reply(200, error.format(OAI, "badResumptionToken").encode()))
    server.route(
        "GET", "/evil", Reply(200, b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    )
    async with HttpClient(server.url, sleep=sleeps) as client:
        pages = await collect(client, "/empty", None, ResumptionTokenPaging())
        assert len(pages) == 1 and list(pages[0].items) == []
        with pytest.raises(ConnectorError, match="badResumptionToken"):
            await collect(client, "/bad", None, ResumptionTokenPaging())
        with pytest.raises(ConnectorError, match="entity declarations"):
            await collect(client, "/evil", None, ResumptionTokenPaging())


async def test_items_not_a_list_is_a_connector_error(server, sleeps):
    server.route("GET", "/x", Reply(200, {"users": "nope"}))
    async with HttpClient(server.url, sleep=sleeps) as client:
        with pytest.raises(ConnectorError, match="expected a list of records"):
            await collect(client, "/x", None, OffsetLimitPaging(items_path="users"))


async def test_max_pages(server, sleeps):
    server.route("GET", "/users", offset_handler(False))
    async with HttpClient(server.url, sleep=sleeps) as client:
        pages = await collect(
            client, "/users", None, OffsetLimitPaging(limit=2, items_path="users"), max_pages=2
        )
    assert len(pages) == 2
