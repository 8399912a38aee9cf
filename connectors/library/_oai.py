"""The OAI-PMH 2.0 protocol layer: requests, ``<error>`` codes, Identify, ListRecords paging.

Only the six protocol verbs exist; every response is parsed with the SDK's hardened
:func:`~hub.sdk.parse_xml` (no entities, no DTD, no network, no huge trees). An ``<error>`` in a
response becomes an :class:`OaiError` naming the code, with what to do about it, except
``noRecordsMatch`` on a list request, which is an empty list (protocol section 3.6).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from lxml import etree

from hub.sdk import ConnectorError, HttpClient, Page, PageRequest, ResumptionTokenPaging, parse_xml

__all__ = [
    "OAI_NS",
    "OaiError",
    "OaiPaging",
    "PAGE_MAX_BYTES",
    "RepositoryInfo",
    "ListInfo",
    "format_datestamp",
    "list_records",
    "normalise_datestamp",
    "oai_request",
    "parse_identify",
]

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_O = f"{{{OAI_NS}}}"
DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"

#: what each OAI-PMH error code (section 3.6) means for the person configuring the source
_ADVICE = {
    "badArgument": "the request had an illegal or missing argument (check from/until/set in the source's config)",
    "badResumptionToken": "the repository no longer knows the resumption token (it expired or the "
    "repository restarted); the next run starts the list again",
    "badVerb": "the repository does not know this verb: is base_url the OAI-PMH endpoint?",
    "cannotDisseminateFormat": "the repository does not offer this metadata format (check metadata_prefix)",
    "idDoesNotExist": "the repository has no item with this identifier",
    "noMetadataFormats": "the repository offers no metadata format for this item",
    "noRecordsMatch": "no record matches the from/until/set arguments",
    "noSetHierarchy": "the repository does not support sets (remove set_spec)",
}
#: errors that a later run may not hit again
_RETRYABLE = frozenset({"badResumptionToken"})
#: default cap of one response of the library connectors (``max_response_bytes``): a page is parsed
#: whole into an lxml tree, several times the size of its bytes (docs/connectors/oai-pmh.md)
PAGE_MAX_BYTES = 16 * 1024 * 1024


class OaiError(ConnectorError):
    """An OAI-PMH ``<error code="...">`` answer; ``code`` is the protocol's error code."""

    def __init__(self, code: str, text: str, verb: str) -> None:
        advice = _ADVICE.get(code, "unknown OAI-PMH error code")
        detail = f" ({text})" if text else ""
        super().__init__(f"OAI-PMH {verb}: error {code}{detail}: {advice}", retryable=code in _RETRYABLE)
        self.oai_code = code


def _check_root(root: etree._Element, verb: str) -> None:
    if root.tag != f"{_O}OAI-PMH":
        raise ConnectorError(
            f"OAI-PMH {verb}: the response is not an OAI-PMH document (root element "
            f"{etree.QName(root).localname!r}); is base_url the OAI-PMH endpoint?",
            retryable=False,
        )
    errors = root.findall(f"{_O}error")
    if errors:
        first = errors[0]
        raise OaiError(first.get("code", ""), " ".join((first.text or "").split())[:200], verb)


async def oai_request(client: HttpClient, path: str, verb: str, **arguments: str) -> etree._Element:
    """One OAI-PMH request; the parsed ``<OAI-PMH>`` root, or :class:`OaiError`."""
    body = await client.get_bytes(path, {"verb": verb, **arguments})
    root = parse_xml(body, source=f"OAI-PMH {verb}")
    _check_root(root, verb)
    return root


@dataclass(frozen=True, slots=True)
class RepositoryInfo:
    """What an Identify response says (section 4.2)."""

    name: str
    base_url: str
    protocol_version: str
    earliest_datestamp: str
    deleted_record: str
    granularity: str
    admin_emails: tuple[str, ...]


def parse_identify(root: etree._Element) -> RepositoryInfo:
    node = root.find(f"{_O}Identify")
    if node is None:
        raise ConnectorError("OAI-PMH Identify: the response has no <Identify> element", retryable=False)

    def text(name: str) -> str:
        return " ".join((node.findtext(f"{_O}{name}") or "").split())

    return RepositoryInfo(
        name=text("repositoryName"),
        base_url=text("baseURL"),
        protocol_version=text("protocolVersion"),
        earliest_datestamp=text("earliestDatestamp"),
        deleted_record=text("deletedRecord"),
        granularity=text("granularity") or DAY,
        admin_emails=tuple(" ".join((e.text or "").split()) for e in node.iterfind(f"{_O}adminEmail")),
    )


def normalise_datestamp(value: str) -> str:
    """A datestamp of either granularity as ``YYYY-MM-DDThh:mm:ssZ`` (days start at midnight UTC)."""
    value = value.strip()
    if len(value) == 10:
        return f"{value}T00:00:00Z"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_datestamp(value: str | date | datetime, granularity: str) -> str:
    """``value`` in the repository's granularity, as ``from``/``until`` must be sent (section 3.3.1)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        moment = datetime.fromisoformat(normalise_datestamp(value))
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ" if granularity == SECONDS else "%Y-%m-%d")


@dataclass(frozen=True, slots=True)
class ListInfo:
    """The ``<resumptionToken>`` attributes of a page (section 3.5): all optional."""

    token: str
    complete_list_size: int | None
    cursor: int | None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


@dataclass(frozen=True)
class OaiPaging(ResumptionTokenPaging):
    """:class:`~hub.sdk.ResumptionTokenPaging` with :class:`OaiError` for ``<error>`` answers.

    Items are ``(record element, ListInfo | None)`` pairs, so a connector can report progress
    (``cursor`` of ``completeListSize``).
    """

    def parse(
        self, response: httpx.Response, request: PageRequest
    ) -> tuple[Sequence[Any], PageRequest | None]:
        root = parse_xml(response.content, source=f"OAI-PMH {self.verb}")
        try:
            _check_root(root, self.verb)
        except OaiError as exc:
            if exc.oai_code == "noRecordsMatch":
                return [], None
            raise
        listing = root.find(f"{_O}{self.verb}")
        if listing is None:
            raise ConnectorError(f"OAI-PMH {self.verb}: the response has no <{self.verb}> element", retryable=False)
        token_el = listing.find(f"{_O}resumptionToken")
        token = " ".join((token_el.text or "").split()) if token_el is not None else ""
        info = (
            ListInfo(token, _int(token_el.get("completeListSize")), _int(token_el.get("cursor")))
            if token_el is not None
            else None
        )
        items = [(record, info) for record in listing.iterfind(f"{_O}{self._item_tag}")]
        if not token:
            return items, None
        return items, PageRequest(request.url, {"verb": self.verb, "resumptionToken": token}, {"resumption_token": token})


async def list_records(
    client: HttpClient, path: str, metadata_prefix: str, arguments: Mapping[str, str]
) -> AsyncIterator[Page]:
    """The pages of a ListRecords request, following resumption tokens."""
    strategy = OaiPaging(verb="ListRecords", metadata_prefix=metadata_prefix)
    async for page in client.paginate(path, dict(arguments), strategy):
        yield page
