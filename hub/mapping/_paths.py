"""Dotted paths into a source record: ``name``, ``address.city``, ``roles[0].role``, ``.`` (the record).

A path is parsed once into steps (strings are mapping keys, ints are list indexes) and compiled
into a getter. A getter never raises: a missing key, a wrong type or an index out of range give
``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Getter", "compile_path", "parse_path"]

Getter = Callable[[Any], Any]

_VALID = re.compile(r"^(?:[^.\[\]\s][^.\[\]]*|\[-?\d+\])(?:\.[^.\[\]\s][^.\[\]]*|\[-?\d+\])*$")
_TOKEN = re.compile(r"\[(-?\d+)\]|([^.\[\]]+)")


def parse_path(text: str) -> tuple[str | int, ...]:
    """Parse ``text`` into steps; raise ValueError if it is not a valid path. ``.`` is ``()``."""
    text = text.strip()
    if text == ".":
        return ()
    if not _VALID.match(text):
        raise ValueError(f"{text!r} is not a valid path (use name, a.b, a[0].b or .)")
    return tuple(int(index) if index else key for index, key in _TOKEN.findall(text))


def compile_path(steps: tuple[str | int, ...]) -> Getter:
    """A getter for ``steps``; specialised for the common one- and two-key paths."""
    if not steps:
        return _identity
    if len(steps) == 1 and isinstance(steps[0], str):
        key = steps[0]

        def get_one(record: Any) -> Any:
            try:
                return record.get(key)
            except AttributeError:
                return None

        return get_one
    if len(steps) == 2 and isinstance(steps[0], str) and isinstance(steps[1], str):
        first, second = steps

        def get_two(record: Any) -> Any:
            try:
                return record.get(first).get(second)
            except AttributeError:
                return None

        return get_two

    def get_many(record: Any) -> Any:
        value = record
        for step in steps:
            if value is None:
                return None
            if step.__class__ is int:
                if not isinstance(value, list | tuple) or not -len(value) <= step < len(value):
                    return None
                value = value[step]
            else:
                try:
                    value = value.get(step)
                except AttributeError:
                    return None
        return value

    return get_many


def _identity(record: Any) -> Any:
    return record
