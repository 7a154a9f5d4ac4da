"""``CronExpr``: a parsed expression as the lattice of naive wall times it names.

Wall times here are *wall seconds*: seconds since 1970-01-01 00:00 of a naive local clock (no
zone, no DST); ``timeline`` maps them to real instants. The lattice is (matching days) x (times of
day), so counting and indexing it is counting and indexing days (see ``days``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import date
from functools import cached_property, lru_cache

from legato.definitions._cron.days import DAY, Days, date_day, day_pattern
from legato.definitions._cron.grammar import CronFields, parse_fields
from legato.definitions._cron.problem import Problem

_CHECK_FROM, _CHECK_TO = date_day(date(2000, 1, 1)), date_day(date(2400, 1, 1))


class CronExpr:
    """A parsed cron expression; ``str()`` is its canonical form. Build it with ``parse``."""

    def __init__(self, fields: CronFields) -> None:
        self.fields = fields
        self.days: Days = day_pattern(fields.day)

    @staticmethod
    def parse(expr: object) -> CronExpr:
        """Parse ``expr``; raise Problem if it is not valid cron or never fires."""
        if not isinstance(expr, str):
            parse_fields(expr)  # raises the Problem for a non-string
        return _parse(str(expr))

    def __str__(self) -> str:
        return str(self.fields)

    def __repr__(self) -> str:
        return f"CronExpr({str(self)!r})"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return _parse, (str(self),)  # pickled as its text, not its caches

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Seconds after midnight of each fire time on a matching day, ascending."""
        f = self.fields
        return tuple(h * 3600 + m * 60 + s for h in f.hours for m in f.minutes for s in f.seconds)

    @property
    def every_hour(self) -> bool:
        """True when the hour field allows every hour: the cron follows elapsed time."""
        return len(self.fields.hours) == 24

    def count(self, lo: int, hi: int) -> int:
        """Fire times in the wall interval [lo, hi)."""
        if hi <= lo:
            return 0
        first_day, lo_sec = divmod(lo, DAY)
        last_day, hi_sec = divmod(hi, DAY)
        offsets, days = self.offsets, self.days
        if first_day == last_day:
            if not days.matches(first_day):
                return 0
            return bisect.bisect_left(offsets, hi_sec) - bisect.bisect_left(offsets, lo_sec)
        total = days.count(first_day + 1, last_day) * len(offsets)
        if days.matches(first_day):
            total += len(offsets) - bisect.bisect_left(offsets, lo_sec)
        if days.matches(last_day):
            total += bisect.bisect_left(offsets, hi_sec)
        return total

    def nth_ge(self, lo: int, n: int) -> int:
        """The n-th (0-based) fire time at or after wall time ``lo``."""
        day, sec = divmod(lo, DAY)
        offsets = self.offsets
        if self.days.matches(day):
            i = bisect.bisect_left(offsets, sec)
            if n < len(offsets) - i:
                return day * DAY + offsets[i + n]
            n -= len(offsets) - i
        whole, rest = divmod(n, len(offsets))
        return self.days.nth(day + 1, whole) * DAY + offsets[rest]

    def next_ge(self, lo: int) -> int:
        """The first fire time at or after wall time ``lo``."""
        return self.nth_ge(lo, 0)

    def prev_lt(self, hi: int) -> int:
        """The last fire time before wall time ``hi``."""
        day, sec = divmod(hi, DAY)
        offsets = self.offsets
        if self.days.matches(day):
            i = bisect.bisect_left(offsets, sec)
            if i > 0:
                return day * DAY + offsets[i - 1]
        return self.days.last_before(day) * DAY + offsets[-1]

    def walls(self, lo: int, hi: int | None, shift: int = 0) -> Iterator[int]:
        """Fire times in [lo, hi) (hi None: forever), ascending, each minus ``shift``."""
        day, sec = divmod(lo, DAY)
        offsets, days = self.offsets, self.days
        i = bisect.bisect_left(offsets, sec) if days.matches(day) else len(offsets)
        while True:
            base = day * DAY - shift
            if hi is None or base + offsets[-1] < hi - shift:  # the whole day fires
                yield from map(base.__add__, offsets[i:])
            else:
                for offset in offsets[i : bisect.bisect_left(offsets, hi - shift - base)]:
                    yield base + offset
                return
            day, i = days.nth(day + 1, 0), 0


@lru_cache(maxsize=1024)
def _parse(expr: str) -> CronExpr:
    cron = CronExpr(parse_fields(expr))
    if cron.days.count(_CHECK_FROM, _CHECK_TO) == 0:  # the calendar repeats every 400 years
        raise Problem(
            f"expression {expr!r} never fires: no date matches it",
            "check the day-of-month against the month (there is no 31 February or "
            "31 April) and the day-of-week",
        )
    return cron
