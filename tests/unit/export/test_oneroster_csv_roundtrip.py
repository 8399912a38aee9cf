"""Round trip: generated bundle -> connector -> shipped mappings -> canonical -> write_bundle -> same canonical.

Proves that the exporter's column conversions are the exact inverse of what the connector and the
shipped mappings (mappings/oneroster_csv/) produce.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.oneroster_csv import OneRosterCsvConfig, OneRosterCsvConnector
from hub.demo import generate_bundle
from hub.export import write_bundle
from hub.sdk import StreamState

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"
STREAMS = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")

pytestmark = pytest.mark.skipif(
    not all((MAPPINGS / "oneroster_csv" / f"{s}.yaml").is_file() for s in STREAMS),
    reason="shipped mappings mappings/oneroster_csv/*.yaml not there yet",
)


async def canonical(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every record of the bundle, mapped with the shipped mappings and validated, as JSON dicts."""
    from hub.mapping import MappingRegistry, build_lookup_table
    from schemas import BUILTIN_TYPES

    registry = MappingRegistry([MAPPINGS], BUILTIN_TYPES)
    conn = OneRosterCsvConnector(OneRosterCsvConfig(path=str(path)))
    raw: dict[str, list[Any]] = {}
    for stream in STREAMS:
        raw[stream] = [r async for r in conn.read(stream, StreamState())]
        assert all(r.error is None for r in raw[stream]), stream
    await conn.aclose()
    out: dict[str, list[dict[str, Any]]] = {}
    for stream in STREAMS:
        mapping = registry.get("oneroster_csv", stream)
        tables = {spec: build_lookup_table(spec, (r.data for r in raw[spec.stream])) for spec in mapping.lookups}
        out[mapping.target] = [
            mapping.validate(r.data, tables).model_dump(mode="json", by_alias=True, exclude_none=True)
            for r in raw[stream]
        ]
    return out


@pytest.mark.parametrize("version", ["1.2", "1.1"])
async def test_round_trip_is_lossless(tmp_path: Path, version: str) -> None:
    source = generate_bundle(tmp_path / "src.zip", 700, seed=5, version=version, zip=True)
    first = await canonical(source.path)
    assert sum(len(v) for v in first.values()) > 700
    written = write_bundle(tmp_path / "out.zip", first, version=version)
    second = await canonical(written.path)
    for type_name, records in first.items():
        assert second[type_name] == records, type_name
    # and once more through a folder, to be sure nothing depends on the container
    again = write_bundle(tmp_path / "out", second, version=version)
    assert await canonical(again.path) == first
