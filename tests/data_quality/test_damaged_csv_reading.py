"""What the oneroster_csv connector yields for damaged files: one error per bad row, with its true
line and column, and the rows after it; a file it cannot read stops that stream only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from damage import INVALID_UTF8, NUL, Damaged, break_header, copy_bundle, data_lines, header_only, put_cell

from connectors.oneroster_csv import OneRosterCsvConfig, OneRosterCsvConnector
from hub.sdk import RawRecord, SourceDataError, StreamState


async def read(path: Path, stream: str, **config: Any) -> list[RawRecord]:
    connector = OneRosterCsvConnector(OneRosterCsvConfig(path=str(path), **config))
    try:
        return [record async for record in connector.read(stream, StreamState())]
    finally:
        await connector.aclose()


def errors(records: list[RawRecord]) -> list[tuple[str, str | None]]:
    return [(r.ref, r.field) for r in records if r.error is not None]


@pytest.mark.parametrize("row", [1, 2, 37])
async def test_invalid_utf8_is_an_error_of_its_row_with_the_true_line(clean_bundle: Any, tmp_path: Path,
                                                                     row: int) -> None:
    src, stats = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    hit = put_cell(bundle, "users.csv", row, "familyName", b"M" + INVALID_UTF8 + b"ller")
    records = await read(bundle, "users")
    assert errors(records) == [(hit.ref, "familyName")]
    bad = next(r for r in records if r.error)
    assert "not valid UTF-8" in bad.error and "0xFF" in bad.error and bad.data == {}
    assert len(records) == stats.counts["users"]  # every other row is read
    assert all("\udcff" not in str(r.data) for r in records)


async def test_invalid_utf8_after_a_large_part_of_the_file_names_the_true_line(clean_bundle: Any,
                                                                              tmp_path: Path) -> None:
    """Past the first decoded chunk (256K characters): the line is counted, not estimated."""
    src, _ = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    lines = (bundle / "enrollments.csv").read_bytes().splitlines(keepends=True)
    (bundle / "enrollments.csv").write_bytes(lines[0] + b"".join(lines[1:]) * 30)  # duplicates: fine here
    rows = data_lines(bundle, "enrollments.csv")
    hit = put_cell(bundle, "enrollments.csv", rows - 3, "role", b"stud" + INVALID_UTF8)
    assert (bundle / "enrollments.csv").stat().st_size > 1 << 20
    records = await read(bundle, "enrollments")
    assert errors(records) == [(hit.ref, "role")]
    assert len(records) == rows


async def test_a_cell_over_the_csv_field_limit_is_an_error_of_its_row(clean_bundle: Any, tmp_path: Path) -> None:
    src, stats = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    hit = put_cell(bundle, "users.csv", 3, "middleName", b"x" * (10 << 20))
    records = await read(bundle, "users")
    assert errors(records) == [(hit.ref, "middleName")]
    assert "longer than 131,072 characters" in next(r.error for r in records if r.error)
    assert len(records) == stats.counts["users"]
    assert [r.ref for r in records][-1] == f"users.csv:{stats.counts['users'] + 1}"


async def test_a_nul_is_read_as_it_is(clean_bundle: Any, tmp_path: Path) -> None:
    """The connector passes a NUL on; the engine decides (the same on every database)."""
    src, _ = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    put_cell(bundle, "users.csv", 5, "givenName", b"An" + NUL + b"n")
    records = await read(bundle, "users")
    assert errors(records) == [] and records[4].data["givenName"] == "An\x00n"


async def test_a_header_without_a_required_column_stops_that_stream_and_check_says_so(clean_bundle: Any,
                                                                                     tmp_path: Path) -> None:
    src, _ = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    break_header(bundle, "enrollments.csv", "classSourcedId")
    with pytest.raises(SourceDataError, match="classSourcedId") as info:
        await read(bundle, "enrollments")
    assert info.value.where == "enrollments.csv"
    assert len(await read(bundle, "users")) > 0
    result = await OneRosterCsvConnector(OneRosterCsvConfig(path=str(bundle))).check()
    assert result.ok is True and "enrollments.csv" in result.details["problems"]["enrollments"]


async def test_a_header_only_file_without_a_required_column_is_no_error(clean_bundle: Any, tmp_path: Path) -> None:
    src, _ = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    header_only(bundle, "demographics.csv", drop="sourcedId")
    assert await read(bundle, "demographics") == []
    result = await OneRosterCsvConnector(OneRosterCsvConfig(path=str(bundle))).check()
    assert result.ok is True and result.details["problems"] == {}


def test_damaged_names_the_report_ref() -> None:
    assert Damaged("users.csv", 7, "email", "x").ref == "users.csv:7"
    assert Damaged("roles.csv", None, None, "x").ref == "roles.csv"


async def test_row_damages_in_a_zip_are_found_the_same_way(clean_bundle: Any, tmp_path: Path) -> None:
    import zipfile

    from damage import inject_huge_cell, inject_invalid_utf8

    src, stats = clean_bundle
    bundle = copy_bundle(src, tmp_path / "b")
    huge = inject_huge_cell(bundle, "users.csv", 3, "middleName")
    bad = inject_invalid_utf8(bundle, "users.csv", 9, "email")
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(bundle.iterdir()):
            zf.write(path, f"export/{path.name}")
    records = await read(archive, "users")
    assert errors(records) == [(huge.ref, "middleName"), (bad.ref, "email")]
    assert len(records) == stats.counts["users"]
