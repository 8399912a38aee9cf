"""Type coercions of rule values (``type: int`` ...) and the error they raise.

Coercions raise :class:`ValueProblem`, which carries what is wrong and, separately, the value; the
rule that called them decides whether the value may appear in the record error (it never does
for a field whose name says password, secret or token).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

__all__ = ["COERCIONS", "ValueProblem", "is_sensitive", "text", "to_bool", "to_int", "to_float"]

_SENSITIVE = ("password", "secret", "token")

_TRUE = frozenset({"true", "1", "yes", "y", "t", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "off"})


def is_sensitive(name: str) -> bool:
    """Whether a field or path name says it holds a secret (password, secret, token)."""
    lowered = name.lower()
    return any(word in lowered for word in _SENSITIVE)


class ValueProblem(Exception):
    """A value could not be turned into what a rule needs. ``reason`` never contains the value."""

    def __init__(self, reason: str, value: Any = None, *, show: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value
        self.show = show

    def render(self, redact: bool) -> str:
        if redact or not self.show:
            return self.reason
        shown = repr(self.value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"{self.reason}: {shown}"


def text(value: Any) -> str:
    """The text of a scalar: booleans as ``true``/``false``, others through ``str``."""
    if value.__class__ is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict | list | tuple):
        raise ValueProblem("expected a single value, got a " + type(value).__name__, show=False)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def to_str(value: Any) -> str:
    return text(value)


def to_int(value: Any) -> int:
    if value.__class__ is int:
        return value
    if isinstance(value, bool):
        raise ValueProblem("expected an integer, got a boolean", value)
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueProblem("not a whole number", value)
    if isinstance(value, str):
        stripped = value.strip()
        try:
            return int(stripped)
        except ValueError:
            try:
                number = float(stripped)
            except ValueError:
                raise ValueProblem("not a valid integer", value) from None
            if number.is_integer():
                return int(number)
            raise ValueProblem("not a whole number", value) from None
    raise ValueProblem(f"expected an integer, got a {type(value).__name__}", show=False)


def to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueProblem("expected a number, got a boolean", value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueProblem("not a valid number", value) from None
    raise ValueProblem(f"expected a number, got a {type(value).__name__}", show=False)


def to_bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueProblem("not a boolean (use true/false, 1/0, yes/no)", value)
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise ValueProblem("not a boolean (use true/false, 1/0, yes/no)", value)


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        try:
            if len(stripped) > 10:
                return datetime.fromisoformat(stripped).date()
            return date.fromisoformat(stripped)
        except ValueError:
            raise ValueProblem("not an ISO 8601 date (YYYY-MM-DD)", value) from None
    raise ValueProblem(f"expected a date, got a {type(value).__name__}", show=False)


def to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueProblem("not an ISO 8601 date-time", value) from None
    else:
        raise ValueProblem(f"expected a date-time, got a {type(value).__name__}", show=False)
    if result.tzinfo is None:
        return result.replace(tzinfo=UTC)
    return result.astimezone(UTC)


def to_list(value: Any) -> list[Any]:
    if value.__class__ is list:
        return value
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return [value]


#: scalar coercions by ``type:`` name (``list`` and ``list[<scalar>]`` are built from these)
COERCIONS: dict[str, Callable[[Any], Any]] = {
    "str": to_str,
    "int": to_int,
    "float": to_float,
    "bool": to_bool,
    "date": to_date,
    "datetime": to_datetime,
}
