"""Dublin Core records (OAI-PMH ``oai_dc``, SRU ``dc``) to the flat dict both connectors yield.

The flat dict has one key per Dublin Core element (``title``, ``creator`` ... ``rights``), each a
list of strings (empty elements dropped), plus ``identifiers``: the ``identifier`` values typed as
ISBN, ISSN, DOI, URI, LCCN or other (see :func:`classify_identifier`). MARCXML records are turned
into the same shape (:mod:`connectors.library._marc`), so one mapping serves both formats.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

__all__ = ["DC_ELEMENTS", "DC_NS", "classify_identifier", "dc_to_flat", "empty_flat", "typed_identifiers"]

DC_NS = "http://purl.org/dc/elements/1.1/"
DC_ELEMENTS = (
    "title",
    "creator",
    "subject",
    "description",
    "publisher",
    "contributor",
    "date",
    "type",
    "format",
    "identifier",
    "source",
    "language",
    "relation",
    "coverage",
    "rights",
)

_DOI = re.compile(r"^(?:doi:\s*|info:doi/|https?://(?:dx\.)?doi\.org/)(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_BARE_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_ISBN_PREFIX = re.compile(r"^(?:urn:isbn:|isbn[:\s]*)", re.IGNORECASE)
_ISSN_PREFIX = re.compile(r"^(?:urn:issn:|issn[:\s]*)", re.IGNORECASE)
_ISSN = re.compile(r"^\d{4}-?\d{3}[\dXx]$")
_URI = re.compile(r"^(?:https?|ftp|urn|info):\S+$", re.IGNORECASE)


def _isbn_digits(text: str) -> str | None:
    digits = re.sub(r"[\s-]", "", text)
    if re.fullmatch(r"\d{9}[\dXx]", digits):
        total = sum((10 - i) * (10 if c in "Xx" else int(c)) for i, c in enumerate(digits))
        return digits.upper() if total % 11 == 0 else None
    if re.fullmatch(r"97[89]\d{10}", digits):
        total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(digits))
        return digits if total % 10 == 0 else None
    return None


def classify_identifier(value: str) -> dict[str, str]:
    """``{"type": ..., "value": ...}`` for one identifier string.

    DOIs (``doi:``, ``info:doi/``, ``https://doi.org/`` or bare ``10.x/y``) keep only the DOI;
    ISBNs (``ISBN``/``urn:isbn:`` prefix, or a bare ISBN-10/13 with a valid check digit) and ISSNs
    (with a prefix) keep their digits; other ``http(s)``/``urn``/``info`` values are URIs; the
    rest is ``other``, unchanged.
    """
    text = " ".join(value.split())
    match = _DOI.match(text)
    if match:
        return {"type": "doi", "value": match.group(1)}
    if _BARE_DOI.match(text):
        return {"type": "doi", "value": text}
    if _ISBN_PREFIX.match(text):
        rest = _ISBN_PREFIX.sub("", text).split(" ")[0]
        return {"type": "isbn", "value": _isbn_digits(rest) or rest}
    if _ISSN_PREFIX.match(text):
        return {"type": "issn", "value": _ISSN_PREFIX.sub("", text).split(" ")[0].upper()}
    isbn = _isbn_digits(text)
    if isbn:
        return {"type": "isbn", "value": isbn}
    if _URI.match(text):
        return {"type": "uri", "value": text}
    return {"type": "other", "value": text}


def typed_identifiers(values: list[dict[str, str]]) -> list[dict[str, str]]:
    """Drop duplicates, keep the order."""
    seen: set[tuple[str, str]] = set()
    out = []
    for item in values:
        key = (item["type"], item["value"])
        if item["value"] and key not in seen:
            seen.add(key)
            out.append(item)
    return out


def empty_flat() -> dict[str, Any]:
    flat: dict[str, Any] = {name: [] for name in DC_ELEMENTS}
    flat["identifiers"] = []
    return flat


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def dc_to_flat(container: etree._Element) -> dict[str, Any]:
    """The flat dict of a Dublin Core container (``oai_dc:dc``, ``srw_dc:dc`` ...).

    Reads every ``http://purl.org/dc/elements/1.1/`` child, whatever the wrapper's namespace.
    """
    flat = empty_flat()
    for child in container.iter(f"{{{DC_NS}}}*"):
        name = etree.QName(child).localname
        if name in flat and name != "identifiers":
            text = _text(child)
            if text:
                flat[name].append(text)
    flat["identifiers"] = typed_identifiers([classify_identifier(v) for v in flat["identifier"]])
    return flat
