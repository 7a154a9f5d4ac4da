"""Time-window partitions: each key names one window ``[start, end)`` of a cron schedule in a zone.

Window ``i`` runs from the i-th fire time of the cron (in ``timezone``, at or after ``start``) to
the next one, so windows are contiguous and never overlap. The cron is read by the same engine as
``Cron`` schedules (same grammar, same instants), with these DST policies: ``on_gap="next"``
always, so wall times the clock skips start a window when it jumps, and ``on_repeat`` as a
schedule's default (``"both"`` when the hour field is ``*``, else ``"first"``). A ``Cron`` with
those two policies fires exactly at the window starts; a ``Cron`` with its default policies differs
only for a cron whose hour field is ``*``, which by default skips the missing hour
(``on_gap="skip"``). So a day is one window of 23, 24 or 25 hours (23.5/24.5 at Lord Howe); a day
whose midnight does not exist starts when the clock jumps (01:00 at America/Sao_Paulo on
2018-11-04); an hour that repeats at fall-back gives two hourly windows.

Keys are the window start formatted with ``fmt``. **Repeated hours**: when a cron fires in both
passes of a repeated wall time (hour field ``*``) and ``fmt`` has no ``%z``, the key of a window
starting at such a time carries its UTC offset: ``2025-10-26-02:00+02:00`` then
``2025-10-26-02:00+01:00`` (Europe/Berlin); every other key is plain (``2025-10-26-03:00``).
A key that names a wall time the clock skipped is not a key (the window starting at the end of the
gap has the key of that time).

The keys of a space are its complete windows: those that ended by ``now``; ``end_offset=1`` adds
the current, incomplete window (``-1`` drops the last complete one). ``end`` (exclusive) stops the
space: only windows starting before it. Counting, membership and indexing are arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

from legato.definitions._cron.expression import CronExpr
from legato.definitions._cron.problem import Problem
from legato.definitions._cron.timeline import Timeline, default_policies
from legato.definitions._cron.zone_names import load_zone
from legato.definitions._cron.zones import (
    MAX_YEAR,
    MIN_YEAR,
    from_instant,
    to_instant,
    wall_to_instant,
)
from legato.definitions.partitions._time_keys import (
    TimeKeys,
    check_fmt,
    default_fmt,
    offset_seconds,
    offset_text,
    to_zone_datetime,
)
from legato.definitions.partitions.base import DynamicLookup, PartitionSpace, resolve_now
from legato.definitions.partitions.keys import check_dimension_name, check_key
from legato.errors import PartitionError

_SUFFIX = re.compile(r"[+-]\d{2}:\d{2}(?::\d{2})?$")
_SAMPLE_WINDOWS = 48
_CADENCES: dict[tuple[str, ...], str] = {
    ("*", "*", "*", "*", "*"): "minutely",
    ("1", "*", "*", "*", "*"): "hourly",
    ("1", "1", "*", "*", "*"): "daily",
    ("1", "1", "*", "*", "1"): "weekly",
    ("1", "1", "1", "*", "*"): "monthly",
    ("1", "1", "1", "1", "*"): "yearly",
}


@dataclass(frozen=True)
class Window:
    """One time window ``[start, end)``; ``start`` and ``end`` are aware, in the space's zone.

    Subtract or compare them after ``.astimezone(UTC)`` (Python compares datetimes that share a
    zone by wall clock); ``duration`` does that for you.
    """

    key: str
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)


class TimeWindowPartitions(PartitionSpace):
    """Windows between consecutive fire times of ``cron`` in ``timezone``, from ``start``.

    Example:
        >>> days = TimeWindowPartitions(cron="0 0 * * *", start="2024-01-01",
        ...                             timezone="Europe/Berlin", fmt="%Y-%m-%d")
        >>> days.window("2024-03-31").duration
        datetime.timedelta(seconds=82800)
    """

    def __init__(
        self,
        cron: str,
        start: str | date | datetime,
        end: str | date | datetime | None = None,
        timezone: str = "UTC",
        fmt: str | None = None,
        end_offset: int = 0,
        *,
        name: str = "date",
    ) -> None:
        try:
            self._cron = CronExpr.parse(cron)
        except Problem as problem:
            raise self._refuse("cron", cron, problem) from None
        try:
            self.zone = load_zone(timezone)
        except Problem as problem:
            raise self._refuse("timezone", timezone, problem) from None
        self.fmt = check_fmt(fmt if fmt is not None else default_fmt(self._cron.offsets))
        self.name = check_dimension_name(name)
        if not isinstance(end_offset, int) or isinstance(end_offset, bool):
            raise PartitionError(
                f"end_offset={end_offset!r} must be an int",
                obj=repr(end_offset),
                hint="use 0 (complete windows), 1 (also the current window)...",
            )
        self.end_offset = end_offset
        self.timeline = Timeline(self._cron, self.zone, "next", default_policies(self._cron)[1])
        self.start = to_zone_datetime(start, self.zone, self.fmt, "start")
        self.end = None if end is None else to_zone_datetime(end, self.zone, self.fmt, "end")
        self.first_instant = self.timeline.next_ge(to_instant(self.start))
        self.end_instant = None if self.end is None else to_instant(self.end)
        if self.end_instant is not None and self.end_instant <= self.first_instant:
            raise PartitionError(
                f"end {end!s} is not after the first window ({self.key_at(self.first_instant)})",
                obj=str(end),
                hint="move end later or start earlier",
            )
        self._check_keys()

    # -- construction helpers ---------------------------------------------------------------

    def _refuse(self, argument: str, value: object, problem: Problem) -> PartitionError:
        return PartitionError(
            f"{type(self).__name__} {argument}={value!r}: {problem.problem}",
            obj=repr(value),
            hint=problem.fix,
        )

    def _check_keys(self) -> None:
        """Format and parse the first windows back: fmt must name each window once."""
        seen: set[str] = set()
        for instant in islice(self.timeline.iterate(self.first_instant), _SAMPLE_WINDOWS):
            key = self.key_at(instant)
            check_key(key, what=f"key made by fmt={self.fmt!r}")
            if key in seen or self.instant_of(key) != instant:
                raise PartitionError(
                    f"fmt={self.fmt!r} gives window {from_instant(instant, self.zone)} the key "
                    f"{key!r}, which does not name it alone",
                    obj=self.fmt,
                    hint="add the fields the schedule varies (e.g. %H:%M for hourly windows)",
                )
            seen.add(key)

    # -- keys <-> instants (the API partition mappings build on) ---------------------------

    def key_at(self, instant: int) -> str:
        """The key of the window starting at fire instant ``instant``."""
        local = from_instant(instant, self.zone)
        key = local.strftime(self.fmt)
        if self.timeline.on_repeat == "both" and "%z" not in self.fmt:
            other = local.replace(fold=1 - local.fold).utcoffset()
            offset = local.utcoffset()
            if other != offset and offset is not None:  # the wall time repeats: say which pass
                key += offset_text(int(offset.total_seconds()))
        return key

    def instant_of(self, key: str) -> int | None:
        """The fire instant a key names, or None if the key names no window of this schedule."""
        if not isinstance(key, str):
            return None
        cache = self.__dict__.setdefault("_instants", {})
        if key in cache:
            return cache[key]  # type: ignore[no-any-return]
        instant = self._instant_of(key)
        if len(cache) < 500_000:
            cache[key] = instant
        return instant

    def _instant_of(self, key: str) -> int | None:
        offset = None
        try:
            parsed = datetime.strptime(key, self.fmt)
        except ValueError:
            match = _SUFFIX.search(key)
            if match is None:
                return None
            try:
                parsed = datetime.strptime(key[: match.start()], self.fmt)
            except ValueError:
                return None
            offset = offset_seconds(match.group())
        if not MIN_YEAR < parsed.year < MAX_YEAR:
            return None
        if parsed.tzinfo is not None:
            approx = to_instant(parsed)
        elif offset is not None:
            approx = to_instant(parsed.replace(tzinfo=UTC)) - offset
        else:
            approx = wall_to_instant(parsed, self.zone)
        instant = self.timeline.next_ge(approx)
        return instant if self.key_at(instant) == key else None

    def shift(self, instant: int, n: int) -> int:
        """The fire instant ``n`` windows after (n < 0: before) fire instant ``instant``."""
        if n >= 0:
            return self.timeline.nth_ge(instant, n)
        for _ in range(-n):
            instant = self.timeline.prev_le(instant - 1)
        return instant

    def stop_instant(self, now: datetime | None) -> int:
        """The start of the first window after the last key (as of ``now``)."""
        if now is not None:  # a plan passes one ``now`` to every call: remember the answer
            cached = self.__dict__.get("_stop")
            if cached is not None and cached[0] == now:
                return int(cached[1])
            stop = self._stop_instant(now)
            self.__dict__["_stop"] = (now, stop)
            return stop
        return self._stop_instant(now)

    def _stop_instant(self, now: datetime | None) -> int:
        current = self.timeline.prev_le(to_instant(resolve_now(now)))
        stop = max(self.shift(current, self.end_offset), self.first_instant)
        if self.end_instant is not None:
            stop = min(stop, self.timeline.next_ge(self.end_instant))
        return stop

    def keys_starting(self, lo: int, hi: int, now: datetime | None) -> list[str]:
        """Keys of this space's windows starting in [lo, hi), clipped to the space."""
        lo, hi = max(lo, self.first_instant), min(hi, self.stop_instant(now))
        return [self.key_at(t) for t in self.timeline.iterate(lo, hi)] if lo < hi else []

    def fits_in(self, coarse: TimeWindowPartitions, samples: int = 60) -> bool:
        """True if (sampled) every window boundary of ``coarse`` is a boundary of this space."""
        first = coarse.timeline.next_ge(max(self.first_instant, coarse.first_instant))
        edges = islice(coarse.timeline.iterate(first), samples)
        return all(self.timeline.next_ge(edge) == edge for edge in edges)

    def _in_bounds(self, instant: int) -> bool:
        return instant >= self.first_instant and (
            self.end_instant is None or instant < self.end_instant
        )

    def _window_at(self, instant: int) -> Window:
        end = self.timeline.next_ge(instant + 1)
        return Window(
            self.key_at(instant), from_instant(instant, self.zone), from_instant(end, self.zone)
        )

    # -- PartitionSpace -----------------------------------------------------------------------

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return (self.name,)

    @property
    def cron(self) -> str:
        """The schedule in canonical form (five fields unless the seconds vary)."""
        return str(self._cron)

    @property
    def timezone(self) -> str:
        return self.zone.key

    @property
    def cadence(self) -> str:
        """'minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly' or 'custom'."""
        kinds = tuple("*" if f == "*" else "1" if f.isdigit() else "n" for f in self.cron.split())
        return _CADENCES.get(kinds, "custom")

    def keys(self, now: datetime | None = None, dynamic: DynamicLookup | None = None) -> TimeKeys:
        return TimeKeys(self, self.first_instant, self.stop_instant(now))

    def count(self, now: datetime | None = None, dynamic: DynamicLookup | None = None) -> int:
        return self.timeline.count(self.first_instant, self.stop_instant(now))

    def contains(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> bool:
        instant = self.instant_of(key)
        return instant is not None and self.first_instant <= instant < self.stop_instant(now)

    def validate_key(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> None:
        if not self.contains(key, now, dynamic):
            hint = self._explain_range(now, dynamic)
            if self.instant_of(key) is None:
                hint = self._why_no_window(key) or hint
            raise PartitionError(
                f"{key!r} is not a partition key of {self.summary()}", obj=repr(key), hint=hint
            )

    def _why_no_window(self, key: str) -> str | None:
        """Explain a key whose wall time was skipped or repeats at a DST change."""
        try:
            wall = datetime.strptime(key, self.fmt).replace(tzinfo=None)
        except (TypeError, ValueError):
            return None
        first = wall_to_instant(wall, self.zone)
        if from_instant(first, self.zone).replace(tzinfo=None) != wall:
            after = self.key_at(self.timeline.next_ge(first))
            return (
                f"{wall:%Y-%m-%d %H:%M} does not exist in {self.timezone} (the clocks jump "
                f"over it); the window after the jump is {after!r}"
            )
        second = to_instant(wall.replace(tzinfo=self.zone, fold=1))
        options = [self.key_at(i) for i in (first, second) if self.timeline.next_ge(i) == i]
        if second != first and len(options) == 2:
            return (
                f"{wall:%Y-%m-%d %H:%M} happens twice in {self.timezone}; name the pass: "
                f"{options[0]!r} or {options[1]!r}"
            )
        return None

    def window(self, key: str) -> Window:
        """The window ``[start, end)`` a key names (any window of the space, ignoring ``now``)."""
        instant = self.instant_of(key)
        if instant is None or not self._in_bounds(instant):
            raise PartitionError(
                f"{key!r} names no window of {self.summary()}",
                obj=repr(key),
                hint=self._explain_range(None, None),
            )
        return self._window_at(instant)

    def key_for(self, moment: datetime) -> str:
        """The key of the window that contains the aware datetime ``moment``."""
        instant = self.timeline.prev_le(to_instant(resolve_now(moment)))
        if not self._in_bounds(instant):
            raise PartitionError(
                f"{moment.isoformat()} is outside {self.summary()}",
                obj=moment.isoformat(),
                hint=self._explain_range(None, None),
            )
        return self.key_at(instant)

    def windows_between(self, start: datetime, end: datetime) -> list[Window]:
        """The windows that overlap ``[start, end)`` (aware datetimes), within start/end."""
        lo = max(self.timeline.prev_le(to_instant(resolve_now(start))), self.first_instant)
        hi = to_instant(resolve_now(end))
        if self.end_instant is not None:
            hi = min(hi, self.end_instant)
        return [self._window_at(i) for i in self.timeline.iterate(lo, hi)]

    def last_complete(self, now: datetime | None = None) -> Window | None:
        """The latest window that ended by ``now`` (ignores end_offset); None if none has."""
        last = self.timeline.prev_le(self.timeline.prev_le(to_instant(resolve_now(now))) - 1)
        if self.end_instant is not None:
            last = min(last, self.timeline.prev_le(self.end_instant - 1))
        return self._window_at(last) if last >= self.first_instant else None

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "time_window",
            "name": self.name,
            "cron": self.cron,
            "cadence": self.cadence,
            "timezone": self.timezone,
            "fmt": self.fmt,
            "start": from_instant(self.first_instant, self.zone).isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "end_offset": self.end_offset,
        }

    def summary(self) -> str:
        return f"{self.cadence} partitions from {self.key_at(self.first_instant)} ({self.timezone})"

    def _explain_range(self, now: datetime | None, dynamic: DynamicLookup | None) -> str:
        keys = self.keys(now)
        shape = f"keys look like {self.key_at(self.first_instant)!r} (fmt {self.fmt!r})"
        if not keys:
            return f"{shape}; there are no complete windows yet"
        return f"{shape}; valid keys run from {keys[0]!r} to {keys[-1]!r}"
