"""Schedules as pure data: when a ``Cron`` or an ``Every`` fires, and which missed ticks are due.

Every method is a pure function of its arguments: datetimes go in and come out aware, in UTC.

DST rules for ``Cron`` (the expression names wall-clock times in ``timezone``; the cron engine in
``definitions/_cron`` reads it, the same one time-window partitions use):

* A wall time that does not exist (clocks jump forward) follows ``on_gap``: ``"next"`` fires at the
  first instant after the gap (``30 2 * * *`` in New York fires at 03:00 EDT on the day clocks
  jump from 02:00 to 03:00); several missing times collapse into that one fire. ``"skip"`` drops it.
* A wall time that occurs twice (clocks fall back) follows ``on_repeat``: ``"first"``, ``"last"``
  or ``"both"`` occurrences.
* Defaults depend on the hour field. A cron that runs every hour (hour field ``*``, as in
  ``*/15 * * * *`` or ``@hourly``) follows real elapsed time: it fires at every instant whose wall
  time matches, so a repeated hour fires twice and a missing hour not at all (``"skip"`` and
  ``"both"``). A cron with fixed hours runs once per matching day (``"next"`` and ``"first"``).
  A policy passed explicitly applies to either kind. Time-window partitions of the same expression
  start their windows where ``on_gap="next"`` and the default ``on_repeat`` fire.

Ticks missed while no daemon ran follow ``catch_up`` (``CatchUp`` in ``catch_up``, re-exported here;
default ``CatchUp.LATEST``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from legato._internal.clock import SystemClock
from legato.definitions._cron.expression import CronExpr
from legato.definitions._cron.problem import Problem
from legato.definitions._cron.timeline import (
    GAP_POLICIES,
    REPEAT_POLICIES,
    GapPolicy,
    RepeatPolicy,
    Timeline,
    default_policies,
)
from legato.definitions._cron.zone_names import load_zone
from legato.definitions._cron.zones import MAX_YEAR, to_instant
from legato.definitions.catch_up import CatchUp
from legato.definitions.trigger_specs import CronSpec, EverySpec, FireSpec, describe
from legato.errors import DefinitionError

__all__ = ["CatchUp", "Cron", "Every", "GapPolicy", "RepeatPolicy"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_FIRE = to_instant(datetime(MAX_YEAR, 1, 1, tzinfo=UTC))  # the zone maths' horizon
_LEGATO_DIR = str(Path(__file__).parent.parent)


class _Schedule:
    """Fire-time maths shared by ``Cron`` and ``Every``; subclasses provide ``_fires_after``."""

    timezone: str
    catch_up: CatchUp
    name: str | None
    source: str | None
    _tz: ZoneInfo

    def _fires_after(self, after: datetime, until: datetime | None = None) -> Iterator[datetime]:
        """Fire times ``t`` with ``after < t`` (and ``t <= until``), ascending."""
        raise NotImplementedError

    def next_fire(self, after: datetime) -> datetime:
        """The first fire time strictly after ``after``."""
        fire = next(self._fires_after(_utc(after, "after")), None)
        if fire is None:
            self._fail(f"fires no more after {after.isoformat()}", "choose a schedule that recurs")
        return fire

    def next_n(self, after: datetime, n: int = 5) -> list[datetime]:
        """The first ``n`` fire times strictly after ``after``."""
        return list(islice(self._fires_after(_utc(after, "after")), n))

    def fires_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Fire times ``t`` with ``start < t <= end``, ascending."""
        return self._fires_after(_utc(start, "start"), _utc(end, "end"))

    def due_ticks(self, last_tick: datetime | None, now: datetime) -> list[datetime]:
        """Ticks after ``last_tick`` and at or before ``now`` to run now, per ``catch_up``.

        ``last_tick=None`` means the schedule was never evaluated: nothing is due yet, and the
        caller records ``now`` as its cursor so that ticks count from there.
        """
        now = _utc(now, "now")
        if last_tick is None or (last_tick := _utc(last_tick, "last_tick")) >= now:
            return []
        policy = self.catch_up
        horizon = policy.grace if policy.within is None else max(policy.within, policy.grace)
        ticks = list(self.fires_between(max(last_tick, now - horizon), now))
        if ticks or policy.mode != "latest":
            return ticks
        latest = self._latest_fire(last_tick, now)
        return [] if latest is None else [latest]

    def previous_fire(self, at: datetime) -> datetime | None:
        """The latest fire time at or before ``at`` (None if it never fired in the year before)."""
        at = _utc(at, "at")
        return self._latest_fire(at - timedelta(days=366), at)

    def local_time(self, fire: datetime) -> datetime:
        """``fire`` as an aware wall time in the schedule's zone (``fold=1`` on a repeat's second
        occurrence), for partition keys."""
        return _utc(fire, "fire").astimezone(self._tz)

    def _latest_fire(self, floor: datetime, now: datetime) -> datetime | None:
        span = timedelta(minutes=1)
        while True:  # look back over growing windows rather than walking every tick since `floor`
            start = max(floor, now - span)
            fires = list(self.fires_between(start, now))
            if fires or start == floor:
                return fires[-1] if fires else None
            span *= 8

    def _describe_fires(self, now: datetime | None) -> list[FireSpec]:
        fires = self.next_n(now or SystemClock().now(), 5)
        return [FireSpec(f.isoformat(), self.local_time(f).isoformat()) for f in fires]

    def _label(self) -> str:
        raise NotImplementedError

    def _fail(self, problem: str, fix: str) -> NoReturn:
        where = f" ({self.source})" if self.source else ""
        raise DefinitionError(
            f"{self._label()}{where}: {problem}",
            obj=self.name or self._label(),
            source=self.source,
            hint=fix,
        )

    def _load_zone(self) -> ZoneInfo:
        try:
            return load_zone(self.timezone)
        except Problem as problem:
            self._fail(problem.problem, self._zone_fix(problem))

    def _zone_fix(self, problem: Problem) -> str:
        return problem.fix


