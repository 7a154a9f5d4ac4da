"""A ``Cron`` schedule and time-window partitions of the same expression name the same instants.

Both read the expression through one engine; they differ only in the DST policies they pass.
Windows start where a schedule with ``on_gap="next"`` and its default ``on_repeat`` fires; a
schedule with its defaults differs only for a cron whose hour field is ``*``, which skips the wall
times a jump forward swallows instead of firing at the end of the gap. DST transitions are found
here by bisecting ``zoneinfo`` offsets directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from legato.definitions._cron.expression import CronExpr
from legato.definitions._cron.problem import Problem
from legato.definitions.partitions import TimeWindowPartitions
from legato.definitions.schedules import Cron

SECOND = timedelta(seconds=1)
DST_ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Africa/Casablanca",
    "America/Santiago",
    "Antarctica/Troll",
    "Pacific/Apia",
    "Asia/Tehran",
]
ALL_ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("posix"))

_FIELDS = [
    st.sampled_from(["0", "30", "*/20", "5,35"]),  # second (six fields only)
    st.one_of(st.sampled_from(["0", "30", "*/15", "0,30", "50-10/20"]), st.integers(0, 59)),
    st.one_of(st.sampled_from(["*", "*/2", "0-3", "22-2", "1,2,3", "*/6"]), st.integers(0, 23)),
    st.one_of(st.sampled_from(["*", "?", "L", "15W", "1-7", "*/10", "31"]), st.integers(1, 31)),
    st.one_of(st.sampled_from(["*", "*", "10-11", "nov-mar", "*/3"]), st.integers(1, 12)),
    st.one_of(
        st.sampled_from(["*", "?", "1-5", "fri-mon", "5#3", "L0", "0#1", "sat,sun"]),
        st.integers(0, 7),
    ),
]


@st.composite
def expressions(draw: st.DrawFn) -> str:
    fields = [str(draw(field)) for field in _FIELDS]
    expr = " ".join(fields if draw(st.booleans()) else fields[1:])
    try:
        cron = CronExpr.parse(expr)
    except Problem:
        assume(False)  # a day pattern that never fires, such as 31 in November
        raise
    assume(len(cron.offsets) <= 288)  # at most every five minutes: the lists stay short
    return expr


def transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, bool]]:
    """Each instant in [start, end) at which the zone's offset changes; True if clocks jump."""
    found, t, step = [], start, timedelta(hours=6)
    while t < end:
        before, after = t.astimezone(zone).utcoffset(), (t + step).astimezone(zone).utcoffset()
        if before != after:
            lo, hi = t, t + step
            while hi - lo > SECOND:
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(zone).utcoffset() == before:
                    lo = mid
                else:
                    hi = mid
            found.append((hi, after > before))  # type: ignore[operator]
        t += step
    return found


@given(
    expr=expressions(),
    zone=st.one_of(st.sampled_from(DST_ZONES), st.sampled_from(ALL_ZONES)),
    year=st.integers(1995, 2035),
)
@settings(max_examples=20, deadline=None)
def test_schedule_fires_and_window_starts_coincide_across_dst(
    expr: str, zone: str, year: int
) -> None:
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 3, 1, 1, tzinfo=UTC)
    space = TimeWindowPartitions(expr, start, end=end, timezone=zone, fmt="%Y-%m-%d-%H:%M:%S")
    every_hour = CronExpr.parse(expr).every_hour
    schedule = Cron(expr, zone, on_gap="next", on_repeat="both" if every_hour else "first")
    default = Cron(expr, zone)

    changes = transitions(ZoneInfo(zone), start, end)
    for change, jumps in changes[:8]:
        lo = max(change - timedelta(days=1), start)
        hi = min(change + timedelta(days=1), end)
        starts = [w.start.astimezone(UTC) for w in space.windows_between(lo, hi)]
        starts = [s for s in starts if s >= lo]
        fires = list(schedule.fires_between(lo - SECOND, hi - SECOND))  # [lo, hi)
        assert fires == starts, (change, jumps)
        by_default = set(default.fires_between(lo - SECOND, hi - SECOND))
        extra = set(starts) - by_default
        assert by_default <= set(starts)
        assert extra <= ({change} if jumps and every_hour else set())
        i = next((i for i, fire in enumerate(fires) if fire >= change), len(fires))
        for before, fire in zip(
            fires[max(i - 2, 0) : i + 2], fires[max(i - 1, 1) : i + 3], strict=False
        ):
            assert schedule.previous_fire(fire) == fire
            assert schedule.previous_fire(fire - SECOND) == before
            assert space.key_for(before + (fire - before) / 2) == space.key_for(before)

    if space.count(end + timedelta(days=3660)) <= 3000:  # the whole three years, when short
        fires = list(schedule.fires_between(start - SECOND, end - SECOND))
        keys = space.keys(end + timedelta(days=3660))
        assert len(keys) == len(fires)
        assert [space.window(k).start.astimezone(UTC) for k in keys] == fires
