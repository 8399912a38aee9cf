"""Safe XML parsing for connectors (OAI-PMH, SOAP-ish SIS exports, library feeds).

Upstream XML is untrusted: a document may declare entities to expand into gigabytes (billion
laughs) or to pull in local files or URLs (XXE). :func:`parse_xml` uses one hardened lxml parser
configuration and refuses any document that declares entities at all; education data never needs
them.
"""

from __future__ import annotations

import re

from lxml import etree

from hub.errors import ConnectorError

__all__ = ["parse_xml"]

# An entity declaration in an internal DTD subset, tolerant of whitespace and case games.
_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_MAX_SNIPPET = 120


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not safe to share between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_pis=True,
    )


def _refuse(where: str) -> ConnectorError:
    return ConnectorError(
        f"refused XML with entity declarations{where}: entities can expand without bound or read "
        "local files, and no supported source needs them",
        retryable=False,
    )


def parse_xml(data: bytes, *, source: str = "") -> etree._Element:
    """Parse ``data`` into an lxml element, refusing DTD entity declarations.

    ``source`` (a redacted URL or file name) only goes into error messages. Raises
    :class:`~hub.errors.ConnectorError` (not retryable) for entity declarations and for
    malformed XML. Entities are never resolved, no DTD is loaded, nothing is fetched from the
    network and lxml's size limits stay on.
    """
    where = f" from {source}" if source else ""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("parse_xml() takes bytes, as read from the wire or the file")
    # Cheap pre-scan for the common (UTF-8/ASCII) case, before lxml sees anything.
    if _ENTITY_DECL.search(data):
        raise _refuse(where)
    try:
        root = etree.fromstring(bytes(data), parser=_parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc)[:_MAX_SNIPPET]
        raise ConnectorError(f"invalid XML{where}: {message}", retryable=False) from None
    # Second line of defence for encodings the byte scan cannot see (UTF-16, UTF-32 ...).
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise _refuse(where)
    return root