@dataclass(frozen=True)
class Cron(_Schedule):
    """Fire at the wall-clock times a cron expression names, in an IANA time zone.

    Args:
        expr: 5 fields ``minute hour day-of-month month day-of-week``, or 6 with **seconds first**
            (``second minute hour day-of-month month day-of-week``, as in Quartz and Spring), or
            one of ``@yearly @monthly @weekly @daily @midnight @hourly``.
        timezone: an IANA name such as ``"America/New_York"``; abbreviations (``EST``) are refused.
        on_gap: ``"next"`` or ``"skip"`` for wall times that do not exist (see the module doc).
        on_repeat: ``"first"``, ``"last"`` or ``"both"`` for wall times that occur twice.
        catch_up: what to do with ticks missed during downtime (default ``CatchUp.LATEST``).
        name: used in messages and by the UI.

    Raises:
        DefinitionError: naming the schedule, where it was defined, the problem and the fix.

    Example:
        >>> Cron("30 2 * * *", "America/New_York").next_fire(datetime(2024, 3, 9, 12, tzinfo=UTC))
        datetime.datetime(2024, 3, 10, 7, 0, tzinfo=datetime.timezone.utc)
    """

    expr: str
    timezone: str = "UTC"
    _: KW_ONLY
    on_gap: GapPolicy | None = None
    on_repeat: RepeatPolicy | None = None
    catch_up: CatchUp = CatchUp.LATEST
    name: str | None = None
    source: str | None = field(default=None, init=False, compare=False)
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _cron: CronExpr = field(init=False, repr=False, compare=False)
    _gap: GapPolicy = field(init=False, repr=False, compare=False)
    _repeat: RepeatPolicy = field(init=False, repr=False, compare=False)
    _timeline: Timeline = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", _caller())
        try:
            cron = CronExpr.parse(self.expr)
        except Problem as problem:
            self._fail(problem.problem, problem.fix)
        gap, repeat = default_policies(cron)
        self._set(
            _cron=cron,
            _gap=self._policy("on_gap", self.on_gap, GAP_POLICIES, gap),
            _repeat=self._policy("on_repeat", self.on_repeat, REPEAT_POLICIES, repeat),
        )
        if not isinstance(self.catch_up, CatchUp):
            self._fail(
                f"catch_up must be a CatchUp, got {self.catch_up!r}",
                "use CatchUp.NONE, CatchUp.LATEST or CatchUp.all(within=...)",
            )
        tz = self._load_zone()
        self._set(_tz=tz, _timeline=Timeline(cron, tz, self._gap, self._repeat))

    def _set(self, **values: Any) -> None:
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def _policy(self, option: str, value: Any, allowed: tuple[str, ...], default: str) -> Any:
        if value is None:
            return default
        if value not in allowed:
            self._fail(
                f"{option}={value!r} is not a policy", f"use one of {', '.join(map(repr, allowed))}"
            )
        return value

    def _zone_fix(self, problem: Problem) -> str:
        if problem.suggestion is None:
            return problem.fix
        tz = ZoneInfo(problem.suggestion)
        timeline = Timeline(self._cron, tz, self._gap, self._repeat)
        fires = islice(_fires(timeline, SystemClock().now(), None), 5)
        shown = ", ".join(f.astimezone(tz).isoformat() for f in fires)
        return f"{problem.fix}; next 5 fires in {problem.suggestion!r}: {shown}"

    def _fires_after(self, after: datetime, until: datetime | None = None) -> Iterator[datetime]:
        return _fires(self._timeline, after, until)

    def _latest_fire(self, floor: datetime, now: datetime) -> datetime | None:
        if now >= _EPOCH + timedelta(seconds=_LAST_FIRE):
            return super()._latest_fire(floor, now)
        fire = _from_instant(self._timeline.prev_le(to_instant(now)))
        return fire if fire > floor else None

    def _label(self) -> str:
        return f"schedule {self.name!r}" if self.name else f"Cron({self.expr!r})"

    def describe(self, now: datetime | None = None) -> dict[str, Any]:
        """A JSON-able summary: expression, zone, effective policies and the next 5 fires."""
        return describe(
            CronSpec(
                expr=self.expr,
                timezone=self.timezone,
                name=self.name,
                on_gap=self._gap,
                on_repeat=self._repeat,
                catch_up=self.catch_up.spec(),
                source=self.source,
                next_fires=self._describe_fires(now),
            )
        )


