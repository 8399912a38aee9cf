"""The ``sru`` connector: records matching a CQL query from an SRU 1.2 or 2.0 server (searchRetrieve).

Pages are requested with ``startRecord``/``maximumRecords`` and followed through the response's
``nextRecordPosition`` (absent on the last page). A fatal ``<diagnostics>`` answer is a
:class:`SruError` naming the diagnostic URI and message; a surrogate diagnostic in place of one
record becomes one record error, and the harvest goes on. Records come as MARCXML or Dublin Core
and are flattened like OAI-PMH records, so the same mapping shape serves both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import httpx
from lxml import etree
from pydantic import Field

from connectors.library._oai import PAGE_MAX_BYTES
from connectors.library._records import UnsupportedFormat, metadata_to_flat
from hub.sdk import (
    CheckResult,
    ConnectorConfig,
    ConnectorError,
    ConnectorKind,
    HttpConnector,
    HttpSourceConfig,
    PageRequest,
    RawRecord,
    StreamSpec,
    StreamState,
    parse_xml,
)

__all__ = ["SruConfig", "SruConnector", "SruError", "SruPaging", "parse_page"]

#: response namespaces: SRU 1.1/1.2 (LoC "zing") and SRU 2.0 (OASIS searchRetrieve)
SRU_NAMESPACES = ("http://www.loc.gov/zing/srw/", "http://docs.oasis-open.org/ns/search-ws/sruResponse")
DIAG_NAMESPACES = ("http://www.loc.gov/zing/srw/diagnostic/", "http://docs.oasis-open.org/ns/search-ws/diagnostic")


class SruError(ConnectorError):
    """A fatal SRU diagnostic; ``uri`` is its identifier (``info:srw/diagnostic/1/10``)."""

    def __init__(self, uri: str, message: str, details: str) -> None:
        extra = f" ({details})" if details else ""
        super().__init__(
            f"SRU diagnostic {uri}: {message or 'no message'}{extra}",
            retryable=uri.endswith(("/1/1", "/1/2")),  # general system error, system temporarily unavailable
        )
        self.uri = uri


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for namespace in SRU_NAMESPACES:
        found = element.find(f"{{{namespace}}}{name}")
        if found is not None:
            return found
    return None


def _text(element: etree._Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _diagnostic(node: etree._Element) -> tuple[str, str, str]:
    def part(name: str) -> str:
        for namespace in DIAG_NAMESPACES:
            found = node.find(f"{{{namespace}}}{name}")
            if found is not None:
                return _text(found)
        return ""

    return part("uri"), part("message"), part("details")


def _diagnostics(container: etree._Element | None) -> list[etree._Element]:
    if container is None:
        return []
    return [d for ns in DIAG_NAMESPACES for d in container.iterfind(f"{{{ns}}}diagnostic")]


@dataclass(frozen=True, slots=True)
class SruItem:
    """One ``<record>`` of a page: its position and data element, or the surrogate diagnostic."""

    position: int | None
    schema: str
    data: etree._Element | None
    diagnostic: tuple[str, str, str] | None


@dataclass(frozen=True)
class SruPaging:
    """searchRetrieve paging by ``startRecord`` and the response's ``nextRecordPosition``."""

    maximum_records: int = 50

    def first(self, path: str, params: Mapping[str, Any], resume: Mapping[str, Any] | None) -> PageRequest:
        start = int((resume or {}).get("start", 1))
        return PageRequest(path, {**params, "startRecord": start, "maximumRecords": self.maximum_records}, {"start": start})

    def parse(self, response: httpx.Response, request: PageRequest) -> tuple[Sequence[Any], PageRequest | None]:
        page = parse_page(response.content)
        start = int(request.state.get("start", 1))
        following = page.next_position
        if following is None or following <= start or not page.items:
            return page.items, None
        return page.items, PageRequest(request.url, {**request.params, "startRecord": following}, {"start": following})


@dataclass(frozen=True, slots=True)
class SruPage:
    items: list[SruItem]
    total: int | None
    next_position: int | None


def parse_page(content: bytes) -> SruPage:
    """One searchRetrieve response: its records, ``numberOfRecords`` and ``nextRecordPosition``.

    Raises :class:`SruError` for a fatal diagnostic and ConnectorError for a non-SRU document.
    """
    root = parse_xml(content, source="SRU searchRetrieve")
    if etree.QName(root).localname != "searchRetrieveResponse":
        raise ConnectorError(
            f"SRU: the response is not a searchRetrieveResponse (root element {etree.QName(root).localname!r}); "
            "is base_url the SRU endpoint?",
            retryable=False,
        )
    fatal = _diagnostics(_child(root, "diagnostics"))
    if fatal:
        raise SruError(*_diagnostic(fatal[0]))
    total_text = _text(_child(root, "numberOfRecords"))
    total = int(total_text) if total_text.isdigit() else None
    items = []
    records = _child(root, "records")
    for record in records if records is not None else ():
        if not isinstance(record.tag, str) or etree.QName(record).localname != "record":
            continue
        position_text = _text(_child(record, "recordPosition"))
        data = _child(record, "recordData")
        if data is not None and len(data) == 0 and (data.text or "").strip().startswith("<"):
            # recordPacking=string: the record is escaped XML text, parsed as safely as the page
            data = _wrap(parse_xml((data.text or "").strip().encode(), source="SRU recordData"))
        surrogate = _diagnostics(data) if data is not None else []
        items.append(
            SruItem(
                int(position_text) if position_text.isdigit() else None,
                _text(_child(record, "recordSchema")),
                data,
                _diagnostic(surrogate[0]) if surrogate else None,
            )
        )
    next_text = _text(_child(root, "nextRecordPosition"))
    return SruPage(items, total, int(next_text) if next_text.isdigit() else None)


