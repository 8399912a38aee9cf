"""Text the store cannot hold, found before a record is written, the same way on every database.

PostgreSQL refuses U+0000 (NUL) in ``text`` and ``jsonb`` (SQLite would take it), and no database
takes a lone surrogate (U+D800..U+DFFF, which is not Unicode text: orjson and pydantic refuse to
encode it; the engine catches that on the raw record and on the canonical one).
A record holding either is a record error naming the field, on SQLite as on PostgreSQL, and the
rest of the batch is written. The check costs one search for a backslash in the encoded record
(JSON writes a NUL as ``\\u0000``); the field is looked for only when the escape is there.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NUL_ESCAPE", "NUL_MESSAGE", "SURROGATE_MESSAGE", "find_text", "nul_field", "surrogate_field"]

NUL_MESSAGE = "contains a NUL character (U+0000), which the store cannot hold; the record is skipped"
SURROGATE_MESSAGE = "contains text that is not valid Unicode (a lone surrogate); the record is skipped"
NUL_ESCAPE = b"\\u0000"


def find_text(value: Any, bad: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or dict key) in ``value`` for which ``bad(text)`` holds."""
    if isinstance(value, str):
        return (path or None) if bad(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and bad(key):
                return where
            found = find_text(item, bad, where)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_text(item, bad, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _has_nul(text: str) -> bool:
    return "\x00" in text


def _has_surrogate(text: str) -> bool:
    return not text.isascii() and any("\ud800" <= ch <= "\udfff" for ch in text)


def nul_field(encoded: bytes, mapped: Any) -> str | None:
    """The field of ``mapped`` holding a NUL, when its JSON ``encoded`` holds one; else None.

    (A text holding a backslash and ``u0000`` encodes to the same six bytes after a backslash: the
    field search tells the two apart.)
    """
    if NUL_ESCAPE not in encoded:
        return None
    return find_text(mapped, _has_nul) or ("" if NUL_ESCAPE in encoded.replace(b"\\\\", b"") else None)


def surrogate_field(mapped: Any) -> str | None:
    """The field of ``mapped`` holding a lone surrogate (after pydantic refused to encode it)."""
    return find_text(mapped, _has_surrogate)
