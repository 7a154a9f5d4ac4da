"""The mechanics behind ``Cron``: expressions to wall times, wall times to instants, zone checks.

A cron expression names wall-clock times; the zone decides which real instants those are. Around a
DST change some wall times do not exist (a gap: clocks jump forward) and some exist twice (a repeat:
clocks fall back). The policies here say what a schedule does then; ``schedules.py`` documents them.
Problems are raised as ``Problem`` (what is wrong, and the fix) for the schedule to report.
"""

from __future__ import annotations

import difflib
import heapq
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadDateError, CroniterError, croniter

GapPolicy = Literal["skip", "next"]
RepeatPolicy = Literal["first", "last", "both"]

_SECOND = timedelta(seconds=1)
_NEVER_FIRES_YEARS = 8  # every valid expression (29 February included) fires within 8 years
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# (name, allowed values) in the order of a 6-field expression: seconds come first.
_FIELDS = (
    ("second", "0-59"),
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31 or L"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 (0 and 7 are Sunday) or SUN-SAT"),
)


class Problem(ValueError):
    """Something Legato refuses in a schedule: ``problem`` says what, ``fix`` what to write."""

    def __init__(self, problem: str, fix: str, suggestion: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.suggestion = suggestion


# --- expressions --------------------------------------------------------------------------------


def split_fields(expr: object) -> list[str]:
    """The six fields of ``expr``, seconds first (``"0"`` when it has 5), each one checked."""
    if not isinstance(expr, str):
        raise Problem(f"expression must be a string, got {expr!r}", "e.g. Cron('0 6 * * *')")
    text = expr.strip()
    if text.startswith("@"):
        if text.lower() not in ALIASES:
            raise Problem(f"{text!r} is not a known alias", f"use one of {', '.join(ALIASES)}")
        text = ALIASES[text.lower()]
    parts = text.split()
    if len(parts) not in (5, 6):
        raise Problem(
            f"expression {expr!r} has {len(parts)} fields; 5 or 6 are expected",
            "write 5 fields 'minute hour day-of-month month day-of-week', or 6 with "
            "seconds first 'second minute hour day-of-month month day-of-week'",
        )
    fields = parts if len(parts) == 6 else ["0", *parts]
    for position, (value, (label, allowed)) in enumerate(zip(fields, _FIELDS, strict=True)):
        probe = ["*"] * 6
        probe[position] = value
        try:
            croniter.expand(" ".join(probe), second_at_beginning=True)
        except CroniterError as error:
            wrong = "out of range" if "out of range" in str(error) else "not valid cron syntax"
            note = " (a 6-field expression starts with seconds)" if len(parts) == 6 else ""
            raise Problem(
                f"{label} field {value!r} is {wrong}", f"use {allowed} in the {label} field{note}"
            ) from None
    return fields


def times_of_day(fields: list[str]) -> tuple[time, ...]:
    """Every time of day the second, minute and hour fields allow, ascending."""
    expanded, _ = croniter.expand(" ".join(fields), second_at_beginning=True)
    minutes, hours, seconds = (_values(expanded[i], n) for i, n in ((0, 60), (1, 24), (5, 60)))
    return tuple(time(h, m, s) for h in hours for m in minutes for s in seconds)


def _values(expanded: list[Any], size: int) -> list[int]:
    return list(range(size)) if expanded == ["*"] else sorted(int(v) for v in expanded)


def check_fires(expr: str, day_expr: str) -> None:
    """Raise Problem if no date matches ``day_expr`` in 8 years (checked from a fixed date)."""
    start = datetime(2000, 1, 1) - _SECOND
    try:
        croniter(day_expr, start, max_years_between_matches=_NEVER_FIRES_YEARS).get_next()
    except CroniterBadDateError:
        raise Problem(
            f"expression {expr!r} never fires: no date matches it in {_NEVER_FIRES_YEARS} years",
            "check the day-of-month against the month (there is no 31 February or "
            "31 April) and the day-of-week",
        ) from None


def matching_days(day_expr: str, first: date) -> Iterator[date]:
    """The dates from ``first`` on whose day-of-month, month and day-of-week fields match."""
    if day_expr == "0 0 * * *":  # every day: no need to ask croniter, which is slow
        for n in range(date.max.toordinal() - first.toordinal()):
            yield first + timedelta(days=n)
        return
    days = croniter(day_expr, datetime.combine(first, time()) - _SECOND)
    while True:
        try:
            yield days.get_next(datetime).date()
        except CroniterBadDateError:
            return


# --- wall times to instants ---------------------------------------------------------------------


def wall_instants(
    days: Iterable[date],
    times: Sequence[time],
    tz: ZoneInfo,
    on_gap: GapPolicy,
    on_repeat: RepeatPolicy,
    after: datetime,
) -> Iterator[datetime]:
    """Yield the UTC instants strictly after ``after`` at which the wall times ``days`` x ``times``
    occur.

    ``days`` and ``times`` must be ascending. Instants come out strictly increasing: wall times that
    land on one instant (several missing times moved to the end of one gap) fire once.
    """
    # Walking wall times in order yields instants out of order only inside a repeat with "both"
    # (every first occurrence comes before any second one). Each wall time has a lower bound for
    # the instants of all later wall times; a small heap holds instants until that bound passes.
    heap: list[datetime] = []
    last = after
    for day in days:
        offset = steady_offset(day, tz)
        if offset is not None:  # the common case: no DST change on this day
            threshold = (after + offset).replace(tzinfo=None)
            if day < threshold.date():
                continue
            first = bisect_right(times, threshold.time()) if day == threshold.date() else 0
            for t in times[first:]:
                instant = datetime.combine(day, t, tzinfo=UTC) - offset
                while heap and heap[0] <= instant:
                    held = heapq.heappop(heap)
                    if held > last:
                        last = held
                        yield held
                if instant > last:
                    last = instant
                    yield instant
            continue
        for t in times:
            instants, bound = _resolve(datetime.combine(day, t), tz, on_gap, on_repeat)
            for instant in instants:
                heapq.heappush(heap, instant)
            while heap and heap[0] <= bound:
                held = heapq.heappop(heap)
                if held > last:
                    last = held
                    yield held
    while heap:
        held = heapq.heappop(heap)
        if held > last:
            last = held
            yield held


def steady_offset(day: date, tz: ZoneInfo) -> timedelta | None:
    """The zone's UTC offset if every wall time of ``day`` has that one offset, else None."""
    # A change inside the day makes midnight and the next midnight differ; a change at a midnight
    # makes that midnight missing or repeated, so its two folds differ. (Two changes that cancel
    # within one day occur in no zone's rules.)
    start = datetime.combine(day, time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    offset = start.utcoffset()
    if (
        offset
        == start.replace(fold=1).utcoffset()
        == end.utcoffset()
        == end.replace(fold=1).utcoffset()
    ):
        return offset
    return None


def _resolve(
    wall: datetime, tz: ZoneInfo, on_gap: GapPolicy, on_repeat: RepeatPolicy
) -> tuple[list[datetime], datetime]:
    """The instants a naive wall time fires at under the policies, and a lower bound for the
    instants of every later wall time."""
    early = wall.replace(tzinfo=tz).astimezone(UTC)  # fold=0: the offset in force before a change
    late = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if early == late:
        return [early], early
    if early < late:  # a repeated wall time: `early` happens first
        chosen = {"first": [early], "last": [late], "both": [early, late]}[on_repeat]
        return chosen, early
    # A missing wall time: zoneinfo reads it with the old offset (`early`, after the jump) and the
    # new one (`late`, before it); the first instant after the gap lies between the two.
    if on_gap == "skip":
        return [], late
    change = transition_between(late, early, tz)
    return [change], change


def transition_between(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in ``(before, after]`` whose offset equals the offset at ``after``."""
    target = after.astimezone(tz).utcoffset()
    low, high = 0, int((after - before) / _SECOND)
    while high - low > 1:  # zone rules change offsets on whole seconds
        mid = (low + high) // 2
        if (before + mid * _SECOND).astimezone(tz).utcoffset() == target:
            high = mid
        else:
            low = mid
    return before + high * _SECOND


# --- time-zone checks ---------------------------------------------------------------------------

_ABBREVIATIONS = {
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "EST5EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "CST6CDT": "America/Chicago",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "MST7MDT": "America/Denver",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "PST8PDT": "America/Los_Angeles",
    "AKST": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "BRT": "America/Sao_Paulo",
    "BST": "Europe/London",
    "GB": "Europe/London",
    "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon",
    "CET": "Europe/Paris",
    "CEST": "Europe/Paris",
    "MET": "Europe/Paris",
    "MEST": "Europe/Paris",
    "EET": "Europe/Athens",
    "EEST": "Europe/Athens",
    "MSK": "Europe/Moscow",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "ROK": "Asia/Seoul",
    "PRC": "Asia/Shanghai",
    "ROC": "Asia/Taipei",
    "HKT": "Asia/Hong_Kong",
    "SGT": "Asia/Singapore",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
    "ACST": "Australia/Adelaide",
    "AWST": "Australia/Perth",
    "NZ": "Pacific/Auckland",
    "NZST": "Pacific/Auckland",
    "NZDT": "Pacific/Auckland",
    "SAST": "Africa/Johannesburg",
}
_FIXED_OK = {"UTC", "GMT", "UCT"}
_ABBREVIATION_SHAPE = re.compile(r"[A-Z]{2,5}|[A-Z]{3,4}\d{1,2}[A-Z]{3,4}")  # EST, EST5EDT


def load_zone(name: object) -> ZoneInfo:
    """Return the IANA zone ``name``; raise Problem for abbreviations and unknown names."""
    if not isinstance(name, str) or not name:
        raise Problem(
            f"time zone must be an IANA name such as 'Europe/London', got {name!r}",
            "pass timezone='Region/City', e.g. timezone='America/New_York'",
        )
    if name.upper() not in _FIXED_OK and (
        name.upper() in _ABBREVIATIONS or _ABBREVIATION_SHAPE.fullmatch(name)
    ):
        suggestion = _ABBREVIATIONS.get(name.upper())
        example = repr(suggestion) if suggestion else "'America/New_York' or 'Europe/Paris'"
        raise Problem(
            f"time zone {name!r} is an abbreviation, not an IANA zone name with DST rules",
            f"use a Region/City name such as {example}, or 'UTC' for no DST",
            suggestion,
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        match = _closest_zone(name)
        fix = (
            f"did you mean {match!r}?"
            if match
            else "use an IANA name such as 'Europe/London' (see zoneinfo.available_timezones())"
        )
        raise Problem(f"time zone {name!r} is not a known IANA zone", fix, match) from None


def _closest_zone(name: str) -> str | None:
    zones = available_timezones()
    folded = {zone.lower(): zone for zone in zones}
    exact = folded.get(name.strip().replace(" ", "_").lower())
    if exact:
        return exact
    close = difflib.get_close_matches(name, sorted(zones), n=1, cutoff=0.6)
    return close[0] if close else None
