"""One harvested record (OAI-PMH ``<record>`` or SRU ``<recordData>``) to the flat dict of a RawRecord."""

from __future__ import annotations

from typing import Any

from lxml import etree

from connectors.library._dc import DC_NS, dc_to_flat
from connectors.library._marc import MARC_NS, marc_to_flat
from connectors.library._oai import OAI_NS

__all__ = ["UnsupportedFormat", "metadata_to_flat", "oai_record_to_flat"]

_O = f"{{{OAI_NS}}}"


class UnsupportedFormat(ValueError):
    """The metadata is neither Dublin Core nor MARCXML."""


def metadata_to_flat(container: etree._Element) -> dict[str, Any]:
    """The flat dict of the first Dublin Core or MARCXML record under ``container``."""
    for child in container:
        if not isinstance(child.tag, str):
            continue
        namespace = etree.QName(child).namespace
        if namespace == MARC_NS:
            record = child if etree.QName(child).localname == "record" else child.find(f"{{{MARC_NS}}}record")
            if record is not None:
                flat = marc_to_flat(record)
                flat["format_of_record"] = "marcxml"
                return flat
        if namespace == DC_NS or child.find(f"{{{DC_NS}}}*") is not None:
            flat = dc_to_flat(child if namespace != DC_NS else container)
            flat["format_of_record"] = "dc"
            return flat
        names = f"{{{namespace}}}{etree.QName(child).localname}" if namespace else etree.QName(child).localname
        raise UnsupportedFormat(f"metadata in {names} is neither Dublin Core nor MARCXML")
    raise UnsupportedFormat("the record has no metadata")


def oai_record_to_flat(record: etree._Element, metadata_prefix: str) -> dict[str, Any]:
    """The flat dict of an OAI-PMH ``<record>``: ``header``, ``status`` and the metadata's elements.

    ``status`` is ``tobedeleted`` for a header with ``status="deleted"`` (which has no metadata).
    Raises :class:`UnsupportedFormat` for metadata the helpers cannot read.
    """
    header = record.find(f"{_O}header")
    if header is None:
        raise UnsupportedFormat("the record has no header")
    deleted = header.get("status") == "deleted"
    data: dict[str, Any] = {
        "header": {
            "identifier": " ".join((header.findtext(f"{_O}identifier") or "").split()),
            "datestamp": (header.findtext(f"{_O}datestamp") or "").strip(),
            "setSpec": [(s.text or "").strip() for s in header.iterfind(f"{_O}setSpec")],
            "deleted": deleted,
        },
        "status": "tobedeleted" if deleted else "active",
        "metadataPrefix": metadata_prefix,
    }
    if deleted:
        return data
    metadata = record.find(f"{_O}metadata")
    if metadata is None:
        raise UnsupportedFormat("the record has no metadata and is not marked deleted")
    data.update(metadata_to_flat(metadata))
    return data
