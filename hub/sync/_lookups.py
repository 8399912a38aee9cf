"""Lookup tables for mappings that look values up in another stream of the same source."""

from __future__ import annotations

from typing import Any

from hub.sdk import Connector, StreamState

__all__ = ["build_lookup_tables"]


async def build_lookup_tables(connector: Connector, mapping: Any) -> dict[Any, dict[str, Any]]:
    """Read each stream the mapping looks into once and index it with its LookupSpec.

    Only the (key, value) pairs are kept, never the other stream's records; a later record wins
    on a duplicate key (as ``hub.mapping.build_lookup_table``).
    """
    tables: dict[Any, dict[str, Any]] = {}
    for spec in mapping.lookups:
        table: dict[str, Any] = {}
        async for record in connector.read(spec.stream, StreamState(full_refresh=True)):
            if record.error is None:
                pair = spec.entry(record.data)
                if pair is not None:
                    table[pair[0]] = pair[1]
        tables[spec] = table
    return tables
