"""Five-field cron expressions evaluated on naive wall-clock time, with arithmetic counting.

Times here are *wall seconds*: seconds since 1970-01-01 00:00 of a naive local clock (no zone, no
DST). ``_timeline`` maps them to real instants. The lattice of matching wall times is counted and
indexed without enumerating it when the day pattern allows (every day: O(1); some weekdays:
O(1)); other day patterns (days of the month, months) walk month by month or day by day.

Fields: minute hour day-of-month month day-of-week; each ``*``, a number, a range ``a-b``, a step
``*/n`` or ``a-b/n``, a comma list, month and weekday names (``jan``, ``mon``), ``7`` = Sunday, and
the macros ``@hourly @daily @midnight @weekly @monthly @yearly @annually``. When both day fields are
restricted a day matches either (classic cron).
"""

from __future__ import annotations

import bisect
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from legato.errors import PartitionError

DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_NAMES = {
    3: {
        m: i + 1
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        )
    },
    4: {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
}
_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)


def day_date(day: int) -> date:
    return date.fromordinal(day + _EPOCH_ORDINAL)


def date_day(value: date) -> int:
    return value.toordinal() - _EPOCH_ORDINAL


def _bad(expr: str, problem: str) -> PartitionError:
    return PartitionError(
        f"cron expression {expr!r} {problem}",
        obj=expr,
        hint="write five fields 'minute hour day-of-month month day-of-week', e.g. '0 0 * * *' "
        "(daily at midnight) or '30 * * * *' (hourly at :30)",
    )


def _parse_value(text: str, index: int, expr: str) -> int:
    names = _NAMES.get(index, {})
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise _bad(expr, f"has {text!r} in the {_FIELDS[index][0]} field, which is not a number")
    return int(text)


