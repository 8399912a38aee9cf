"""Crontab expressions with crontab's meaning, translated to APScheduler 3 triggers.

APScheduler 3's ``CronTrigger`` numbers days of the week from Monday (0 = Monday), and its
``from_crontab`` passes the field through unchanged, so ``0 2 * * 0`` would fire on Mondays. Here
a schedule means what crontab(5) says:

* five fields ``minute hour day-of-month month day-of-week`` (or six, with seconds first);
* day of week ``0``-``7`` with 0 and 7 both Sunday, or names ``sun``..``sat``; lists, ranges
  (``1-5`` is Monday to Friday, ``5-7`` Friday to Sunday) and steps (``*/2``, ``1-5/2``);
  translated into an explicit list of day names, which APScheduler reads unambiguously;
* months ``1``-``12`` or ``jan``..``dec``;
* when both day-of-month and day-of-week are restricted (neither is ``*``), a day matches if
  *either* does (``0 0 13 * 5``: every 13th and every Friday), as in crontab;
* the macros ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``)
  and ``@hourly``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from hub.errors import ConfigurationError

__all__ = ["cron_trigger", "crontab_day_of_week"]

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}


def _day(token: str, expr: str) -> int:
    token = token.strip().lower()
    if token in _DAYS:
        return _DAYS.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)  # 7 stays 7 inside a range (5-7), folded to Sunday afterwards
    raise ConfigurationError(f"invalid cron expression {expr!r}: day of week {token!r} is not 0-7 or sun..sat")


def crontab_day_of_week(field: str, expr: str = "") -> str:
    """A crontab day-of-week field as APScheduler day names (``"1-5"`` -> ``"mon,tue,wed,thu,fri"``)."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        base, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
        except ValueError:
            step = 0
        if step < 1:
            raise ConfigurationError(f"invalid cron expression {expr!r}: bad step in {item!r}")
        if base in ("*", "?"):
            first, last = 0, 6
        elif "-" in base:
            low, _, high = base.partition("-")
            first, last = _day(low, expr), _day(high, expr)
            if first > last:
                raise ConfigurationError(f"invalid cron expression {expr!r}: range {base!r} runs backwards")
        else:
            first = _day(base, expr)
            last = 6 if step_text else first  # "1/2": from Monday on, every other day
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def _fields(expr: str) -> list[str]:
    text = expr.strip()
    text = _MACROS.get(text.lower(), text)
    fields = text.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ConfigurationError(f"invalid cron expression {expr!r}: five or six fields expected")
    return fields


def cron_trigger(expr: str, timezone: tzinfo, start: datetime | None = None) -> Any:
    """The APScheduler 3 trigger that fires when crontab would fire ``expr`` in ``timezone``."""
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

    second, minute, hour, day, month, dow = _fields(expr)
    weekdays = crontab_day_of_week(dow, expr)

    def make(day_field: str, dow_field: str) -> Any:
        return CronTrigger(second=second, minute=minute, hour=hour, day=day_field, month=month,
                           day_of_week=dow_field, start_date=start, timezone=timezone)

    try:
        if day not in ("*", "?") and dow not in ("*", "?"):  # crontab: either day field matches
            return OrTrigger([make(day, "*"), make("*", weekdays)])
        return make("*" if day == "?" else day, weekdays)
    except ValueError as exc:
        raise ConfigurationError(f"invalid cron expression {expr!r}: {exc}") from None
