"""The ``LibraryItem`` canonical type: one catalogue or repository record, Dublin Core based.

The fifteen Dublin Core elements (https://www.dublincore.org/specifications/dublin-core/dces/) are
all optional and repeatable. Here the ones catalogues routinely repeat are lists (``creators``,
``contributors``, ``subjects``, ``identifiers``), the others hold one value (the shipped mappings
take the first one, or join descriptions). ``identifiers`` are typed (ISBN, ISSN, DOI, URI ...)
so consumers need not guess. A LibraryItem is catalogue data, never personal: ``personal = False``.
A record deleted upstream (OAI-PMH ``status="deleted"``) has no metadata left, hence no field is
required beyond ``sourcedId``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from schemas import CanonicalRecord

__all__ = ["IdentifierType", "ItemIdentifier", "LibraryItem"]


class IdentifierType(StrEnum):
    """What kind of identifier an :class:`ItemIdentifier` is."""

    isbn = "isbn"
    issn = "issn"
    doi = "doi"
    uri = "uri"
    lccn = "lccn"
    other = "other"


class ItemIdentifier(BaseModel):
    """One identifier of the item: ``{"type": "isbn", "value": "9780262033848"}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: IdentifierType
    value: str


class LibraryItem(CanonicalRecord):
    """A book, article, thesis, dataset ... as a library catalogue or repository describes it."""

    oneroster_type: ClassVar[str] = "libraryItem"
    personal: ClassVar[bool] = False

    title: str | None = None
    creators: list[str] | None = None
    contributors: list[str] | None = None
    subjects: list[str] | None = None
    description: str | None = None
    publisher: str | None = None
    date: str | None = None
    type: str | None = None
    format: str | None = None
    identifiers: list[ItemIdentifier] | None = None
    source: str | None = None
    language: str | None = None
    relation: str | None = None
    coverage: str | None = None
    rights: str | None = None
