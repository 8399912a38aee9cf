"""Damaged OneRoster CSV bundles, for tests of what the hub does with bad real-world input.

Each function changes one file of a bundle folder in place (make the copy with :func:`copy_bundle`)
and returns where the damage is, as the report must name it: the file, the true 1-based line of
the file and the OneRoster column (None for a damage of the whole file). Works on the bytes, so a
damage can be something no text editor would write (a NUL, an invalid UTF-8 byte, a 10 MB cell).

Imported by module name (test folders are not packages)::

    from damage import copy_bundle, inject_nul

    bundle = copy_bundle(generated, tmp_path / "b")
    hit = inject_nul(bundle, "users.csv", row=5, column="givenName")
    ...  # sync; then the report has one error with ref hit.ref and field hit.field

Row damages (one record error, or one warning, expected): :func:`inject_nul`,
:func:`inject_invalid_utf8`, :func:`inject_huge_cell`, :func:`enum_in_another_case`,
:func:`us_date`, and :func:`put_cell` for any bytes. File damages (that stream stops, or a warning
once per file): :func:`break_header`, :func:`header_only`, :func:`trailing_empty_columns`,
:func:`rename_column`, :func:`zip_with_bad_crc`.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "INVALID_UTF8",
    "NUL",
    "Damaged",
    "break_header",
    "copy_bundle",
    "data_lines",
    "enum_in_another_case",
    "header_only",
    "inject_huge_cell",
    "inject_invalid_utf8",
    "inject_nul",
    "put_cell",
    "rename_column",
    "trailing_empty_columns",
    "us_date",
    "zip_with_bad_crc",
]

NUL = b"\x00"
#: a byte that never occurs in UTF-8
INVALID_UTF8 = b"\xff"


@dataclass(frozen=True, slots=True)
class Damaged:
    """One damage: ``file`` (``users.csv``), its 1-based ``line``, the column (``field``) at fault."""

    file: str
    line: int | None
    field: str | None
    what: str

    @property
    def ref(self) -> str:
        """The record reference the run report gives (``users.csv:42``)."""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


def copy_bundle(src: Path, dst: Path) -> Path:
    """A copy of the bundle folder ``src`` at ``dst`` (to damage)."""
    shutil.copytree(src, dst)
    return dst


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _cells(line: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(line.decode("utf-8-sig"))))


def _line_of(cells: list[str], ending: bytes) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue().encode() + ending


def _ending(line: bytes) -> bytes:
    return line[len(line.rstrip(b"\r\n")):] or b"\n"


def data_lines(bundle: Path, file: str) -> int:
    """How many data rows ``file`` has (one physical line each in a generated bundle)."""
    return sum(1 for line in _lines(bundle / file)[1:] if line.strip())


def put_cell(bundle: Path, file: str, row: int, column: str, value: bytes, what: str = "") -> Damaged:
    """Set ``column`` of data row ``row`` (1-based; line ``row + 1``) of ``file`` to the raw bytes ``value``.

    The other cells are written back as CSV; ``value`` goes in unquoted, byte for byte (so it must
    hold no comma, quote or newline).
    """
    path = bundle / file
    lines = _lines(path)
    header = _cells(lines[0])
    at = header.index(column)
    cells = _cells(lines[row])
    marker = "\x1fDAMAGE\x1f"
    cells[at] = marker
    lines[row] = _line_of(cells, _ending(lines[row])).replace(marker.encode(), value)
    path.write_bytes(b"".join(lines))
    return Damaged(file, row + 1, column, what or f"{column} set to {value[:20]!r}")


def rename_column(bundle: Path, file: str, column: str, new_name: str, values: dict[str, str] | None = None) -> Damaged:
    """Rename the header cell ``column`` (a vendor's spelling); ``values`` replaces cells by old value."""
    path = bundle / file
    lines = _lines(path)
    header = _cells(lines[0])
    at = header.index(column)
    header[at] = new_name
    lines[0] = _line_of(header, _ending(lines[0]))
    if values:
        for i in range(1, len(lines)):
            if not lines[i].strip():
                continue
            cells = _cells(lines[i])
            if cells[at] in values:
                cells[at] = values[cells[at]]
                lines[i] = _line_of(cells, _ending(lines[i]))
    path.write_bytes(b"".join(lines))
    return Damaged(file, None, new_name, f"column {column} renamed {new_name}")


def break_header(bundle: Path, file: str, column: str) -> Damaged:
    """Drop ``column`` (a required one) from the header and every row of ``file``: a file-level problem."""
    path = bundle / file
    lines = _lines(path)
    at = _cells(lines[0]).index(column)
    out = []
    for line in lines:
        if not line.strip():
            out.append(line)
            continue
        cells = _cells(line)
        del cells[at]
        out.append(_line_of(cells, _ending(line)))
    path.write_bytes(b"".join(out))
    return Damaged(file, None, column, f"required column {column} missing")


def header_only(bundle: Path, file: str, drop: str | None = None) -> Damaged:
    """Make ``file`` hold its header only (no rows), without ``drop`` when given (a public 1.1 sample)."""
    path = bundle / file
    lines = _lines(path)
    cells = _cells(lines[0])
    if drop is not None:
        cells.remove(drop)
    path.write_bytes(_line_of(cells, _ending(lines[0])))
    return Damaged(file, None, drop, "header only")


def trailing_empty_columns(bundle: Path, file: str, extra: int = 2) -> Damaged:
    """Add ``extra`` empty cells to the end of the header only (rows keep their width): "expected
    11 cells, got 9" on every row before the hub tolerated it."""
    path = bundle / file
    lines = _lines(path)
    lines[0] = lines[0].rstrip(b"\r\n") + b"," * extra + _ending(lines[0])
    path.write_bytes(b"".join(lines))
    return Damaged(file, 1, None, f"{extra} empty header cells")


def zip_with_bad_crc(bundle: Path, dst: Path, file: str) -> Damaged:
    """Zip ``bundle`` (stored, uncompressed) to ``dst`` with one byte of ``file`` changed after the
    checksum was taken: every row reads, then the member fails its CRC check at its end."""
    import zipfile

    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(bundle.iterdir()):
            zf.write(path, path.name)
    raw = bytearray(dst.read_bytes())
    content = (bundle / file).read_bytes()
    at = raw.index(content) + len(content) // 2
    while raw[at] in b",\r\n\"":
        at += 1
    raw[at] = ord("Q") if raw[at] != ord("Q") else ord("R")
    dst.write_bytes(bytes(raw))
    return Damaged(file, None, None, "bad CRC")


def inject_nul(bundle: Path, file: str, row: int, column: str) -> Damaged:
    """A NUL (U+0000) inside the value of ``column``: a record error on every database."""
    return put_cell(bundle, file, row, column, b"An" + NUL + b"n", "NUL character")


def inject_invalid_utf8(bundle: Path, file: str, row: int, column: str) -> Damaged:
    """A byte that is not UTF-8 (0xFF) inside the value of ``column``: an error of that row only."""
    return put_cell(bundle, file, row, column, b"M" + INVALID_UTF8 + b"ller", "invalid UTF-8")


def inject_huge_cell(bundle: Path, file: str, row: int, column: str, size: int = 10 << 20) -> Damaged:
    """A ``size``-character value (10 MB by default; the csv module's limit is 131,072)."""
    return put_cell(bundle, file, row, column, b"x" * size, f"{size:,}-character cell")


def enum_in_another_case(bundle: Path, file: str, row: int, column: str, value: str) -> Damaged:
    """``value`` in title case (``Scheduled`` for ``scheduled``): kept, with one warning."""
    return put_cell(bundle, file, row, column, value[:1].upper().encode() + value[1:].encode(), "enum case")


def us_date(bundle: Path, file: str, row: int, column: str) -> Damaged:
    """``1/05/2023`` (month/day/year): a warning with ``date_format: "%m/%d/%Y"``, else a record error."""
    return put_cell(bundle, file, row, column, b"1/05/2023", "US date")
