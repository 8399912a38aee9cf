"""Fast, canonical JSON used by the store and the change log (orjson)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

__all__ = ["canonical_bytes", "content_hash", "dumps", "loads"]

_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical_bytes(value: Any) -> bytes:
    """Sorted-key, whitespace-free JSON: the same record always gives the same bytes."""
    return orjson.dumps(value, option=_SORTED)


def content_hash(value: bytes) -> bytes:
    """128-bit BLAKE2b digest of ``value``."""
    return hashlib.blake2b(value, digest_size=16).digest()


def dumps(value: Any) -> str:
    """JSON text of ``value`` (used as the SQLAlchemy json_serializer)."""
    return orjson.dumps(value, option=_SORTED).decode()


loads = orjson.loads
