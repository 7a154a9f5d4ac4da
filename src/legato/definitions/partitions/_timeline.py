"""Fire times of a cron schedule in a time zone, as real instants, with the DST rules.

Instants are integer seconds since the Unix epoch (UTC); wall times are the same count on the zone's
naive local clock. The zone's history is cut into *segments* of constant UTC offset (found by
sampling ``zoneinfo`` twice a day, then bisecting to the second; cached per zone and year). Inside a
segment a fire time is ``wall - offset`` for each cron match, so counting and indexing reduce to
counting the cron's wall-time lattice (see ``_cron``). At the transitions (the Debian cron rules):

* **gap** (clocks jump forward; wall times that never happen): a cron time inside the gap fires at
  the end of the gap, the first real instant; several such times make one fire time. A daily window
  whose midnight does not exist (America/Sao_Paulo, 2018-11-04) starts at 01:00.
* **fold** (clocks go back; wall times that happen twice): a cron whose hour field is ``*`` fires in
  both passes (two distinct hourly windows); any other cron fires only in the first pass (a daily
  window on a 25-hour day is one window of 25 hours).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from difflib import get_close_matches
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from legato.definitions.partitions._cron import Cron
from legato.errors import PartitionError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_YEAR, MAX_YEAR = 1800, 9000
_SAMPLE = 12 * 3600  # transitions are never closer than this in practice
_LAST_RULE_YEAR = 2040  # after the last listed transition a zone repeats one rule (or none) yearly
_FIXED_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Zulu", "Etc/GMT", "Etc/Universal"})


def load_zone(name: object) -> ZoneInfo:
    """The IANA zone ``name``; abbreviations ('EST', 'CET') and unknown names are refused."""
    if isinstance(name, ZoneInfo):
        name = name.key
    if not isinstance(name, str) or not name:
        raise PartitionError(
            f"time zone {name!r} must be an IANA name string",
            obj=repr(name),
            hint="pass e.g. 'UTC', 'Europe/Berlin' or 'America/New_York'",
        )
    if name != "UTC" and "/" not in name:
        raise PartitionError(
            f"time zone {name!r} is an abbreviation or a legacy name, which hides DST rules",
            obj=name,
            hint="use an IANA name such as 'America/New_York' or 'Europe/Paris', or 'UTC'",
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = get_close_matches(name, sorted(available_timezones()), n=3)
        suggestion = (
            f"did you mean {' or '.join(repr(c) for c in close)}?"
            if close
            else ("use an IANA name such as 'Europe/Berlin' (see the tz database list)")
        )
        raise PartitionError(f"unknown time zone {name!r}", obj=name, hint=suggestion) from None


def to_instant(value: datetime) -> int:
    """Seconds since the epoch of an aware datetime (sub-second parts are dropped)."""
    return (value - EPOCH) // timedelta(seconds=1)


def from_instant(instant: int, zone: ZoneInfo) -> datetime:
    return (EPOCH + timedelta(seconds=instant)).astimezone(zone)


def _offset(zone: ZoneInfo, instant: int) -> int:
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
    off = _offset(zone, t)
    while t < stop:
        nxt = t + _SAMPLE
        new = _offset(zone, nxt)
        if new == off:
            t = nxt
            continue
        lo, hi = t, nxt  # offset(lo) == off != offset(hi): bisect to the first changed second
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _offset(zone, mid) == off:
                lo = mid
            else:
                hi = mid
        new = _offset(zone, hi)
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


def offset_text(seconds: int) -> str:
    """A UTC offset as text: ``+02:00``, ``-03:00``, ``+00:53:28``."""
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    text = f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return text + (f":{seconds % 60:02d}" if seconds % 60 else "")


def offset_seconds(text: str) -> int:
    """Invert :func:`offset_text`."""
    parts = [int(p) for p in text[1:].split(":")] + [0]
    value = parts[0] * 3600 + parts[1] * 60 + parts[2]
    return -value if text[0] == "-" else value


def to_zone_datetime(value: object, zone: ZoneInfo, fmt: str, what: str) -> datetime:
    """A bound (``fmt`` or ISO text, date, naive wall time, aware) as aware in ``zone``."""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise PartitionError(
                    f"{what}={text!r} is not a date or time",
                    obj=text,
                    hint=f"write it as {fmt!r} or ISO 8601",
                ) from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise PartitionError(
            f"{what}={value!r} must be a str, date or datetime",
            obj=repr(value),
            hint="e.g. '2024-01-01'",
        )
    if not MIN_YEAR < value.year < MAX_YEAR:
        raise PartitionError(
            f"{what}={value.isoformat()} is out of range",
            obj=str(value),
            hint=f"use a year between {MIN_YEAR + 1} and {MAX_YEAR - 1}",
        )
    if value.tzinfo is None:
        return from_instant(wall_to_instant(value, zone), zone)
    return value.astimezone(zone)


class Segment(NamedTuple):
    """A stretch of constant UTC offset: [start, end); start/end None when beyond the search."""

    start: int | None
    before: int | None  # offset before ``start``
    offset: int
    end: int | None


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
        _offset(zone, t),
        None if first is None else first[0],
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


class Timeline:
    """The fire instants of ``cron`` in ``zone``: next, previous, count, n-th, iterate."""

    def __init__(self, cron: Cron, zone: ZoneInfo) -> None:
        self.cron = cron
        self.zone = zone

    def offset(self, instant: int) -> int:
        return _offset(self.zone, instant)

    def segment(self, t: int) -> Segment:
        return zone_segment(self.zone, t)

    def _wall_floor(self, seg: Segment) -> int | None:
        """First wall time of the segment that fires, by the fold rule (None: unbounded)."""
        if seg.start is None or seg.before is None:
            return None
        skip_repeat = seg.before > seg.offset and not self.cron.every_hour
        return seg.start + (seg.before if skip_repeat else seg.offset)

    def _gap_fire(self, seg: Segment) -> bool:
        """True if cron times fell into the gap before ``seg`` and fire at its start."""
        if seg.start is None or seg.before is None or seg.before >= seg.offset:
            return False
        first, after = seg.start + seg.before, seg.start + seg.offset
        return self.cron.count(first, after) > 0 and self.cron.count(after, after + 1) == 0

    def _lattice_lo(self, seg: Segment, t: int) -> int:
        floor = self._wall_floor(seg)
        return t + seg.offset if floor is None else max(floor, t + seg.offset)

    def count(self, a: int, b: int) -> int:
        """Fire instants in [a, b)."""
        total, t = 0, a
        while t < b:
            seg = self.segment(t)
            stop = b if seg.end is None else min(seg.end, b)
            if seg.start is not None and seg.start >= a and self._gap_fire(seg):
                total += 1
            total += self.cron.count(self._lattice_lo(seg, t), stop + seg.offset)
            t = stop
        return total

    def nth_ge(self, a: int, n: int) -> int:
        """The n-th (0-based) fire instant at or after ``a``."""
        t = a
        while True:
            seg = self.segment(t)
            if seg.start is not None and seg.start >= a and self._gap_fire(seg):
                if n == 0:
                    return seg.start
                n -= 1
            lo = self._lattice_lo(seg, t)
            if seg.end is not None:
                here = self.cron.count(lo, seg.end + seg.offset)
                if n >= here:
                    n -= here
                    t = seg.end
                    continue
            return self.cron.nth_ge(lo, n) - seg.offset

    def next_ge(self, a: int) -> int:
        return self.nth_ge(a, 0)

    def prev_le(self, t: int) -> int:
        """The last fire instant at or before ``t``."""
        seg = self.segment(t)
        floor = self._wall_floor(seg)
        gap = seg.start if seg.start is not None and self._gap_fire(seg) else None
        wall = self.cron.prev_lt(t + seg.offset + 1)
        if floor is None or wall >= floor:
            candidate = wall - seg.offset
            return candidate if gap is None else max(candidate, gap)
        if gap is not None:
            return gap
        assert seg.start is not None  # floor is set only when start is
        return self.prev_le(seg.start - 1)

    def iterate(self, a: int, b: int | None = None) -> Iterator[int]:
        """Fire instants from ``a`` (included) to ``b`` (excluded; None: forever), in order."""
        t = a
        while b is None or t < b:
            seg = self.segment(t)
            stop = seg.end if b is None else (b if seg.end is None else min(seg.end, b))
            if seg.start is not None and seg.start >= a and self._gap_fire(seg):
                yield seg.start
            wall = self.cron.next_ge(self._lattice_lo(seg, t))
            while stop is None or wall < stop + seg.offset:
                yield wall - seg.offset
                wall = self.cron.next_ge(wall + 1)
            if stop is None:
                return
            t = stop


class KeyedSchedule(Protocol):
    """What TimeKeys needs of a time-window space."""

    timeline: Timeline

    def key_at(self, instant: int) -> str: ...

    def instant_of(self, key: str) -> int | None: ...


class TimeKeys(Sequence[str]):
    """The keys of the windows starting in [first, stop), computed on demand (never a list)."""

    def __init__(self, space: KeyedSchedule, first: int, stop: int) -> None:
        self._space, self._first, self._stop = space, first, stop
        self._count: int | None = None  # counted on first use: indexing does not need it

    def __len__(self) -> int:
        if self._count is None:
            self._count = self._space.timeline.count(self._first, self._stop)
        return self._count

    def __bool__(self) -> bool:
        return self._stop > self._first

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            if stop <= start:
                return TimeKeys(self._space, self._first, self._first)
            return TimeKeys(self._space, self._nth(start), self._nth(stop - 1) + 1)
        return self._space.key_at(self._nth(index))

    def _nth(self, index: int) -> int:
        if index < 0:
            index += len(self)
        instant = self._space.timeline.nth_ge(self._first, index) if index >= 0 else self._stop
        if instant >= self._stop:
            raise IndexError("time window index out of range")
        return instant

    def __iter__(self) -> Iterator[str]:
        for instant in self._space.timeline.iterate(self._first, self._stop):
            yield self._space.key_at(instant)

    def __contains__(self, key: object) -> bool:
        instant = self._space.instant_of(key) if isinstance(key, str) else None
        return instant is not None and self._first <= instant < self._stop

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        instant = self._space.instant_of(value) if isinstance(value, str) else None
        if instant is None or not self._first <= instant < self._stop:
            raise ValueError(f"{value!r} is not in these keys")
        position = self._space.timeline.count(self._first, instant)
        if position < start or (stop is not None and position >= stop):
            raise ValueError(f"{value!r} is not in keys[{start}:{stop}]")
        return position

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # a sequence compared by value

    def __repr__(self) -> str:
        if not self:
            return "TimeKeys([])"
        return f"TimeKeys({self[0]!r} … {self[-1]!r}, {len(self)} keys)"
