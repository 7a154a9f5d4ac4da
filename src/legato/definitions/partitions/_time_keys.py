"""The keys of a time-window space as a lazy sequence, and the text forms keys and bounds take.

``TimeKeys`` counts, indexes and tests membership through the space's ``Timeline`` (arithmetic:
a million hourly keys are never listed); the helpers check the ``fmt`` that names windows, format
UTC offsets for keys of repeated hours and read ``start``/``end`` bounds in the space's zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any, Protocol, overload
from zoneinfo import ZoneInfo

from legato.definitions._cron.timeline import Timeline
from legato.definitions._cron.zones import MAX_YEAR, MIN_YEAR, from_instant, wall_to_instant
from legato.errors import PartitionError

_DIRECTIVE = re.compile(r"%(.)")
_ALLOWED = set("YmdHMSjz%")


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


def default_fmt(offsets: Sequence[int]) -> str:
    """The key format of a schedule firing at ``offsets`` (seconds) in each of its periods:
    the date, plus the time when it fires more than once a day, plus seconds when it needs them."""
    if any(offset % 60 for offset in offsets):
        return "%Y-%m-%d-%H:%M:%S"
    return "%Y-%m-%d-%H:%M" if len(offsets) > 1 else "%Y-%m-%d"


def check_fmt(fmt: object) -> str:
    """``fmt`` if it can name windows: strftime directives from ``%Y %m %d %j %H %M %S %z``,
    with ``%Y``."""
    if not isinstance(fmt, str) or not fmt:
        raise PartitionError(
            f"fmt={fmt!r} must be a non-empty strftime format",
            obj=repr(fmt),
            hint="e.g. '%Y-%m-%d' or '%Y-%m-%d-%H:%M'",
        )
    directives = _DIRECTIVE.findall(fmt)
    bad = sorted({f"%{d}" for d in directives if d not in _ALLOWED})
    if bad or _DIRECTIVE.sub("", fmt).count("%") or "Y" not in directives:
        raise PartitionError(
            f"fmt={fmt!r} cannot name windows unambiguously"
            + (f": {', '.join(bad)} not supported" if bad else ""),
            obj=fmt,
            hint="use %Y (required) %m %d %j %H %M %S %z and literal text",
        )
    return fmt


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