def _wrap(element: etree._Element) -> etree._Element:
    holder = etree.Element("recordData")
    holder.append(element)
    return holder


class SruConfig(HttpSourceConfig):
    """The SRU endpoint (``base_url``, e.g. ``http://lx2.loc.gov:210/lcdb``) and the CQL query to harvest."""

    query: str = Field(min_length=1, description="CQL query, e.g. dc.subject = \"dinosaurs\" or bath.isbn = 9780262033848.")
    record_schema: str = Field(default="marcxml", min_length=1, description="marcxml, dc, or the server's name for them.")
    version: Literal["1.1", "1.2", "2.0"] = "1.2"
    maximum_records: int = Field(default=50, ge=1, le=1000, description="Records per page (maximumRecords).")
    max_response_bytes: int = Field(default=PAGE_MAX_BYTES, ge=1024,
                                    description="Largest searchRetrieve page read, in bytes (16 MiB).")


class SruConnector(HttpConnector[SruConfig]):
    """SRU searchRetrieve harvester; one stream, ``records``, of LibraryItem."""

    name: ClassVar[str] = "sru"
    kind: ClassVar[ConnectorKind] = ConnectorKind.LIBRARY
    title: ClassVar[str] = "SRU searchRetrieve (library catalogues)"
    config_model: ClassVar[type[ConnectorConfig]] = SruConfig

    def __init__(self, config: SruConfig) -> None:
        super().__init__(config)

    headers: ClassVar[Mapping[str, str]] = {"Accept": "text/xml, application/xml;q=0.9, */*;q=0.5"}

    def streams(self) -> Sequence[StreamSpec]:
        return (StreamSpec("records", "LibraryItem", "Records matching the configured CQL query."),)

    def _params(self) -> dict[str, Any]:
        settings = self.config
        params: dict[str, Any] = {"version": settings.version, "query": settings.query, "recordSchema": settings.record_schema}
        if settings.version == "2.0":
            params["recordXMLEscaping"] = "xml"
        else:
            params["operation"] = "searchRetrieve"
            params["recordPacking"] = "xml"
        return params

    async def check(self) -> CheckResult:
        where = self.client.redact_url(self.config.base_url)
        try:
            body = await self.client.get_bytes(
                self.config.base_url, {**self._params(), "startRecord": 1, "maximumRecords": 0}
            )
            page = parse_page(body)
        except ConnectorError as exc:
            return CheckResult(False, f"SRU endpoint {where}: {exc.message}", {"base_url": where})
        matches = f"{page.total} records" if page.total is not None else "an unknown number of records"
        return CheckResult(
            True,
            f"SRU {self.config.version} endpoint {where} answers; the query matches {matches}",
            {"base_url": where, "version": self.config.version, "number_of_records": page.total},
        )

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        if stream != "records":
            raise ConnectorError(f"unknown stream {stream!r} of connector sru (known: records)")
        state.complete = True
        strategy = SruPaging(maximum_records=self.config.maximum_records)
        async for page in self.client.paginate(self.config.base_url, self._params(), strategy):
            for item in page.items:
                where = f"{page.info.url} record {item.position or '?'}"
                if item.diagnostic is not None:
                    uri, message, details = item.diagnostic
                    yield RawRecord({"recordPosition": item.position}, ref=where, error=f"SRU diagnostic {uri}: {message} {details}".strip())
                    continue
                if item.data is None:
                    yield RawRecord({"recordPosition": item.position}, ref=where, error="the record has no recordData")
                    continue
                try:
                    data = metadata_to_flat(item.data)
                except UnsupportedFormat as exc:
                    yield RawRecord({"recordPosition": item.position}, ref=where, error=str(exc))
                    continue
                data["recordPosition"] = item.position
                data["recordSchema"] = item.schema
                data["id"] = _record_id(data)
                yield RawRecord(data, ref=f"{data['id'] or '?'} ({where})")


def _record_id(data: Mapping[str, Any]) -> str | None:
    """A stable id: MARC 001 (prefixed by 003 when present), else the first typed identifier."""
    control = data.get("controlNumber")
    if control:
        prefix = data.get("controlNumberIdentifier")
        return f"({prefix}){control}" if prefix else str(control)
    for item in data.get("identifiers") or ():
        return f"{item['type']}:{item['value']}"
    return None

