"""The cron grammar: text to the values each field allows, or a ``Problem`` that says the fix.

An expression is 5 fields ``minute hour day-of-month month day-of-week``, or 6 with **seconds
first** (``second minute ...``, as in Quartz and Spring), or a macro (``@daily``). A field is a
comma list of items:

======================  ========================================================================
``*``                   every value (``?`` too, as the whole of a day field)
``5``, ``jan``, ``mon``  one value; month and weekday names in any case; weekday 7 is Sunday too
``1-5``, ``fri-mon``    a range; one whose end comes before its start wraps round (fri..mon)
``*/15``, ``5/15``,     every 15th value: of the whole field, from 5 to the field's end, of the
``0-30/10``             range; a wrapping range keeps its step across the wrap
``L``                   day-of-month: the month's last day
``15W``, ``W15``        day-of-month: the weekday (Monday-Friday) nearest the 15th, in its month
``5#3``, ``fri#3``      day-of-week: the third Friday of the month (1-5)
``L5``                  day-of-week: the month's last Friday
======================  ========================================================================

When both day fields are restricted (neither is ``*`` nor ``?``) a day matches if either does,
as in classic cron. ``R`` and ``H`` (random and hashed values) are refused: every process must
read an expression as the same times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from legato.definitions._cron.problem import Problem

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NEAREST = re.compile(r"(\d+)w|w(\d+)", re.ASCII)
_LAST_WEEKDAY = re.compile(r"l(\w+)")
_RANDOM = re.compile(r"[hr](\(.*\))?(/.*)?")


@dataclass(frozen=True)
class _Field:
    label: str
    low: int
    high: int  # the last value of the cycle
    top: int  # the largest value text may name (7 in day-of-week: Sunday again)
    names: Mapping[str, int]
    allowed: str


_FIELDS = (
    _Field("second", 0, 59, 59, {}, "0-59"),
    _Field("minute", 0, 59, 59, {}, "0-59"),
    _Field("hour", 0, 23, 23, {}, "0-23"),
    _Field("day-of-month", 1, 31, 31, {}, "1-31, L (last day) or 15W (weekday nearest the 15th)"),
    _Field("month", 1, 12, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}, "1-12 or JAN-DEC"),
    _Field(
        "day-of-week",
        0,
        6,
        7,
        {d: i for i, d in enumerate(_WEEKDAYS)},
        "0-7 (0 and 7 are Sunday) or SUN-SAT, 5#3 (third Friday) or L5 (last Friday)",
    ),
)
_DAY, _WEEKDAY = 3, 5


@dataclass(frozen=True)
class DayFields:
    """The day-of-month, month and day-of-week fields: what decides whether a date matches."""

    months: frozenset[int]
    days: frozenset[int]  # days of the month
    last_day: bool  # L
    nearest_weekdays: frozenset[int]  # 15W
    weekdays: frozenset[int]  # 0 = Sunday
    nth_weekdays: frozenset[tuple[int, int]]  # (weekday, n): its n-th in the month; -1 = last
    days_restricted: bool  # the day-of-month field is not '*' or '?'
    weekdays_restricted: bool  # the day-of-week field is not '*' or '?'

    @property
    def all_days_of_month(self) -> bool:
        return len(self.days) == 31

    @property
    def all_weekdays(self) -> bool:
        return len(self.weekdays) == 7

    def __str__(self) -> str:
        # A restricted field that allows everything prints as '*' unless the other day field is
        # restricted too: then it takes part in the either-or rule and must stay restricted.
        if not self.days_restricted or (self.all_days_of_month and not self.weekdays_restricted):
            dom = "*"
        else:
            plain = ["1-31"] if self.all_days_of_month else [str(d) for d in sorted(self.days)]
            nearest = [f"{d}W" for d in sorted(self.nearest_weekdays)]
            dom = ",".join(plain + ["L"] * self.last_day + nearest)
        if not self.weekdays_restricted or (self.all_weekdays and not self.days_restricted):
            dow = "*"
        else:
            plain = ["0-6"] if self.all_weekdays else [str(d) for d in sorted(self.weekdays)]
            nth = [f"{w}#{n}" if n > 0 else f"L{w}" for w, n in sorted(self.nth_weekdays)]
            dow = ",".join(plain + nth)
        return f"{dom} {_show(self.months, 12)} {dow}"


@dataclass(frozen=True)
class CronFields:
    """A parsed expression; ``str()`` is its canonical form (5 fields unless seconds vary)."""

    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day: DayFields

    def __str__(self) -> str:
        text = f"{_show(self.minutes, 60)} {_show(self.hours, 24)} {self.day}"
        return text if self.seconds == (0,) else f"{_show(self.seconds, 60)} {text}"


def _show(values: Iterable[int], full: int) -> str:
    ordered = sorted(values)
    return "*" if len(ordered) == full else ",".join(map(str, ordered))


def parse_fields(expr: object) -> CronFields:
    """The fields of ``expr``; raise Problem naming the field at fault and what to write."""
    if not isinstance(expr, str):
        raise Problem(f"expression must be a string, got {expr!r}", "e.g. '0 6 * * *'")
    text = expr.strip()
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise Problem(f"{text!r} is not a known alias", f"use one of {', '.join(MACROS)}")
        text = MACROS[text.lower()]
    parts = text.split()
    if len(parts) not in (5, 6):
        raise Problem(
            f"expression {expr!r} has {len(parts)} fields; 5 or 6 are expected",
            "write 5 fields 'minute hour day-of-month month day-of-week', or 6 with "
            "seconds first 'second minute hour day-of-month month day-of-week'",
        )
    texts = parts if len(parts) == 6 else ["0", *parts]
    reader = _Reader(" (a 6-field expression starts with seconds)" if len(parts) == 6 else "")
    seconds, minutes, hours, months = (reader.plain(texts[i], i) for i in (0, 1, 2, 4))
    days, last_day, nearest = reader.days(texts[_DAY])
    weekdays, nth = reader.weekdays(texts[_WEEKDAY])
    day = DayFields(
        frozenset(months),
        frozenset(days),
        last_day,
        frozenset(nearest),
        frozenset(weekdays),
        frozenset(nth),
        texts[_DAY] not in ("*", "?"),
        texts[_WEEKDAY] not in ("*", "?"),
    )
    return CronFields(tuple(sorted(seconds)), tuple(sorted(minutes)), tuple(sorted(hours)), day)


class _Reader:
    """Reads the fields of one expression; ``note`` is added to every fix."""

    def __init__(self, note: str) -> None:
        self.note = note

    def bad(self, index: int, text: str, what: str) -> Problem:
        field = _FIELDS[index]
        return Problem(
            f"{field.label} field {text!r} {what}",
            f"use {field.allowed} in the {field.label} field{self.note}",
        )

    def plain(self, text: str, index: int, items: list[str] | None = None) -> set[int]:
        """The values of a field's plain items (all of them unless ``items`` are given)."""
        if text == "?" and index not in (_DAY, _WEEKDAY):
            raise self.bad(index, text, "is not valid cron syntax: '?' is only for the day fields")
        if text == "?":
            items = ["*"]
        values: set[int] = set()
        for item in text.split(",") if items is None else items:
            values.update(self.item(item, index, text))
        return values

    def days(self, text: str) -> tuple[set[int], bool, set[int]]:
        last, nearest, rest = False, set[int](), list[str]()
        for item in text.split(","):
            if item.lower() == "l":
                last = True
            elif match := _NEAREST.fullmatch(item.lower()):
                day = int(match.group(1) or match.group(2))
                if not 1 <= day <= 31:
                    raise self.bad(_DAY, text, "is out of range")
                nearest.add(day)
            else:
                rest.append(item)
        return (self.plain(text, _DAY, rest) if rest else set()), last, nearest

    def weekdays(self, text: str) -> tuple[set[int], set[tuple[int, int]]]:
        nth: set[tuple[int, int]] = set()
        rest: list[str] = []
        for item in text.split(","):
            if match := _LAST_WEEKDAY.fullmatch(item.lower()):
                nth.add((self.value(match.group(1), _WEEKDAY, text) % 7, -1))
            elif "#" in item:
                body, _, n = item.rpartition("#")
                if not _digits(n) or not 1 <= int(n) <= 5:
                    raise self.bad(_WEEKDAY, text, f"asks for week {n!r} of the month, not 1-5")
                nth.update((day, int(n)) for day in self.item(body, _WEEKDAY, text))
            elif re.fullmatch(r"\d+[lL]", item):
                raise self.bad(
                    _WEEKDAY, text, f"is not valid cron syntax: write 'L{item[:-1]}', not {item!r}"
                )
            else:
                rest.append(item)
        return (self.plain(text, _WEEKDAY, rest) if rest else set()), nth

    def item(self, item: str, index: int, text: str) -> list[int]:
        """The values of one comma-separated item (no L, W or #)."""
        field = _FIELDS[index]
        if _RANDOM.fullmatch(item.lower()):
            raise Problem(
                f"{field.label} field {text!r} uses a random or hashed value (R or H), which "
                "would differ from one process to the next",
                f"write the value you want, e.g. '17' or '*/15', in the {field.label} field",
            )
        body, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not _digits(step_text):
                raise self.bad(index, text, f"is not valid cron syntax: step {step_text!r}")
            step = int(step_text)
            if step == 0:
                raise Problem(
                    f"{field.label} field {text!r} has a step of 0",
                    f"use a step of 1 or more, e.g. '*/5', in the {field.label} field",
                )
        if body == "*":
            first, last = field.low, field.high
        elif "-" in body:
            a, _, b = body.partition("-")
            first = self.value(a, index, text)
            last = 31 if index == _DAY and b.lower() == "l" else self.value(b, index, text)
        else:
            first = self.value(body, index, text)
            last = field.high if slash else first
        return _cycle(first, last, step, field)

    def value(self, token: str, index: int, text: str) -> int:
        field = _FIELDS[index]
        if token.lower() in field.names:
            return field.names[token.lower()]
        if not _digits(token):
            kind = "a number or a name" if field.names else "a number"
            shown = f"{token!r} is not {kind}" if token else "a value is missing"
            raise self.bad(index, text, f"is not valid cron syntax: {shown}")
        value = int(token)
        if not field.low <= value <= field.top:
            raise self.bad(index, text, "is out of range")
        return value


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _cycle(first: int, last: int, step: int, field: _Field) -> list[int]:
    """Values from ``first`` to ``last`` by ``step``, wrapping past the field's end if last <
    first (the wrap keeps the step: minutes 50-10/15 are 50 and 5)."""
    if field.top != field.high:  # day-of-week, where 7 is 0 again
        if first <= last:
            return [v % 7 for v in range(first, last + 1, step)]
        first, last = first % 7, last % 7
    if first <= last:
        return list(range(first, last + 1, step))
    values = list(range(first, field.high + 1, step))
    size = field.high - field.low + 1
    return values + list(range(values[-1] + step - size, last + 1, step))
