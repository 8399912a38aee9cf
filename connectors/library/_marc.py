"""MARCXML (MARC 21 slim) bibliographic records to the flat Dublin Core shaped dict.

Follows the Library of Congress "MARC to Dublin Core Crosswalk" (unqualified), with the few
choices it leaves open made explicit:

========== ==========================================================================
title      245 $a $b $f $g $k $n $p $s (trailing ISBD punctuation " /", " :" removed)
creator    100, 110, 111 $a $b $c $d $q; 700, 710, 711, 720 without a relator, or "author"/"aut"
contributor 700, 710, 711, 720 with another relator ($e "editor", $4 "edt" ...)
subject    600, 610, 611, 630, 650, 653 (subdivisions $v $x $y $z joined with " -- ")
description 500-599 $a except 506, 530, 540, 546 (520 summaries included)
publisher  260 $a $b, 264 (second indicator 1) $a $b
date       260 $c, 264 (second indicator 1) $c, else 008/07-10
type       leader/06 (a, c, d, t: Text; e, f: Image; g, k: Image; i, j: Sound; m: Software;
           o, p: Collection; r: PhysicalObject), 655 $a
format     856 $q
identifier 020 $a (ISBN), 022 $a (ISSN), 010 $a (LCCN), 024 $a with $2 doi (DOI), 856 $u (URI)
language   008/35-37, 041 $a
relation   530 $a, 760-787 $t
coverage   651, 662, 751, 752 $a
rights     506 $a, 540 $a
source     534 $t
========== ==========================================================================

The flat dict also carries ``controlNumber`` (001) and ``controlNumberIdentifier`` (003).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree

from connectors.library._dc import _isbn_digits, empty_flat, typed_identifiers

__all__ = ["MARC_NS", "marc_records", "marc_to_flat"]

MARC_NS = "http://www.loc.gov/MARC21/slim"
_M = f"{{{MARC_NS}}}"

_LEADER_TYPE = {
    "a": "Text", "c": "Text", "d": "Text", "t": "Text",
    "e": "Image", "f": "Image", "g": "Image", "k": "Image",
    "i": "Sound", "j": "Sound", "m": "Software",
    "o": "Collection", "p": "Collection", "r": "PhysicalObject",
}  # fmt: skip
_CREATOR_RELATORS = {"aut", "cre"}
_TRAILING = re.compile(r"[\s/:;,=.]+$")


def _clean(text: str) -> str:
    """Collapse whitespace and drop ISBD punctuation at the end (``"Title /"`` -> ``"Title"``)."""
    text = " ".join(text.split())
    stripped = _TRAILING.sub("", text)
    # keep a final period of an abbreviation ("Inc.", "ed.") and of initials ("Smith, J.")
    if text.endswith(".") and re.search(r"(?:\b[A-Z]|\b[a-z]{1,3})\.$", text):
        return text
    return stripped or text


class _Field:
    __slots__ = ("ind1", "ind2", "subfields", "tag")

    def __init__(self, element: etree._Element) -> None:
        self.tag = element.get("tag", "")
        self.ind1 = element.get("ind1", " ")
        self.ind2 = element.get("ind2", " ")
        self.subfields = [
            (sub.get("code", ""), " ".join("".join(sub.itertext()).split()))
            for sub in element.iterfind(f"{_M}subfield")
        ]

    def values(self, codes: str) -> list[str]:
        return [value for code, value in self.subfields if code in codes and value]

    def first(self, codes: str) -> str | None:
        found = self.values(codes)
        return found[0] if found else None

    def joined(self, codes: str, sep: str = " ") -> str:
        return _clean(sep.join(self.values(codes)))


def marc_records(root: etree._Element) -> Iterator[etree._Element]:
    """The ``<record>`` elements of a MARCXML document (a ``<collection>`` or a single record)."""
    if root.tag == f"{_M}record":
        yield root
    else:
        yield from root.iter(f"{_M}record")


def _subject(field: _Field) -> str:
    main = " ".join(value for code, value in field.subfields if code in "abcdq" and value)
    subdivisions = [value for code, value in field.subfields if code in "vxyz" and value]
    return _clean(" -- ".join([_clean(main), *map(_clean, subdivisions)]) if main else " -- ".join(subdivisions))


def _relator(field: _Field) -> str | None:
    codes = [v.lower().strip(". ") for v in field.values("4")]
    terms = [v.lower().strip(",. ") for v in field.values("e")]
    if not codes and not terms:
        return None
    if any(c in _CREATOR_RELATORS for c in codes) or any(t.startswith(("author", "creator")) for t in terms):
        return "creator"
    return "contributor"


def _add(flat: dict[str, Any], key: str, values: Iterable[str | None]) -> None:
    for value in values:
        if value and value not in flat[key]:
            flat[key].append(value)


def marc_to_flat(record: etree._Element) -> dict[str, Any]:
    """The flat dict of one MARCXML ``<record>`` (see the module docstring for the crosswalk)."""
    flat = empty_flat()
    identifiers: list[dict[str, str]] = []
    leader = record.findtext(f"{_M}leader") or ""
    control = {cf.get("tag", ""): cf.text or "" for cf in record.iterfind(f"{_M}controlfield")}
    fields = [_Field(df) for df in record.iterfind(f"{_M}datafield")]
    flat["controlNumber"] = control.get("001", "").strip() or None
    flat["controlNumberIdentifier"] = control.get("003", "").strip() or None
    fixed = control.get("008", "")

    for field in fields:
        tag = field.tag
        if tag == "245":
            _add(flat, "title", [field.joined("abfgknps")])
        elif tag in ("100", "110", "111"):
            _add(flat, "creator", [field.joined("abcdq")])
        elif tag in ("700", "710", "711", "720"):
            _add(flat, _relator(field) or "creator", [field.joined("abcdq")])
        elif tag in ("600", "610", "611", "630", "650", "653"):
            _add(flat, "subject", [_subject(field)])
        elif tag in ("651", "662", "751", "752"):
            _add(flat, "coverage", [_clean(v) for v in field.values("a")])
        elif tag == "655":
            _add(flat, "type", [_clean(v) for v in field.values("a")])
        elif tag in ("506", "540"):
            _add(flat, "rights", field.values("a"))
        elif tag == "530":
            _add(flat, "relation", field.values("a"))
        elif tag == "546":
            continue
        elif tag == "534":
            _add(flat, "source", field.values("t"))
        elif tag.startswith("5"):
            _add(flat, "description", field.values("a"))
        elif tag == "260" or (tag == "264" and field.ind2 == "1"):
            place, name = field.first("a"), field.values("b")
            if name:
                _add(flat, "publisher", [_clean(" ".join(filter(None, [place, *name])))])
            _add(flat, "date", [_clean(v).strip("[]") for v in field.values("c")])
        elif "760" <= tag <= "787":
            _add(flat, "relation", [_clean(v) for v in field.values("t")])
        elif tag == "856":
            _add(flat, "format", field.values("q"))
            identifiers += [{"type": "uri", "value": v} for v in field.values("u")]
        elif tag == "020":
            for value in field.values("a"):
                raw = value.split(" ")[0]
                identifiers.append({"type": "isbn", "value": _isbn_digits(raw) or raw})
        elif tag == "022":
            identifiers += [{"type": "issn", "value": v.split(" ")[0]} for v in field.values("a")]
        elif tag == "010":
            identifiers += [{"type": "lccn", "value": v.strip()} for v in field.values("a")]
        elif tag == "024" and (field.first("2") or "").lower() == "doi":
            identifiers += [{"type": "doi", "value": v} for v in field.values("a")]
        elif tag == "041":
            _add(flat, "language", field.values("a"))

    if not flat["date"] and len(fixed) >= 11 and fixed[7:11].strip().isdigit():
        flat["date"].append(fixed[7:11])
    language = fixed[35:38] if len(fixed) >= 38 else ""
    if language.strip(" |") and language not in flat["language"]:
        flat["language"].insert(0, language)
    if len(leader) > 6 and leader[6] in _LEADER_TYPE:
        flat["type"].insert(0, _LEADER_TYPE[leader[6]])
    flat["identifiers"] = typed_identifiers(identifiers)
    flat["identifier"] = [item["value"] for item in flat["identifiers"]]
    return flat
