"""D-12: cron fire lists across three years of DST changes equal lists computed independently.

The oracle here never calls the code under test and walks the other way round: the code walks
wall-clock times and maps them to instants; the oracle walks real time (UTC, every 15 minutes:
every offset and every DST change of these zones falls on that grid), reads the wall clock at each
instant, and applies the policies by hand.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from legato.definitions.schedules import Cron, GapPolicy, RepeatPolicy

STEP = timedelta(minutes=15)
RANGE_2024 = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
RANGE_2018 = (datetime(2017, 6, 1, tzinfo=UTC), datetime(2019, 6, 1, tzinfo=UTC))
# Hourly and quarter-hourly specs fire 9k-35k times a year; one year holds each of these zones'
# changes in both directions, so they are compared over their case's first year only.
DENSE_SPAN = timedelta(days=366)


@dataclass(frozen=True)
class Spec:
    """A cron expression and, written out by hand, the wall times it names."""

    expr: str
    minutes: frozenset[int]
    hours: frozenset[int]
    weekdays: frozenset[int] = frozenset(range(7))  # cron numbering: 0 is Sunday

    def matches(self, wall: datetime) -> bool:
        return (
            wall.minute in self.minutes
            and wall.hour in self.hours
            and wall.isoweekday() % 7 in self.weekdays
        )

    @property
    def every_hour(self) -> bool:
        return self.hours == frozenset(range(24))


ALL_HOURS = frozenset(range(24))
DAILY_0230 = Spec("30 2 * * *", frozenset({30}), frozenset({2}))
DAILY_0130 = Spec("30 1 * * *", frozenset({30}), frozenset({1}))
MIDNIGHT = Spec("0 0 * * *", frozenset({0}), frozenset({0}))
HOURLY = Spec("0 * * * *", frozenset({0}), ALL_HOURS)
QUARTER = Spec("*/15 * * * *", frozenset({0, 15, 30, 45}), ALL_HOURS)
COMPLEX = Spec("0,30 1-3 * * 0,6", frozenset({0, 30}), frozenset({1, 2, 3}), frozenset({0, 6}))
LORD_HOWE_REPEAT = Spec("45 1 * * *", frozenset({45}), frozenset({1}))  # 01:30-02:00 repeats
LORD_HOWE_GAP = Spec("15 2 * * *", frozenset({15}), frozenset({2}))  # 02:00-02:30 is missing

CASES = {  # zone, range, the specs to check there
    "America/New_York": (RANGE_2024, [DAILY_0230, DAILY_0130, MIDNIGHT, HOURLY, QUARTER, COMPLEX]),
    "Europe/London": (RANGE_2024, [DAILY_0130, DAILY_0230, HOURLY, QUARTER, COMPLEX]),
    "Australia/Lord_Howe": (
        RANGE_2024,
        [LORD_HOWE_REPEAT, LORD_HOWE_GAP, DAILY_0230, HOURLY, QUARTER, COMPLEX],
    ),
    "America/Sao_Paulo": (RANGE_2024, [MIDNIGHT, HOURLY, QUARTER]),
    "America/Sao_Paulo@2018": (RANGE_2018, [MIDNIGHT, DAILY_0230, HOURLY, QUARTER]),
    "Asia/Kolkata": (RANGE_2024, [DAILY_0230, MIDNIGHT, HOURLY, QUARTER]),
}
POLICIES: list[tuple[GapPolicy | None, RepeatPolicy | None]] = [
    (None, None),
    ("skip", "first"),
    ("skip", "last"),
    ("skip", "both"),
    ("next", "first"),
    ("next", "last"),
    ("next", "both"),
]


@dataclass(frozen=True)
class Truth:
    """What real time shows for one spec in one zone: each matching instant, and the gaps."""

    once: tuple[datetime, ...]  # matching instants whose wall time occurs once
    first: tuple[datetime, ...]  # ... that occurs twice, first occurrence
    second: tuple[datetime, ...]  # ... that occurs twice, second occurrence
    gap_ends: tuple[datetime, ...]  # the first instant after each gap that swallowed a match


@cache
def truths(case: str) -> dict[Spec, Truth]:
    """Walk real time once for a case; record, for each of its specs, what the wall clock shows."""
    zone = ZoneInfo(case.split("@")[0])
    (start, end), specs = CASES[case]
    found: dict[Spec, tuple[list[datetime], ...]] = {spec: ([], [], [], []) for spec in specs}
    instant = start + STEP
    previous = start.astimezone(zone)
    while instant <= end:
        wall = instant.astimezone(zone)
        if wall.utcoffset() != previous.utcoffset():  # a DST change happened at `instant`
            skipped = (previous + STEP).replace(tzinfo=None)  # the wall time had it not jumped
            while skipped < wall.replace(tzinfo=None):  # empty when clocks fall back
                for spec, (_, _, _, gap_ends) in found.items():
                    if spec.matches(skipped) and gap_ends[-1:] != [instant]:
                        gap_ends.append(instant)
                skipped += timedelta(minutes=1)
        twice = wall.replace(fold=1 - wall.fold).utcoffset() != wall.utcoffset()
        for spec, (once, first, second, _) in found.items():
            if not spec.matches(wall):
                continue
            if not twice:
                once.append(instant)
            else:
                (second if wall.fold else first).append(instant)
        previous = wall
        instant += STEP
    return {spec: Truth(*(tuple(items) for items in lists)) for spec, lists in found.items()}


def expected_fires(
    case: str, spec: Spec, on_gap: GapPolicy | None, on_repeat: RepeatPolicy | None
) -> list[datetime]:
    facts = truths(case)[spec]
    on_gap = on_gap or ("skip" if spec.every_hour else "next")
    on_repeat = on_repeat or ("both" if spec.every_hour else "first")
    fires = set(facts.once)
    if on_repeat in ("first", "both"):
        fires.update(facts.first)
    if on_repeat in ("last", "both"):
        fires.update(facts.second)
    if on_gap == "next":
        fires.update(facts.gap_ends)
    return sorted(fires)


MATRIX = [
    pytest.param(case, spec, gap, repeat, id=f"{case}|{spec.expr}|{gap}|{repeat}")
    for case, (_, specs) in CASES.items()
    for spec in specs
    for gap, repeat in POLICIES
]


@pytest.mark.parametrize(("case", "spec", "on_gap", "on_repeat"), MATRIX)
def test_fires_over_years_equal_the_independent_walk(
    case: str, spec: Spec, on_gap: GapPolicy | None, on_repeat: RepeatPolicy | None
) -> None:
    zone_name = case.split("@")[0]
    start, end = CASES[case][0]
    if spec.every_hour:
        end = start + DENSE_SPAN
    cron = Cron(spec.expr, zone_name, on_gap=on_gap, on_repeat=on_repeat)

    fires = list(cron.fires_between(start, end))

    assert fires == [f for f in expected_fires(case, spec, on_gap, on_repeat) if f <= end]
    assert len(dst_changes(case, end)) >= min(2, len(dst_changes(case)))  # both ways, if any
    assert all(a < b for a, b in pairwise(fires))  # increasing: no zero gaps
    assert all(f.tzinfo is UTC for f in fires)
    near = [cron.local_time(fires[i]).isoformat() for i in _near_dst_changes(case, fires)]
    assert len(set(near)) == len(near)  # wall time + offset tells apart fires around a change


@pytest.mark.parametrize("case", list(CASES))
def test_next_fire_agrees_with_fires_between_around_every_dst_change(case: str) -> None:
    zone_name = case.split("@")[0]
    for spec in CASES[case][1]:
        for on_gap, on_repeat in POLICIES:
            cron = Cron(spec.expr, zone_name, on_gap=on_gap, on_repeat=on_repeat)
            fires = expected_fires(case, spec, on_gap, on_repeat)
            for i in _near_dst_changes(case, fires):
                assert cron.next_fire(fires[i - 1]) == fires[i]
                assert cron.next_fire(fires[i] - timedelta(microseconds=1)) == fires[i]
                assert cron.next_n(fires[i - 1], 3) == fires[i : i + 3]


@cache
def dst_changes(case: str, until: datetime | None = None) -> list[datetime]:
    """The instants at which the case's zone changes its UTC offset within the case's range
    (or up to ``until``)."""
    zone = ZoneInfo(case.split("@")[0])
    (start, end), _ = CASES[case]
    end = min(end, until or end)
    changes, instant, previous = [], start + STEP, start.astimezone(zone).utcoffset()
    while instant <= end:
        offset = instant.astimezone(zone).utcoffset()
        if offset != previous:
            changes.append(instant)
        previous, instant = offset, instant + STEP
    return changes


def _near_dst_changes(case: str, fires: list[datetime]) -> list[int]:
    """Indices of the few fires on either side of each DST change."""
    near: set[int] = set()
    for change in dst_changes(case):
        i = bisect_left(fires, change)
        near.update(j for j in range(i - 3, i + 4) if 0 < j < len(fires))
    return sorted(near)


ODD_ZONES = [  # not in the matrix: a whole missing day, 2-hour DST, negative DST, 45-minute offset
    ("Pacific/Apia", 2011),
    ("Antarctica/Troll", 2023),
    ("Europe/Dublin", 2023),
    ("Pacific/Chatham", 2023),
    ("America/Santiago", 2022),
    ("Africa/Casablanca", 2022),
]


@pytest.mark.parametrize(("zone", "year"), ODD_ZONES)
@pytest.mark.parametrize("expr", ["*/15 * * * *", "30 2 * * *", "59 23 * * *"])
def test_odd_zones_never_crash_and_stay_strictly_increasing(
    zone: str, year: int, expr: str
) -> None:
    for on_gap, on_repeat in POLICIES:
        cron = Cron(expr, zone, on_gap=on_gap, on_repeat=on_repeat)
        fires = list(
            cron.fires_between(
                datetime(year, 1, 1, tzinfo=UTC), datetime(year + 2, 1, 1, tzinfo=UTC)
            )
        )
        assert all(a < b for a, b in pairwise(fires))
        for i in range(1, len(fires), max(1, len(fires) // 100)):
            assert cron.next_fire(fires[i - 1]) == fires[i]


def test_a_missing_day_moves_a_fixed_hour_run_to_the_next_midnight() -> None:
    cron = Cron("0 12 * * *", "Pacific/Apia")  # Samoa skipped 30 December 2011
    fires = cron.fires_between(_utc(2011, 12, 29), _utc(2011, 12, 31, 12))
    assert [cron.local_time(f).isoformat() for f in fires] == [
        "2011-12-29T12:00:00-10:00",
        "2011-12-31T00:00:00+14:00",
        "2011-12-31T12:00:00+14:00",
    ]


# Readable spot checks of the rules the matrix covers wholesale.


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("on_gap", "expected"),
    [
        ("next", [_utc(2024, 3, 9, 7, 30), _utc(2024, 3, 10, 7, 0), _utc(2024, 3, 11, 6, 30)]),
        ("skip", [_utc(2024, 3, 9, 7, 30), _utc(2024, 3, 11, 6, 30)]),
    ],
)
def test_daily_run_in_the_spring_gap_moves_to_the_gap_end_or_is_skipped(
    on_gap: GapPolicy, expected: list[datetime]
) -> None:
    cron = Cron("30 2 * * *", "America/New_York", on_gap=on_gap)
    assert list(cron.fires_between(_utc(2024, 3, 9), _utc(2024, 3, 11, 12))) == expected


@pytest.mark.parametrize(
    ("on_repeat", "expected"),
    [
        ("first", [_utc(2024, 11, 3, 5, 30)]),
        ("last", [_utc(2024, 11, 3, 6, 30)]),
        ("both", [_utc(2024, 11, 3, 5, 30), _utc(2024, 11, 3, 6, 30)]),
    ],
)
def test_daily_run_in_the_repeated_hour_follows_on_repeat(
    on_repeat: RepeatPolicy, expected: list[datetime]
) -> None:
    cron = Cron("30 1 * * *", "America/New_York", on_repeat=on_repeat)
    assert list(cron.fires_between(_utc(2024, 11, 3), _utc(2024, 11, 3, 23))) == expected


def test_quarter_hourly_fires_every_real_quarter_hour_through_fall_back() -> None:
    cron = Cron("*/15 * * * *", "America/New_York")
    fires = list(cron.fires_between(_utc(2024, 11, 3, 4, 45), _utc(2024, 11, 3, 7, 0)))
    assert fires == [_utc(2024, 11, 3, 5, 0) + i * timedelta(minutes=15) for i in range(9)]
    walls = [cron.local_time(f).strftime("%H:%M%z") for f in fires]
    assert walls == [
        "01:00-0400",
        "01:15-0400",
        "01:30-0400",
        "01:45-0400",
        "01:00-0500",
        "01:15-0500",
        "01:30-0500",
        "01:45-0500",
        "02:00-0500",
    ]


def test_hourly_skips_the_missing_hour_so_real_intervals_stay_one_hour() -> None:
    cron = Cron("30 * * * *", "America/New_York")
    fires = list(cron.fires_between(_utc(2024, 3, 10, 6), _utc(2024, 3, 10, 9, 30)))
    assert [cron.local_time(f).strftime("%H:%M") for f in fires] == [
        "01:30",
        "03:30",
        "04:30",
        "05:30",
    ]
    assert {b - a for a, b in pairwise(fires)} == {timedelta(hours=1)}


def test_sao_paulo_2018_midnight_gap_runs_at_one_in_the_morning() -> None:
    cron = Cron("0 0 * * *", "America/Sao_Paulo")
    fires = list(cron.fires_between(_utc(2018, 11, 3, 12), _utc(2018, 11, 5, 12)))
    assert [cron.local_time(f).isoformat() for f in fires] == [
        "2018-11-04T01:00:00-02:00",
        "2018-11-05T00:00:00-02:00",
    ]


def test_lord_howe_half_hour_shift() -> None:
    gap = Cron("15 2 * * *", "Australia/Lord_Howe")  # 2024-10-06: 02:00 jumps to 02:30
    fire = gap.next_fire(_utc(2024, 10, 5, 12))
    assert gap.local_time(fire).isoformat() == "2024-10-06T02:30:00+11:00"
    both = Cron("45 1 * * *", "Australia/Lord_Howe", on_repeat="both")  # 2024-04-07: 02:00 -> 01:30
    fires = both.next_n(_utc(2024, 4, 6, 12), 2)
    assert [both.local_time(f).isoformat() for f in fires] == [
        "2024-04-07T01:45:00+11:00",
        "2024-04-07T01:45:00+10:30",
    ]
    assert fires[1] - fires[0] == timedelta(minutes=30)


def test_several_missing_times_collapse_into_one_fire() -> None:
    cron = Cron("0,15,30,45 2 * * *", "America/New_York")
    fires = list(cron.fires_between(_utc(2024, 3, 10), _utc(2024, 3, 10, 12)))
    assert fires == [_utc(2024, 3, 10, 7, 0)]
