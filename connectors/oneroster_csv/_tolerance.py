"""What real SIS exports get wrong that can be read without guessing, each read with a warning.

* An enumeration value in another case (``Scheduled``, ``Active``, ``Teacher``): read as the
  OneRoster value it spells. ``inactive`` (OneRoster 1.0's status, dropped by 1.1 and 1.2) is read
  as ``tobedeleted``, as the hub's OneRoster REST mappings do.
* A date in the source's own format (``1/05/2023``), when the source's config names that format
  (``date_format: "%m/%d/%Y"``): read as the ISO date. Without ``date_format`` such a date stays
  what it is, and the mapping reports the record (a day and a month are never guessed).

Each tolerated value gives the record one warning ``(column, message)``; the message quotes the
value, which is the field in question. Values that match no rule are left alone for the mapping to
judge. A value already right costs one set lookup (enumerations) or one character test (dates).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from schemas.enums import ClassType, EnrollmentRole, OrgType, RoleName, RoleType, SessionType, Sex

__all__ = ["Tolerate", "Note", "tolerance"]

Note = tuple[str | None, str]
Tolerate = Callable[[dict[str, Any]], tuple[Note, ...]]

_STATUS = ("active", "tobedeleted")
_LEGACY_STATUS = {"inactive": "tobedeleted"}


def _values(enum: type[StrEnum], *extra: str) -> tuple[str, ...]:
    return (*(member.value for member in enum), *extra)


#: enumerated columns per file (``status`` is in every file)
_ENUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "orgs": {"type": _values(OrgType)},
    "academicSessions": {"type": _values(SessionType)},
    "classes": {"classType": _values(ClassType)},
    "enrollments": {"role": _values(EnrollmentRole)},
    "demographics": {"sex": _values(Sex)},
    "users": {},
}
#: columns of the roles folded into each user (``roles[i].<column>``)
_ROLE_ENUMS: dict[str, tuple[str, ...]] = {
    "roleType": _values(RoleType),
    "role": _values(RoleName, "administrator"),  # 1.1's administrator: the mapping makes it ext:administrator
}
_DATES: dict[str, tuple[str, ...]] = {
    "academicSessions": ("startDate", "endDate"),
    "enrollments": ("beginDate", "endDate"),
    "demographics": ("birthDate",),
}
_ROLE_DATES = ("beginDate", "endDate")


class _Column:
    """One enumerated column: its values, and the value each case-folded spelling stands for."""

    __slots__ = ("allowed", "folded", "name")

    def __init__(self, name: str, values: Iterable[str], legacy: dict[str, str] | None = None) -> None:
        self.name = name
        self.allowed = frozenset(values)
        self.folded = {value.lower(): value for value in self.allowed} | (legacy or {})

    def fix(self, data: dict[str, Any], label: str, value: Any, out: list[Note]) -> None:
        """Read ``value`` (not an allowed one) as the value it spells, if it spells one."""
        if value.__class__ is not str:
            return
        found = self.folded.get(value.strip().lower())
        if found is None:
            return  # not a spelling of a known value: the mapping reports it
        data[self.name] = found
        if self.name == "status" and value.strip().lower() in _LEGACY_STATUS:
            out.append((label, f"{value!r} read as {found!r} (OneRoster 1.0's inactive; 1.1 and 1.2 know "
                               "active and tobedeleted only)"))
        else:
            out.append((label, f"{value!r} read as {found!r} (OneRoster values are case-sensitive)"))


class _Dates:
    """Date columns read with the source's ``date_format`` when they are not ISO 8601."""

    __slots__ = ("columns", "formats", "timestamp")

    def __init__(self, columns: tuple[str, ...], date_format: str, *, timestamp: bool = False) -> None:
        self.columns = columns
        self.timestamp = timestamp
        self.formats = (date_format, f"{date_format} %H:%M:%S", f"{date_format} %H:%M") if timestamp else (date_format,)

    def check(self, data: dict[str, Any], prefix: str, out: list[Note]) -> None:
        for column in self.columns:
            value = data.get(column)
            if not value or value.__class__ is not str or value[4:5] == "-":
                continue  # empty, or ISO 8601 (the mapping checks the rest)
            text = value.strip()
            for fmt in self.formats:
                try:
                    parsed = datetime.strptime(text, fmt)
                except ValueError:
                    continue
                iso = parsed.isoformat() if self.timestamp and fmt != self.formats[0] else parsed.date().isoformat()
                data[column] = iso
                out.append((prefix + column, f"{value!r} read as {iso!r} with the source's date_format "
                                             f"{self.formats[0]!r}"))
                break


def tolerance(name: str, date_format: str | None) -> Tolerate:
    """The function that tolerates, in place, what :mod:`this module <._tolerance>` describes in a
    record of file ``name`` (after the users' roles are folded in); it returns the warnings."""
    columns = [_Column("status", _STATUS, _LEGACY_STATUS)]
    columns += [_Column(column, values) for column, values in _ENUMS.get(name, {}).items()]
    role_columns = [_Column(column, values) for column, values in _ROLE_ENUMS.items()] if name == "users" else []
    dates = [_Dates(_DATES[name], date_format)] if date_format and name in _DATES else []
    if date_format:
        dates.append(_Dates(("dateLastModified",), date_format, timestamp=True))
    role_dates = _Dates(_ROLE_DATES, date_format) if date_format and name == "users" else None

    checks = [(column.name, column.allowed, column) for column in columns]
    role_checks = [(column.name, column.allowed, column) for column in role_columns]

    def tolerate(data: dict[str, Any]) -> tuple[Note, ...]:
        # the hot path: one dict lookup and one set lookup per enumerated column of a good record
        out: list[Note] = []
        for name, allowed, column in checks:
            value = data.get(name)
            if value and value not in allowed:
                column.fix(data, name, value, out)
        for each in dates:
            each.check(data, "", out)
        if role_checks:
            for index, role in enumerate(data.get("roles") or ()):
                for name, allowed, column in role_checks:
                    value = role.get(name)
                    if value and value not in allowed:
                        column.fix(role, f"roles[{index}].{name}", value, out)
                if role_dates is not None:
                    role_dates.check(role, f"roles[{index}].", out)
        return tuple(out) if out else ()

    if role_checks or dates or len(checks) != 2:
        return tolerate
    (name_a, allowed_a, _), (name_b, allowed_b, _) = checks

    def tolerate_two(data: dict[str, Any]) -> tuple[Note, ...]:
        """Two enumerated columns and no dates (most files): both right costs two lookups, no loop."""
        a, b = data.get(name_a), data.get(name_b)
        if (not a or a in allowed_a) and (not b or b in allowed_b):
            return ()
        return tolerate(data)

    return tolerate_two