def _parse_field(text: str, index: int, expr: str) -> frozenset[int]:
    name, low, high = _FIELDS[index]
    values: set[int] = set()
    for item in text.split(","):
        body, _, step_text = item.partition("/")
        if step_text and not step_text.isdigit():
            raise _bad(expr, f"has the step {step_text!r} in the {name} field, not a number")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise _bad(expr, f"has a step of 0 in the {name} field")
        if body == "*":
            first, last = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            first, last = _parse_value(a, index, expr), _parse_value(b, index, expr)
        else:
            first = _parse_value(body, index, expr)
            last = high if step_text else first
        if not (low <= first <= high and low <= last <= high) or first > last:
            raise _bad(expr, f"has {item!r} in the {name} field; allowed is {low}-{high}")
        values.update(range(first, last + 1, step))
    if index == 4 and 7 in values:  # 7 is Sunday too
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression; ``str(cron)`` is its canonical form."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]  # days of the month
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool  # the day-of-month field is not '*'
    weekdays_restricted: bool  # the day-of-week field is not '*'

    @classmethod
    def parse(cls, expr: str) -> Cron:
        if not isinstance(expr, str):
            raise PartitionError(f"cron expression {expr!r} must be a string", obj=repr(expr))
        text = _MACROS.get(expr.strip().lower(), expr.strip())
        parts = text.split()
        if len(parts) != 5:
            raise _bad(expr, f"has {len(parts)} fields, not 5")
        fields = [_parse_field(part, i, expr) for i, part in enumerate(parts)]
        cron = cls(
            tuple(sorted(fields[0])),
            tuple(sorted(fields[1])),
            fields[2],
            fields[3],
            fields[4],
            parts[2] != "*",
            parts[4] != "*",
        )
        # Any real day pattern recurs within 8 years (29 February); '0 0 30 2 *' never does.
        if not any(cron.day_matches(day) for day in range(8 * 366)):
            raise _bad(expr, "never matches a real date")
        return cron

    def __str__(self) -> str:
        def show(values: frozenset[int] | tuple[int, ...], full: int) -> str:
            return "*" if len(values) == full else ",".join(str(v) for v in sorted(values))

        return " ".join(
            (
                show(self.minutes, 60),
                show(self.hours, 24),
                show(self.days, 31) if self.days_restricted else "*",
                show(self.months, 12),
                show(self.weekdays, 7) if self.weekdays_restricted else "*",
            )
        )

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Seconds after midnight of each fire time on a matching day, sorted."""
        return tuple(h * 3600 + m * 60 for h in self.hours for m in self.minutes)

    @property
    def every_hour(self) -> bool:
        """True when the hour field is '*': such a cron fires in both passes of a repeated hour."""
        return len(self.hours) == 24

    @cached_property
    def _pattern(self) -> str:
        if self.days_restricted or len(self.months) < 12:
            return "months" if not self.weekdays_restricted else "calendar"
        return "weekdays" if self.weekdays_restricted else "all"

    def day_matches(self, day: int) -> bool:
        if self._pattern == "all":
            return True
        weekday = (day + 4) % 7  # 1970-01-01 was a Thursday
        if self._pattern == "weekdays":
            return weekday in self.weekdays
        value = day_date(day)
        if value.month not in self.months:
            return False
        if self.days_restricted and self.weekdays_restricted:
            return value.day in self.days or weekday in self.weekdays
        return value.day in self.days and weekday in self.weekdays

    def _days_in_month(self, year: int, month: int) -> int:
        """Matching days in a whole month (pattern 'months' only)."""
        if month not in self.months:
            return 0
        length = monthrange(year, month)[1]
        return sum(1 for d in self.days if d <= length)

    def count_days(self, first: int, stop: int) -> int:
        """Matching days in [first, stop)."""
        if stop <= first:
            return 0
        if self._pattern == "all":
            return stop - first
        if self._pattern == "weekdays":
            weeks = (stop - first) // 7
            rest = range(first + weeks * 7, stop)
            return weeks * len(self.weekdays) + sum(1 for d in rest if self.day_matches(d))
        if self._pattern == "months" and stop - first > 62:
            head = date_day(_next_month(day_date(first)))
            tail = date_day(day_date(stop - 1).replace(day=1))
            total = self.count_days(first, head) + self.count_days(tail, stop)
            month = day_date(head)
            while date_day(month) < tail:
                total += self._days_in_month(month.year, month.month)
                month = _next_month(month)
            return total
        return sum(1 for d in range(first, stop) if self.day_matches(d))

    def nth_day(self, first: int, n: int) -> int:
        """The n-th (0-based) matching day at or after ``first``."""
        if self._pattern == "all":
            return first + n
        day = first
        if self._pattern == "weekdays":
            weeks, n = divmod(n, len(self.weekdays))
            day += weeks * 7
        elif self._pattern == "months":
            month = _next_month(day_date(first))
            skipped = self.count_days(first, date_day(month))
            while skipped <= n:  # skip whole months while the n-th day lies beyond them
                n -= skipped
                day = date_day(month)
                skipped = self._days_in_month(month.year, month.month)
                month = _next_month(month)
        while True:
            if self.day_matches(day):
                if n == 0:
                    return day
                n -= 1
            day += 1

    # -- the lattice of fire times, in wall seconds -------------------------------------------

    def count(self, lo: int, hi: int) -> int:
        """Fire times in the wall interval [lo, hi)."""
        if hi <= lo:
            return 0
        first_day, lo_sec = divmod(lo, DAY)
        last_day, hi_sec = divmod(hi, DAY)
        offsets = self.offsets
        if first_day == last_day:
            if not self.day_matches(first_day):
                return 0
            return bisect.bisect_left(offsets, hi_sec) - bisect.bisect_left(offsets, lo_sec)
        total = 0
        if self.day_matches(first_day):
            total += len(offsets) - bisect.bisect_left(offsets, lo_sec)
        total += self.count_days(first_day + 1, last_day) * len(offsets)
        if self.day_matches(last_day):
            total += bisect.bisect_left(offsets, hi_sec)
        return total

    def nth_ge(self, lo: int, n: int) -> int:
        """The n-th (0-based) fire time at or after wall time ``lo``."""
        day, sec = divmod(lo, DAY)
        offsets = self.offsets
        if self.day_matches(day):
            i = bisect.bisect_left(offsets, sec)
            if n < len(offsets) - i:
                return day * DAY + offsets[i + n]
            n -= len(offsets) - i
        whole, rest = divmod(n, len(offsets))
        return self.nth_day(day + 1, whole) * DAY + offsets[rest]

    def next_ge(self, lo: int) -> int:
        """The first fire time at or after wall time ``lo``."""
        return self.nth_ge(lo, 0)

    def prev_lt(self, hi: int) -> int:
        """The last fire time before wall time ``hi``."""
        day, sec = divmod(hi, DAY)
        offsets = self.offsets
        if self.day_matches(day):
            i = bisect.bisect_left(offsets, sec)
            if i > 0:
                return day * DAY + offsets[i - 1]
        day -= 1
        while not self.day_matches(day):
            day -= 1
        return day * DAY + offsets[-1]


def _next_month(value: date) -> date:
    return date(value.year + value.month // 12, value.month % 12 + 1, 1)
