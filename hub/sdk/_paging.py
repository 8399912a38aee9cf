"""Pagination strategies for :meth:`HttpClient.paginate <hub.sdk.HttpClient.paginate>`.

A strategy turns (path, params, saved state) into the first :class:`PageRequest`, and each
response into that page's items plus the next request (``None`` at the end). Each request carries
``state``: the small JSON-serialisable dict that resumes pagination at that page, which
:class:`Page` hands to the connector so it can be saved in the stream state.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

import httpx

from hub.errors import ConnectorError
from hub.sdk._xml import parse_xml

__all__ = [
    "Cursor",
    "CursorPaging",
    "LinkHeaderPaging",
    "OffsetLimitPaging",
    "Page",
    "PageNumberPaging",
    "PageRequest",
    "PagingStrategy",
    "ResponseInfo",
    "ResumptionTokenPaging",
    "parse_link_header",
]

log = logging.getLogger("fediflow.sdk")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page to fetch: a path or absolute URL, its query parameters and the state resuming there."""

    url: str
    params: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """What a connector may want to know about the response of a page (URL redacted, no cookies)."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    elapsed_ms: float


@dataclass(frozen=True, slots=True)
class Page:
    """One page of results.

    ``items`` are the page's records (dicts for JSON, lxml elements for OAI-PMH), ``state`` resumes
    pagination *after* this page (``{}`` once the last page is read: ``done`` is then ``True``).
    """

    items: Sequence[Any]
    info: ResponseInfo
    state: Mapping[str, Any]
    number: int

    @property
    def records(self) -> Sequence[Any]:
        return self.items

    @property
    def done(self) -> bool:
        return not self.state


class PagingStrategy(Protocol):
    """What :meth:`HttpClient.paginate` needs from a pagination strategy."""

    def first(self, path: str, params: Mapping[str, Any], resume: Mapping[str, Any] | None) -> PageRequest:
        """The first request, or the one ``resume`` (a saved :attr:`Page.state`) points at."""
        ...

    def parse(
        self, response: httpx.Response, request: PageRequest
    ) -> tuple[Sequence[Any], PageRequest | None]:
        """The items of ``response`` and the next request, ``None`` after the last page."""
        ...


# --- helpers ------------------------------------------------------------------------------------


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        raise ConnectorError(
            f"expected JSON, got {kind} (HTTP {response.status_code})", retryable=False
        ) from None


def dig(document: Any, path: str | Sequence[str] | None) -> Any:
    """The value at a dotted ``path`` (``"meta.next"``) or key sequence in a JSON document, or ``None``."""
    if path is None:
        return document
    keys = path.split(".") if isinstance(path, str) else path
    for key in keys:
        if isinstance(document, Mapping):
            document = document.get(key)
        elif isinstance(document, list) and key.isdigit() and int(key) < len(document):
            document = document[int(key)]
        else:
            return None
    return document


def _items(document: Any, path: str | Sequence[str] | None) -> list[Any]:
    found = dig(document, path)
    if found is None and path is not None and isinstance(document, Mapping):
        return []  # an empty page often omits the list entirely
    if not isinstance(found, list):
        where = f"at {path!r}" if path else "as the response body (set items_path)"
        raise ConnectorError(
            f"expected a list of records {where}, got {type(found).__name__}", retryable=False
        )
    return found


# RFC 8288: link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,\s=]+(?:\s*=\s*(?:\"(?:[^\"\\]|\\.)*\"|[^;,\s]*))?)*)")
_PARAM = re.compile(r";\s*([^;,\s=]+)(?:\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;,\s]*))?")


def parse_link_header(values: str | Sequence[str]) -> list[tuple[str, dict[str, str]]]:
    """Parse ``Link`` header values (RFC 8288) into ``(uri, params)`` pairs, params lower-cased.

    Commas inside ``<...>`` or quoted strings are handled; several header lines may be given.
    """
    links: list[tuple[str, dict[str, str]]] = []
    for value in [values] if isinstance(values, str) else values:
        for match in _LINK.finditer(value):
            params: dict[str, str] = {}
            for name, raw in _PARAM.findall(match.group(2)):
                name = name.lower().rstrip("*")
                if raw.startswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                params.setdefault(name, raw)
            links.append((match.group(1).strip(), params))
    return links


def next_link(response: httpx.Response) -> str | None:
    """The target of the ``rel="next"`` link of ``response``, resolved against its URL."""
    for uri, params in parse_link_header(response.headers.get_list("link")):
        if "next" in params.get("rel", "").lower().split():
            return str(response.url.join(uri))
    return None


# --- strategies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkHeaderPaging:
    """Follow ``Link: <...>; rel="next"`` (RFC 8288; Canvas, GitHub). The next URL carries every parameter."""

    items_path: str | None = None

    def first(self, path: str, params: Mapping[str, Any], resume: Mapping[str, Any] | None) -> PageRequest:
        if resume and resume.get("next_url"):
            return PageRequest(str(resume["next_url"]), {}, dict(resume))
        return PageRequest(path, dict(params))

    def parse(
        self, response: httpx.Response, request: PageRequest
    ) -> tuple[Sequence[Any], PageRequest | None]:
        items = _items(_json(response), self.items_path)
        url = next_link(response)
        return items, PageRequest(url, {}, {"next_url": url}) if url else None


@dataclass(frozen=True)
class OffsetLimitPaging:
    """``?limit=100&offset=200``; ends on a short or empty page, or at ``X-Total-Count`` when sent."""

    limit: int = 100
    items_path: str | None = None
    limit_param: str = "limit"
    offset_param: str = "offset"
    total_header: str | None = "X-Total-Count"

    def _at(self, path: str, params: Mapping[str, Any], offset: int) -> PageRequest:
        query = {**params, self.limit_param: self.limit, self.offset_param: offset}
        return PageRequest(path, query, {"offset": offset})

    def first(self, path: str, params: Mapping[str, Any], resume: Mapping[str, Any] | None) -> PageRequest:
        return self._at(path, params, int((resume or {}).get("offset", 0)))

    def parse(
        self, response: httpx.Response, request: PageRequest
    ) -> tuple[Sequence[Any], PageRequest | None]:
        items = _items(_json(response), self.items_path)
        offset = int(request.state["offset"]) + len(items)
        total = response.headers.get(self.total_header) if self.total_header else None
        if (
            len(items) < self.limit
            or not items
            or (total is not None and total.isdigit() and offset >= int(total))
        ):
            return items, None
        params = {k: v for k, v in request.params.items() if k not in (self.limit_param, self.offset_param)}
        return items, self._at(request.url, params, offset)


@dataclass(frozen=True)
class PageNumberPaging:
    """``?page=3&per_page=100``; ends on an empty or short page, or at ``total_pages_path`` when given."""

    size: int | None = 100
    items_path: str | None = None
    page_param: str = "page"
    size_param: str | None = "per_page"
    first_page: int = 1
    total_pages_path: str | None = None

    def _at(self, path: str, params: Mapping[str, Any], page: int) -> PageRequest:
        query = {**params, self.page_param: page}
        if self.size_param and self.size:
            query[self.size_param] = self.size
        return PageRequest(path, query, {"page": page})

    def first(self, path: str, params: Mapping[str, Any], resume: Mapping[str, Any] | None) -> PageRequest:
        return self._at(path, params, int((resume or {}).get("page", self.first_page)))

    def parse(
        self, response: httpx.Response, request: PageRequest
    ) -> tuple[Sequence[Any], PageRequest | None]:
        document = _json(response)
        items = _items(document, self.items_path)
        page = int(request.state["page"])
        total = dig(document, self.total_pages_path) if self.total_pages_path else None
        if not items or (self.size and len(items) < self.size) or (isinstance(total, int) and page >= total):
            return items, None
        params = {k: v for k, v in request.params.items() if k not in (self.page_param, self.size_param)}
        return items, self._at(request.url, params, page + 1)


@dataclass(frozen=True)
class CursorPaging:
    """A next token in the body (``{"data": [...], "meta": {"next_cursor": "abc"}}``) sent back as a parameter.

    Ends when the token is missing, empty or null. With ``token_is_url`` the value is the next URL
    itself (Microsoft Graph ``@odata.nextLink``: give ``token_path=("@odata.nextLink",)``).
    """

    token_path: str | Sequence[str] = "next_cursor"
    items_path: str | None = "data"
    cursor_param: str = "cursor"
    token_is_url: bool = False

    def first(self, path: str, params: Mapping[str, Any], resume: Mapping[str, Any] | None) -> PageRequest:
        token = (resume or {}).get("cursor")
        if token is None:
            return PageRequest(path, dict(params))
        return self._after(path, params, str(token))

    def _after(self, path: str, params: Mapping[str, Any], token: str) -> PageRequest:
        if self.token_is_url:
            return PageRequest(token, {}, {"cursor": token})
        return PageRequest(path, {**params, self.cursor_param: token}, {"cursor": token})

    def parse(
        self, response: httpx.Response, request: PageRequest
    ) -> tuple[Sequence[Any], PageRequest | None]:
        document = _json(response)
        items = _items(document, self.items_path)
        token = dig(document, self.token_path)
        if token in (None, "") or token == request.state.get("cursor"):
            return items, None
        params = {k: v for k, v in request.params.items() if k != self.cursor_param}
        return items, self._after(request.url, params, str(token))


OAI_NS = "http://www.openarchives.org/OAI/2.0/"


@dataclass(frozen=True)
class ResumptionTokenPaging:
    """OAI-PMH 2.0 list requests: follow ``<resumptionToken>`` until it is empty or absent.

    The first request sends ``verb``, ``metadataPrefix`` and the caller's ``set``/``from``/``until``;
    the following ones only ``verb`` and ``resumptionToken`` (it is an exclusive argument). Items
    are the ``<record>`` (or ``<header>`` for ListIdentifiers) elements; ``noRecordsMatch`` is an
    empty result, any other OAI-PMH ``<error>`` a :class:`~hub.errors.ConnectorError`.
    """

    verb: str = "ListRecords"
    metadata_prefix: str = "oai_dc"

    @property
    def _item_tag(self) -> str:
        return {"ListIdentifiers": "header", "ListSets": "set", "ListMetadataFormats": "metadataFormat"}.get(
            self.verb, "record"
        )

    def first(self, path: str, params: Mapping[str, Any], resume: Mapping[str, Any] | None) -> PageRequest:
        token = (resume or {}).get("resumption_token")
        if token:
            return PageRequest(
                path, {"verb": self.verb, "resumptionToken": token}, {"resumption_token": token}
            )
        query: dict[str, Any] = {"verb": self.verb, **params}
        if self.verb in ("ListRecords", "ListIdentifiers"):
            query.setdefault("metadataPrefix", self.metadata_prefix)
        return PageRequest(path, query)

    def parse(
        self, response: httpx.Response, request: PageRequest
    ) -> tuple[Sequence[Any], PageRequest | None]:
        root = parse_xml(response.content, source=f"OAI-PMH {self.verb}")
        ns = {"oai": OAI_NS}
        error = root.find("oai:error", ns)
        if error is not None:
            code = error.get("code", "")
            if code == "noRecordsMatch":
                return [], None
            raise ConnectorError(f"OAI-PMH error {code}: {(error.text or '').strip()[:200]}", retryable=False)
        items = root.findall(f"oai:{self.verb}/oai:{self._item_tag}", ns)
        token_el = root.find(f"oai:{self.verb}/oai:resumptionToken", ns)
        token = (token_el.text or "").strip() if token_el is not None else ""
        if not token:
            return items, None
        return items, PageRequest(
            request.url, {"verb": self.verb, "resumptionToken": token}, {"resumption_token": token}
        )


# --- incremental cursors ------------------------------------------------------------------------


class Cursor:
    """A high-water mark kept in ``StreamState.cursor[key]``, so connectors don't hand-roll one.

    ::

        cursor = Cursor(state, "updated_since")
        since = cursor.start()            # None on a first or full read, else the saved mark
        params = {"updated_since": since} if since else {}
        async for item in cursor.track(items_of(params), lambda r: r["updated_at"]):
            yield RawRecord(item, ref=...)
        cursor.finish()

    :meth:`start` marks the read as a delta (``state.complete = False``) when it resumes from a
    mark. :meth:`advance` moves the mark only while values arrive in ascending order, *after* the
    record was yielded, so a mark saved with any batch never passes a record not yet handed over;
    once a value goes backwards the mark stays put for the rest of the read (a warning is logged)
    and :meth:`finish` sets it to the highest value seen, safe once every record was read.
    Upstream filters should be inclusive (``>=``): a record read twice is harmless (the engine
    compares content hashes), a record skipped is lost.
    """

    def __init__(self, state: Any, key: str = "since") -> None:
        self.state = state
        self.key = key
        self._last: Any = None
        self._highest: Any = None
        self._highest_value: Any = None
        #: False once a value went backwards during this read
        self.in_order = True

    @property
    def value(self) -> Any:
        """The saved mark, ``None`` when there is none or the engine asked for a full refresh."""
        return None if self.state.full_refresh else self.state.cursor.get(self.key)

    def start(self) -> Any:
        since = self.value
        self.state.complete = since is None
        return since

    @staticmethod
    def _comparable(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return value
        return value

    @staticmethod
    def _stored(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    def advance(self, value: Any) -> None:
        """Record that the record with ``value`` (a datetime, ISO string or number) has been yielded."""
        if value is None:
            return
        current = self._comparable(value)
        try:
            backwards = self._last is not None and current < self._last
            higher = self._highest is None or current > self._highest
        except TypeError:
            raise ConnectorError(
                f"cursor {self.key!r}: values of different types cannot be compared"
            ) from None
        self._last = current
        if higher:
            self._highest, self._highest_value = current, value
        if backwards and self.in_order:
            self.in_order = False
            log.warning("cursor values out of order; mark frozen for this read", extra={"cursor": self.key})
        if self.in_order and higher:
            self.state.cursor[self.key] = self._stored(value)

    async def track(self, items: AsyncIterator[T], value_of: Callable[[T], Any]) -> AsyncIterator[T]:
        """Yield ``items`` and advance the mark after each one was taken."""
        async for item in items:
            yield item
            self.advance(value_of(item))

    def finish(self) -> None:
        """Call after the whole query was read: the mark becomes the highest value seen."""
        if self._highest is not None:
            self.state.cursor[self.key] = self._stored(self._highest_value)
