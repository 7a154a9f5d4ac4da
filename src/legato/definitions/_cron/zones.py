"""A time zone's history as *segments*: stretches of constant UTC offset, between transitions.

Instants are integer seconds since the Unix epoch (UTC). Transitions are found by sampling
``zoneinfo`` twice a day and bisecting to the second, cached per zone and year. A wall time
``w`` lies in a segment of offset ``o`` if ``w - o`` is one of its instants; around a transition
some wall times lie in no segment (a gap: clocks jump forward) and some in two (a repeat: clocks
fall back). ``timeline`` decides what a cron does with them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_YEAR, MAX_YEAR = 1800, 9000
_SAMPLE = 12 * 3600  # transitions are never closer than this in practice
_LAST_RULE_YEAR = 2040  # after the last listed transition a zone repeats one rule (or none) yearly
_FIXED_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Zulu", "Etc/GMT", "Etc/Universal"})


def to_instant(value: datetime) -> int:
    """Seconds since the epoch of an aware datetime (sub-second parts are dropped)."""
    return (value - EPOCH) // timedelta(seconds=1)


def from_instant(instant: int, zone: ZoneInfo) -> datetime:
    return (EPOCH + timedelta(seconds=instant)).astimezone(zone)


def offset_at(zone: ZoneInfo, instant: int) -> int:
    """The zone's UTC offset at ``instant``, in seconds."""
    delta = from_instant(instant, zone).utcoffset()
    assert delta is not None  # a ZoneInfo always has an offset
    return int(delta.total_seconds())


def _year_start(year: int) -> int:
    return to_instant(datetime(year, 1, 1, tzinfo=UTC))


@lru_cache(maxsize=8192)
def _year_transitions(zone: ZoneInfo, year: int) -> tuple[tuple[int, int, int], ...]:
    """(instant, old offset, new offset) of each offset change in the UTC year ``year``."""
    if zone.key in _FIXED_ZONES or zone.key.startswith("Etc/GMT"):
        return ()
    start, stop = _year_start(year), _year_start(year + 1)
    found: list[tuple[int, int, int]] = []
    t = start - _SAMPLE
    off = offset_at(zone, t)
    while t < stop:
        nxt = t + _SAMPLE
        new = offset_at(zone, nxt)
        if new == off:
            t = nxt
            continue
        lo, hi = t, nxt  # offset(lo) == off != offset(hi): bisect to the first changed second
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if offset_at(zone, mid) == off:
                lo = mid
            else:
                hi = mid
        new = offset_at(zone, hi)
        if start <= hi < stop:
            found.append((hi, off, new))
        t, off = hi, new
    return tuple(found)


@lru_cache(maxsize=8192)
def _last_before(zone: ZoneInfo, year: int) -> tuple[int, int, int] | None:
    """The last transition before the UTC year ``year`` starts; None if none since MIN_YEAR."""
    for y in range(year - 1, MIN_YEAR - 1, -1):
        found = _year_transitions(zone, y)
        if found:
            return found[-1]
    return None


@lru_cache(maxsize=8192)
def _first_from(zone: ZoneInfo, year: int) -> tuple[int, int, int] | None:
    """The first transition from the start of UTC year ``year`` on; None if there is none."""
    for y in range(year, max(year, _LAST_RULE_YEAR) + 1):
        found = _year_transitions(zone, y)
        if found:
            return found[0]
    return None


def _year_of(instant: int) -> int:
    return min(max((EPOCH + timedelta(seconds=instant)).year, MIN_YEAR), MAX_YEAR)


class Segment(NamedTuple):
    """A stretch of constant UTC offset: instants [start, end); None when beyond the search."""

    start: int | None
    before: int | None  # the offset before ``start``
    offset: int
    end: int | None
    after: int | None  # the offset from ``end`` on


def zone_segment(zone: ZoneInfo, t: int) -> Segment:
    """The stretch of constant UTC offset around instant ``t``."""
    year = _year_of(t)
    here = _year_transitions(zone, year)
    earlier = [tr for tr in here if tr[0] <= t]
    last = earlier[-1] if earlier else _last_before(zone, year)
    later = [tr for tr in here if tr[0] > t]
    first = later[0] if later else _first_from(zone, year + 1)
    return Segment(
        None if last is None else last[0],
        None if last is None else last[1],
        offset_at(zone, t),
        None if first is None else first[0],
        None if first is None else first[2],
    )


def wall_to_instant(wall: datetime, zone: ZoneInfo) -> int:
    """The instant a naive wall-clock time names: its first pass if it repeats, the end of the
    gap if it does not exist."""
    wall = wall.replace(microsecond=0, fold=0, tzinfo=None)
    instant = to_instant(wall.replace(tzinfo=zone, fold=0))
    if from_instant(instant, zone).replace(tzinfo=None) == wall:
        return instant
    start = zone_segment(zone, instant).start  # fold=0 in a gap lands after it, past the jump
    return instant if start is None else start
