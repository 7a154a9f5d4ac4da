"""The days an expression fires on, counted and indexed without walking them day by day.

A day is an integer: days since 1970-01-01. Three shapes: every day and some weekdays are plain
arithmetic; anything that depends on the calendar (days of the month, months, ``L``, ``W``,
``#``) is computed once per *month shape* (month, length, weekday of the 1st: at most 336). The
Gregorian calendar repeats every 400 years (4,800 months, 146,097 days: whole weeks), so a prefix
sum of matching days over one cycle counts and indexes any span in O(log n).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date
from functools import cache, lru_cache
from itertools import accumulate
from typing import Protocol

from legato.definitions._cron.grammar import DayFields

DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CYCLE_MONTHS, _CYCLE_DAYS = 4_800, 146_097
_CYCLE_YEAR = 2000  # cycles start in January of 2000 + 400k


def day_date(day: int) -> date:
    return date.fromordinal(day + _EPOCH_ORDINAL)


def date_day(value: date) -> int:
    return value.toordinal() - _EPOCH_ORDINAL


def weekday(day: int) -> int:
    """Cron numbering: 0 = Sunday (1970-01-01 was a Thursday)."""
    return (day + 4) % 7


class Days(Protocol):
    """The matching days of an expression."""

    def matches(self, day: int) -> bool: ...

    def count(self, first: int, stop: int) -> int:
        """Matching days in [first, stop)."""
        ...

    def nth(self, first: int, n: int) -> int:
        """The n-th (0-based) matching day at or after ``first``."""
        ...

    def last_before(self, stop: int) -> int:
        """The last matching day before ``stop``."""
        ...


class EveryDay:
    def matches(self, day: int) -> bool:
        return True

    def count(self, first: int, stop: int) -> int:
        return max(0, stop - first)

    def nth(self, first: int, n: int) -> int:
        return first + n

    def last_before(self, stop: int) -> int:
        return stop - 1


class SomeWeekdays:
    def __init__(self, weekdays: frozenset[int]) -> None:
        self.weekdays = weekdays

    def matches(self, day: int) -> bool:
        return weekday(day) in self.weekdays

    def count(self, first: int, stop: int) -> int:
        if stop <= first:
            return 0
        weeks = (stop - first) // 7
        rest = range(first + weeks * 7, stop)
        return weeks * len(self.weekdays) + sum(1 for d in rest if self.matches(d))

    def nth(self, first: int, n: int) -> int:
        weeks, n = divmod(n, len(self.weekdays))
        day = first + weeks * 7
        while True:
            if self.matches(day):
                if n == 0:
                    return day
                n -= 1
            day += 1

    def last_before(self, stop: int) -> int:
        day = stop - 1
        while not self.matches(day):
            day -= 1
        return day


@cache
def _cycle() -> tuple[tuple[tuple[int, int, int], ...], tuple[int, ...]]:
    """Each month of a 400-year cycle: its shape (month, length, weekday of the 1st) and the day
    its 1st falls on."""
    shapes, starts = [], []
    for i in range(_CYCLE_MONTHS):
        year, month = _CYCLE_YEAR + i // 12, i % 12 + 1
        first = date_day(date(year, month, 1))
        following = date(year + month // 12, month % 12 + 1, 1)
        shapes.append((month, date_day(following) - first, weekday(first)))
        starts.append(first)
    return tuple(shapes), tuple(starts)


class CalendarDays:
    """Days that depend on the calendar, ranked against the start of the 2000-2399 cycle."""

    def __init__(self, fields: DayFields) -> None:
        self.fields = fields
        self._shapes: dict[tuple[int, int, int], tuple[int, ...]] = {}
        self._prefix: list[int] | None = None

    def _days_of(self, shape: tuple[int, int, int]) -> tuple[int, ...]:
        days = self._shapes.get(shape)
        if days is None:
            days = self._shapes[shape] = month_days(self.fields, *shape)
        return days

    @property
    def prefix(self) -> list[int]:
        """Matching days in the cycle's months before month i (i = 0..4800)."""
        if self._prefix is None:
            counts = (len(self._days_of(shape)) for shape in _cycle()[0])
            self._prefix = [0, *accumulate(counts)]
        return self._prefix

    def _month(self, day: int) -> tuple[int, int, date]:
        value = day_date(day)
        cycles, i = divmod((value.year - _CYCLE_YEAR) * 12 + value.month - 1, _CYCLE_MONTHS)
        return cycles, i, value

    def matches(self, day: int) -> bool:
        _, i, value = self._month(day)
        return value.day in self._days_of(_cycle()[0][i])

    def rank(self, day: int) -> int:
        """Matching days from the start of 2000 to ``day`` (negative before it)."""
        cycles, i, value = self._month(day)
        prefix = self.prefix
        before = bisect_left(self._days_of(_cycle()[0][i]), value.day)
        return cycles * prefix[-1] + prefix[i] + before

    def select(self, rank: int) -> int:
        """The matching day of rank ``rank``."""
        prefix = self.prefix
        cycles, rest = divmod(rank, prefix[-1])
        i = bisect_right(prefix, rest) - 1
        shapes, starts = _cycle()
        return cycles * _CYCLE_DAYS + starts[i] + self._days_of(shapes[i])[rest - prefix[i]] - 1

    def count(self, first: int, stop: int) -> int:
        return self.rank(stop) - self.rank(first) if stop > first else 0

    def nth(self, first: int, n: int) -> int:
        return self.select(self.rank(first) + n)

    def last_before(self, stop: int) -> int:
        return self.select(self.rank(stop) - 1)


def month_days(fields: DayFields, month: int, length: int, first: int) -> tuple[int, ...]:
    """The days of a month that match, given its length and the weekday of its 1st."""
    if month not in fields.months:
        return ()
    nearest = {_nearest_weekday(day, length, first) for day in fields.nearest_weekdays}
    nth = fields.nth_weekdays
    matched = []
    for day in range(1, length + 1):
        wd = (first + day - 1) % 7
        on_dom = day in fields.days or (fields.last_day and day == length) or day in nearest
        on_dow = (
            wd in fields.weekdays
            or (wd, (day + 6) // 7) in nth
            or (day + 7 > length and (wd, -1) in nth)
        )
        if fields.days_restricted and fields.weekdays_restricted:
            ok = on_dom or on_dow
        else:
            ok = (on_dom or not fields.days_restricted) and (
                on_dow or not fields.weekdays_restricted
            )
        if ok:
            matched.append(day)
    return tuple(matched)


def _nearest_weekday(day: int, length: int, first: int) -> int:
    """The Monday-Friday day nearest ``day`` (the month's last day if it has fewer days), never
    leaving the month."""
    day = min(day, length)
    wd = (first + day - 1) % 7
    if wd == 6:  # Saturday: the Friday before, or the Monday after if the 1st is a Saturday
        return day - 1 if day > 1 else day + 2
    if wd == 0:  # Sunday: the Monday after, or the Friday before if the month ends on it
        return day + 1 if day < length else day - 2
    return day


@lru_cache(maxsize=1024)
def day_pattern(fields: DayFields) -> Days:
    """The fastest shape for ``fields`` (shared by every expression with these day fields)."""
    if len(fields.months) == 12 and not fields.days_restricted and not fields.nth_weekdays:
        return SomeWeekdays(fields.weekdays) if fields.weekdays_restricted else EveryDay()
    return CalendarDays(fields)
