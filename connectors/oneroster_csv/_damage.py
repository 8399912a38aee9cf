"""Rows the csv module cannot give as they are: bytes that are not UTF-8, cells over its field limit.

Both are problems of one row, never of the file: the row becomes a record error naming its true
line and column, and the rest of the file is read.

* Invalid UTF-8. Files are decoded with the ``fediflow-csv`` error handler: Python's
  ``surrogateescape`` (each bad byte becomes one lone surrogate, U+DC80..U+DCFF, and decoding goes
  on), plus a process-wide count of the bytes so replaced. A reader notes the count when it opens
  a file; while it is unchanged no row can hold a surrogate and none is searched (the fast path).
  The text stream decodes ahead of the csv reader, so the count moves before the damaged row is
  parsed: from then on each row of that file is searched.
* A cell over ``csv.field_size_limit()`` (131,072 characters). The csv reader raises for the row
  and goes on with the next line; :class:`LineFinder` reads that line again from a second handle
  on the file (forward only, so at most one extra pass over a file, and only when this happens)
  to name the column.
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ["DECODE_ERRORS", "ERROR_HANDLER", "LineFinder", "bad_text_cell", "invalid_utf8_message", "register"]

ERROR_HANDLER = "fediflow-csv"
#: bytes replaced by the error handler so far, in this process (one counter: compared, never reset)
DECODE_ERRORS = [0]
_SURROGATE = re.compile("[\udc80-\udcff]")
_escape = codecs.lookup_error("surrogateescape")


def _handler(exc: UnicodeError) -> tuple[str, int]:
    if isinstance(exc, UnicodeDecodeError):
        DECODE_ERRORS[0] += exc.end - exc.start
    return _escape(exc)


def register() -> None:
    """Register the ``fediflow-csv`` error handler (idempotent; called before a file is opened)."""
    try:
        codecs.lookup_error(ERROR_HANDLER)
    except LookupError:
        codecs.register_error(ERROR_HANDLER, _handler)


def bad_text_cell(row: Sequence[str]) -> tuple[int, str] | None:
    """The index of the first cell holding a byte that was not UTF-8, and that byte (``0xFF``)."""
    for index, cell in enumerate(row):
        found = _SURROGATE.search(cell)
        if found is not None:
            return index, f"0x{ord(found.group()) - 0xDC00:02X}"
    return None


def invalid_utf8_message(byte: str) -> str:
    return (f"is not valid UTF-8 text (byte {byte}); the row is skipped. Export the file as UTF-8, "
            "or correct that cell")


class LineFinder:
    """Gives physical lines of a file by number, in increasing order, from its own handle."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.line = 0

    def line_text(self, number: int) -> str | None:
        while self.line < number:
            text = self.handle.readline()
            if not text:
                return None
            self.line += 1
            if self.line == number:
                return text
        return None

    def oversized_cell(self, number: int) -> int | None:
        """Index of the first cell of line ``number`` longer than the csv field limit (None: unknown)."""
        text = self.line_text(number)
        if text is None:
            return None
        limit = csv.field_size_limit()
        # The limit is process-wide: raised only for this one synchronous parse, then restored.
        csv.field_size_limit(sys.maxsize)
        try:
            cells = next(csv.reader([text]), [])
        except csv.Error:
            return None
        finally:
            csv.field_size_limit(limit)
        return next((i for i, cell in enumerate(cells) if len(cell) > limit), None)
