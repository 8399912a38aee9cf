"""``fediflow mappings preview``: a mapping's result on the first records of a real stream."""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import RecordError
from hub.mapping._compiled import CompiledMapping, Tables
from hub.sdk import RawRecord

__all__ = ["PreviewRow", "preview"]


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One previewed record: its source reference and either the canonical data or the error."""

    ref: str
    data: Mapping[str, Any] | None = None
    field: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def preview(
    mapping: CompiledMapping,
    records: AsyncIterable[RawRecord],
    limit: int,
    tables: Tables | None = None,
) -> list[PreviewRow]:
    """Map and validate the first ``limit`` records; each row has the JSON-ready canonical dict
    (``model_dump(mode="json", by_alias=True, exclude_none=True)``) or the field and message of
    its error. The iterator is closed after ``limit`` records. Mappings with lookups need
    ``tables`` (otherwise those fields report a missing lookup table)."""
    rows: list[PreviewRow] = []
    if limit <= 0:
        return rows
    iterator = aiter(records)
    try:
        async for raw in iterator:
            rows.append(preview_one(mapping, raw, tables))
            if len(rows) >= limit:
                break
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    return rows


def preview_one(mapping: CompiledMapping, raw: RawRecord, tables: Tables | None = None) -> PreviewRow:
    if raw.error is not None:
        return PreviewRow(raw.ref, error=raw.error)
    try:
        model = mapping.validate(raw.data, tables)
    except RecordError as exc:
        return PreviewRow(raw.ref, field=exc.field, error=exc.message)
    return PreviewRow(raw.ref, data=model.model_dump(mode="json", by_alias=True, exclude_none=True))