@dataclass(frozen=True, init=False)
class Every(_Schedule):
    """Fire every ``interval`` of real time at ``start + k * interval`` (k >= 0), never drifting.

    Args:
        interval: a ``timedelta`` or a number of seconds, at least one second.
        start: the anchor (default the Unix epoch); a naive value is read in ``timezone``.
        timezone: the zone of ``local_time`` and of a naive ``start``.
        catch_up: what to do with ticks missed during downtime (default ``CatchUp.LATEST``).
        name: used in messages and by the UI.

    Example:
        >>> Every(timedelta(hours=6)).next_fire(datetime(2024, 1, 1, 7, tzinfo=UTC))
        datetime.datetime(2024, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
    """

    interval: timedelta
    start: datetime
    timezone: str
    catch_up: CatchUp
    name: str | None
    source: str | None = field(compare=False)
    _tz: ZoneInfo = field(repr=False, compare=False)

    def __init__(
        self,
        interval: timedelta | float,
        *,
        start: datetime | None = None,
        timezone: str = "UTC",
        catch_up: CatchUp = CatchUp.LATEST,
        name: str | None = None,
    ) -> None:
        values = {
            "interval": interval,
            "start": start,
            "timezone": timezone,
            "catch_up": catch_up,
            "name": name,
            "source": _caller(),
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_tz", self._load_zone())
        if isinstance(interval, int | float) and not isinstance(interval, bool):
            object.__setattr__(self, "interval", timedelta(seconds=interval))
        elif not isinstance(interval, timedelta):
            self._fail(
                f"interval must be a timedelta or seconds, got {interval!r}",
                "e.g. Every(timedelta(hours=1)) or Every(3600)",
            )
        if self.interval < timedelta(seconds=1):
            self._fail(
                f"interval {self.interval} is shorter than one second",
                "use an interval of at least timedelta(seconds=1)",
            )
        if start is None:
            start = _EPOCH
        elif not isinstance(start, datetime):
            self._fail(f"start must be a datetime, got {start!r}", "e.g. datetime(2024, 1, 1)")
        elif start.tzinfo is None:
            start = start.replace(tzinfo=self._tz)
        object.__setattr__(self, "start", start.astimezone(UTC))
        if not isinstance(catch_up, CatchUp):
            self._fail(
                f"catch_up must be a CatchUp, got {catch_up!r}",
                "use CatchUp.NONE, CatchUp.LATEST or CatchUp.all(within=...)",
            )

    def _fires_after(self, after: datetime, until: datetime | None = None) -> Iterator[datetime]:
        k = max(0, (after - self.start) // self.interval + 1)  # nothing fires before `start`
        while until is None or self.start + k * self.interval <= until:
            yield self.start + k * self.interval
            k += 1

    def _label(self) -> str:
        return f"schedule {self.name!r}" if self.name else f"Every({self.interval})"

    def describe(self, now: datetime | None = None) -> dict[str, Any]:
        """A JSON-able summary: interval, anchor, zone, catch-up policy and the next 5 fires."""
        return describe(
            EverySpec(
                interval_seconds=self.interval.total_seconds(),
                start=self.start.isoformat(),
                timezone=self.timezone,
                name=self.name,
                catch_up=self.catch_up.spec(),
                source=self.source,
                next_fires=self._describe_fires(now),
            )
        )


def _fires(timeline: Timeline, after: datetime, until: datetime | None) -> Iterator[datetime]:
    """The fire times of ``timeline`` after ``after`` and at or before ``until``, in UTC."""
    stop = _LAST_FIRE if until is None else min(to_instant(until) + 1, _LAST_FIRE)
    return map(_from_instant, timeline.iterate(to_instant(after) + 1, stop))


_from_instant = partial(datetime.fromtimestamp, tz=UTC)


def _utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{what} must be an aware datetime (e.g. tzinfo=UTC), got {value!r}")
    return value.astimezone(UTC)


def _caller() -> str | None:
    """``file:line`` of the first frame outside Legato: where the user defined the schedule."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(("<", _LEGATO_DIR)):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None
