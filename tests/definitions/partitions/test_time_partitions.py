"""Time-window partitions: DST correctness, laziness, keys, bounds and errors."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legato.definitions._cron.expression import CronExpr
from legato.definitions._cron.timeline import Timeline
from legato.definitions._cron.zones import from_instant, to_instant
from legato.definitions.partitions import (
    DailyPartitions,
    HourlyPartitions,
    MinutelyPartitions,
    MonthlyPartitions,
    TimeWindowPartitions,
    WeeklyPartitions,
    Window,
    YearlyPartitions,
    check_key,
)
from legato.definitions.partitions.restore import space_from_description
from legato.errors import PartitionError

NOW = datetime(2025, 12, 1, tzinfo=UTC)
H = timedelta(hours=1)

# zone, (spring-forward day, fall-back day) in local dates
TRANSITIONS = {
    "Europe/Berlin": (date(2025, 3, 30), date(2025, 10, 26)),
    "America/New_York": (date(2024, 3, 10), date(2024, 11, 3)),
    "Australia/Lord_Howe": (date(2024, 10, 6), date(2024, 4, 7)),
    "America/Sao_Paulo": (date(2018, 11, 4), date(2018, 2, 17)),
}
SHIFT = {"Australia/Lord_Howe": timedelta(minutes=30)}


def utc(window: Window) -> tuple[datetime, datetime]:
    return window.start.astimezone(UTC), window.end.astimezone(UTC)


def assert_contiguous(windows: list[Window]) -> None:
    for before, after in itertools.pairwise(windows):
        assert utc(before)[1] == utc(after)[0], (before, after)  # no gap, no overlap
        assert utc(before)[0] < utc(before)[1]
    assert len({w.key for w in windows}) == len(windows)


def windows_around(space: TimeWindowPartitions, day: date, days: int = 3) -> list[Window]:
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(space.timezone)) - timedelta(
        days=1
    )
    return space.windows_between(start, start + timedelta(days=days))


@pytest.mark.parametrize("zone", sorted(TRANSITIONS))
def test_daily_windows_across_dst_are_contiguous_with_23_and_25_hour_days(zone: str) -> None:
    space = DailyPartitions("2017-06-01", timezone=zone)
    shift = SHIFT.get(zone, H)
    spring, fall = TRANSITIONS[zone]
    for day, expected in ((spring, timedelta(days=1) - shift), (fall, timedelta(days=1) + shift)):
        windows = windows_around(space, day)
        assert_contiguous(windows)
        assert [w.duration for w in windows] == [timedelta(days=1), expected, timedelta(days=1)]
        assert space.window(day.isoformat()).duration == expected
    everything = [space.window(k) for k in space.keys(datetime(2026, 1, 1, tzinfo=UTC))]
    assert_contiguous(everything)
    assert {w.duration for w in everything} == {
        timedelta(days=1),
        timedelta(days=1) - shift,
        timedelta(days=1) + shift,
    }


def test_sao_paulo_day_without_midnight_starts_when_the_clock_jumps() -> None:
    space = DailyPartitions("2018-10-01", timezone="America/Sao_Paulo")
    window = space.window("2018-11-04")
    assert window.start.isoformat() == "2018-11-04T01:00:00-02:00"
    assert window.end.isoformat() == "2018-11-05T00:00:00-02:00"
    assert window.duration == timedelta(hours=23)
    assert space.window("2018-11-03").end == window.start
    assert space.key_for(datetime(2018, 11, 4, 3, 30, tzinfo=UTC)) == "2018-11-04"
    assert space.key_for(datetime(2018, 11, 4, 2, 59, tzinfo=UTC)) == "2018-11-03"
    assert space.contains("2018-11-04", NOW)


@pytest.mark.parametrize("zone", sorted(TRANSITIONS))
def test_hourly_windows_across_dst_are_contiguous_and_distinct(zone: str) -> None:
    space = HourlyPartitions("2017-06-01", timezone=zone)
    for day in TRANSITIONS[zone]:
        windows = windows_around(space, day)
        assert_contiguous(windows)
        total = sum((w.duration for w in windows), timedelta())
        assert total == utc(windows[-1])[1] - utc(windows[0])[0]
        for window in windows:
            check_key(window.key)
            assert space.window(window.key) == window
            assert space.key_for(window.start) == window.key
            assert space.key_for(utc(window)[1] - timedelta(seconds=1)) == window.key


def test_berlin_fall_back_gives_two_hourly_windows_named_by_offset() -> None:
    space = HourlyPartitions("2025-10-25", timezone="Europe/Berlin")
    keys = list(space.keys_between("2025-10-26-01:00", "2025-10-26-03:00", NOW))
    assert keys == [
        "2025-10-26-01:00",
        "2025-10-26-02:00+02:00",
        "2025-10-26-02:00+01:00",
        "2025-10-26-03:00",
    ]
    first, second = (space.window(k) for k in keys[1:3])
    assert utc(first) == (
        datetime(2025, 10, 26, 0, tzinfo=UTC),
        datetime(2025, 10, 26, 1, tzinfo=UTC),
    )
    assert utc(second)[0] == utc(first)[1] and second.duration == H
    with pytest.raises(PartitionError, match="happens twice"):
        space.validate_key("2025-10-26-02:00", NOW)


def test_berlin_spring_forward_skips_the_missing_hour() -> None:
    space = HourlyPartitions("2025-03-29", timezone="Europe/Berlin")
    keys = list(space.keys_between("2025-03-30-01:00", "2025-03-30-04:00", NOW))
    assert keys == ["2025-03-30-01:00", "2025-03-30-03:00", "2025-03-30-04:00"]
    assert space.window("2025-03-30-01:00").duration == H
    with pytest.raises(PartitionError, match="does not exist"):
        space.validate_key("2025-03-30-02:00", NOW)


def test_lord_howe_half_hour_shifts() -> None:
    space = HourlyPartitions("2024-01-01", timezone="Australia/Lord_Howe")
    # spring: 02:00 -> 02:30; the cut-short hour is a 30-minute window starting at 02:30
    spring = {w.key: w.duration for w in windows_around(space, date(2024, 10, 6))}
    assert spring["2024-10-06-01:00"] == H
    assert spring["2024-10-06-02:30"] == timedelta(minutes=30)
    assert "2024-10-06-02:00" not in spring
    # fall: 02:00 -> 01:30; the wall hour 01:00-02:00 lasts 90 minutes
    fall = {w.key: w.duration for w in windows_around(space, date(2024, 4, 7))}
    assert fall["2024-04-07-01:00"] == timedelta(minutes=90)
    quarter = TimeWindowPartitions("*/15 * * * *", "2024-04-06", timezone="Australia/Lord_Howe")
    repeated = [w for w in windows_around(quarter, date(2024, 4, 7)) if "+" in w.key]
    assert [w.key for w in repeated] == [
        "2024-04-07-01:30+11:00",
        "2024-04-07-01:45+11:00",
        "2024-04-07-01:30+10:30",
        "2024-04-07-01:45+10:30",
    ]


def test_new_york_daily_window_bounds() -> None:
    space = DailyPartitions("2024-01-01", timezone="America/New_York")
    window = space.window("2024-11-03")
    assert window.start.isoformat() == "2024-11-03T00:00:00-04:00"
    assert window.end.isoformat() == "2024-11-04T00:00:00-05:00"
    assert window.duration == timedelta(hours=25)


def test_daily_window_at_a_repeated_time_fires_once() -> None:
    space = DailyPartitions("2025-10-01", timezone="Europe/Berlin", hour_offset=2, minute_offset=30)
    window = space.window("2025-10-26")
    assert window.start.isoformat() == "2025-10-26T02:30:00+02:00"
    assert window.duration == timedelta(hours=25)
    spring = space.window("2025-03-30") if space.contains("2025-03-30", NOW) else None
    assert spring is None  # before start
    early = DailyPartitions("2025-03-01", timezone="Europe/Berlin", hour_offset=2, minute_offset=30)
    assert early.window("2025-03-30").start.isoformat() == "2025-03-30T03:00:00+02:00"
    assert early.window("2025-03-29").duration == timedelta(hours=23, minutes=30)


# -- an independent oracle: scan every minute of the real timeline ----------------------------


def _field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step = part.partition("/")
        lo, hi = (
            (low, high)
            if body == "*"
            else (tuple(int(x) for x in body.split("-")) if "-" in body else (int(body), int(body)))
        )
        values.update(range(lo, hi + 1, int(step or 1)))
    return values


def oracle(cron: str, zone: ZoneInfo, start: datetime, stop: datetime) -> list[datetime]:
    minute, hour, dom, month, dow = cron.split()
    sets = [
        _field(minute, 0, 59),
        _field(hour, 0, 23),
        _field(dom, 1, 31),
        _field(month, 1, 12),
        {d % 7 for d in _field(dow, 0, 7)},
    ]

    def match(wall: datetime) -> bool:
        return (
            wall.minute in sets[0]
            and wall.hour in sets[1]
            and wall.day in sets[2]
            and wall.month in sets[3]
            and (wall.isoweekday() % 7) in sets[4]
        )

    fires: list[datetime] = []
    t = start
    previous = (t - timedelta(minutes=1)).astimezone(zone)
    while t < stop:
        local = t.astimezone(zone)
        wall = local.replace(tzinfo=None, fold=0)
        jumped = local.utcoffset() != previous.utcoffset() and (
            local.utcoffset() > previous.utcoffset()
        )  # type: ignore[operator]
        repeated = local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()
        if jumped:  # wall times in the gap fire at its end
            skipped = previous.replace(tzinfo=None, fold=0) + timedelta(minutes=1)
            if any(
                match(skipped + timedelta(minutes=i))
                for i in range(int((wall - skipped).total_seconds() // 60))
            ):
                fires.append(t)
        if match(wall) and (not repeated or len(sets[1]) == 24) and (not fires or fires[-1] != t):
            fires.append(t)
        previous = local
        t += timedelta(minutes=1)
    return fires


CRONS = [
    "0 0 * * *",
    "0 * * * *",
    "30 * * * *",
    "*/15 * * * *",
    "30 2 * * *",
    "45 1 * * *",
    "0 0 * * 1",
    "0 2 * * 0",
    "15 0,1,2,3 * * *",
    "0 9 * * 1-5",
    "0 0 1 * *",
]


@pytest.mark.parametrize("zone", sorted(TRANSITIONS))
@pytest.mark.parametrize("cron", CRONS)
def test_fire_times_match_a_minute_by_minute_oracle(zone: str, cron: str) -> None:
    space = TimeWindowPartitions(cron, "2017-01-01", timezone=zone, fmt="%Y-%m-%d-%H:%M")
    timeline = space.timeline
    for day in TRANSITIONS[zone]:
        a = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=2)
        b = a + timedelta(days=4)
        expected = [to_instant(t) for t in oracle(cron, ZoneInfo(zone), a, b)]
        ia, ib = to_instant(a), to_instant(b)
        assert list(timeline.iterate(ia, ib)) == expected
        assert timeline.count(ia, ib) == len(expected)
        for i, instant in enumerate(expected):
            assert timeline.nth_ge(ia, i) == instant
            assert timeline.prev_le(instant) == instant
            assert timeline.prev_le(instant + 59) == instant
            assert space.instant_of(space.key_at(instant)) == instant


@given(
    zone=st.sampled_from([*sorted(TRANSITIONS), "UTC", "Asia/Kolkata", "Pacific/Apia"]),
    cadence=st.sampled_from(
        [HourlyPartitions, DailyPartitions, WeeklyPartitions, MonthlyPartitions]
    ),
    start=st.dates(date(2005, 1, 1), date(2024, 1, 1)),
    moment=st.datetimes(datetime(2024, 1, 2), datetime(2025, 6, 1), timezones=st.just(UTC)),
)
@settings(max_examples=60, deadline=None)
def test_key_for_finds_the_window_that_contains_the_moment(
    zone: str, cadence: type[DailyPartitions], start: date, moment: datetime
) -> None:
    space = cadence(start, timezone=zone)
    key = space.key_for(moment)
    window = space.window(key)
    assert utc(window)[0] <= moment < utc(window)[1]
    assert space.index_of(key, NOW) == space.keys(NOW).index(key)
    assert space.keys(NOW)[space.index_of(key, NOW)] == key


@given(
    zone=st.sampled_from([*sorted(TRANSITIONS), "UTC", "Asia/Kathmandu"]),
    cron=st.sampled_from(CRONS),
    start=st.datetimes(datetime(2017, 1, 1), datetime(2024, 1, 1)),
    length=st.integers(32, 50),
)
@settings(max_examples=30, deadline=None)
def test_count_index_and_listing_agree(zone: str, cron: str, start: datetime, length: int) -> None:
    space = TimeWindowPartitions(
        cron, start, end=start + timedelta(days=length), timezone=zone, fmt="%Y-%m-%d-%H:%M"
    )
    keys = space.keys(NOW)
    listed = list(keys)
    assert len(keys) == space.count(NOW) == len(listed) == len(set(listed))
    for i in sorted({0, len(listed) // 2, len(listed) - 1} - {-1}):
        assert keys[i] == listed[i]
        assert space.index_of(listed[i], NOW) == i
        assert listed[i] in keys and space.contains(listed[i], NOW)
    assert_contiguous([space.window(k) for k in listed])


def test_big_spaces_are_never_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    space = MinutelyPartitions("2000-01-01", timezone="Europe/Berlin")

    def refuse(*_: object) -> None:
        raise AssertionError("listed the keys")

    monkeypatch.setattr(Timeline, "iterate", refuse)
    count = space.count(NOW)
    assert count > 13_000_000
    assert space.contains("2024-06-01-12:34", NOW)
    assert space.index_of("2000-01-01-00:01", NOW) == 1
    assert len(space.keys_between("2024-01-01-00:00", "2024-01-02-00:00", NOW)) == 24 * 60 + 1
    assert space.keys(NOW)[-1] == "2025-12-01-00:59"


def test_end_offset_and_end() -> None:
    now = datetime(2024, 1, 10, 12, tzinfo=UTC)
    assert DailyPartitions("2024-01-01").keys(now)[-1] == "2024-01-09"
    assert DailyPartitions("2024-01-01", end_offset=1).keys(now)[-1] == "2024-01-10"
    assert DailyPartitions("2024-01-01", end_offset=-1).keys(now)[-1] == "2024-01-08"
    bounded = DailyPartitions("2024-01-01", end="2024-01-05")
    assert list(bounded.keys(now)) == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    assert bounded.last_complete(now) == bounded.window("2024-01-04")
    assert not bounded.contains("2024-01-05", now)
    assert DailyPartitions("2024-02-01").count(now) == 0
    assert DailyPartitions("2024-02-01").last_complete(now) is None
    with pytest.raises(PartitionError, match="not after the first window"):
        DailyPartitions("2024-01-05", end="2024-01-01")


def test_last_complete_and_windows_between() -> None:
    space = HourlyPartitions("2024-01-01", timezone="Europe/Berlin")
    last = space.last_complete(datetime(2024, 3, 31, 1, 30, tzinfo=UTC))
    assert last is not None and last.key == "2024-03-31-01:00"
    window = space.windows_between(
        datetime(2024, 1, 1, 0, 30, tzinfo=UTC), datetime(2024, 1, 1, 2, tzinfo=UTC)
    )
    assert [w.key for w in window] == ["2024-01-01-01:00", "2024-01-01-02:00"]


def test_default_formats_and_cadences() -> None:
    now = datetime(2024, 3, 1, tzinfo=UTC)
    assert MinutelyPartitions("2024-02-29").keys(now)[0] == "2024-02-29-00:00"
    assert HourlyPartitions("2024-02-29").keys(now)[1] == "2024-02-29-01:00"
    assert DailyPartitions("2024-02-01").keys(now)[-1] == "2024-02-29"
    assert WeeklyPartitions("2024-01-01").keys(now)[:2] == ["2024-01-01", "2024-01-08"]
    assert MonthlyPartitions("2023-11").keys(now)[:] == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert MonthlyPartitions("2024-01-15", day_offset=15).keys(now)[0] == "2024-01-15"
    assert list(YearlyPartitions("2020").keys(now)) == ["2020", "2021", "2022", "2023"]
    assert [
        s.cadence
        for s in (
            MinutelyPartitions("2024-01-01"),
            HourlyPartitions("2024-01-01"),
            DailyPartitions("2024-01-01"),
            WeeklyPartitions("2024-01-01"),
            MonthlyPartitions("2024-01"),
            YearlyPartitions("2024"),
        )
    ] == ["minutely", "hourly", "daily", "weekly", "monthly", "yearly"]
    weekdays = TimeWindowPartitions("0 9 * * mon-fri", "2024-01-05", timezone="Europe/Paris")
    assert list(weekdays.keys(datetime(2024, 1, 10, tzinfo=UTC))) == ["2024-01-05", "2024-01-08"]
    assert weekdays.window("2024-01-05").duration == timedelta(days=3)
    assert weekdays.window("2024-01-05").start.hour == 9
    assert not weekdays.contains("2024-01-06", NOW)  # a Saturday starts no window


def test_describe_is_stable_json_and_defines_equality() -> None:
    daily = DailyPartitions("2024-01-01", timezone="Europe/Berlin")
    same = TimeWindowPartitions(
        "@daily", "2024-01-01T00:00", timezone="Europe/Berlin", fmt="%Y-%m-%d"
    )
    assert daily == same and hash(daily) == hash(same)
    assert json.loads(json.dumps(daily.describe())) == daily.describe()
    assert daily.describe()["start"] == "2024-01-01T00:00:00+01:00"
    assert daily != DailyPartitions("2024-01-01", timezone="UTC")


def test_aware_and_date_starts() -> None:
    a = DailyPartitions(date(2024, 1, 1), timezone="Asia/Tokyo")
    b = DailyPartitions(datetime(2023, 12, 31, 15, tzinfo=UTC), timezone="Asia/Tokyo")
    assert a == b
    assert DailyPartitions("2024-01-01T06:00", timezone="UTC").keys(NOW)[0] == "2024-01-02"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"timezone": "EST"}, "abbreviation"),
        ({"timezone": "CET"}, "abbreviation"),
        ({"timezone": "Europe/Berln"}, "did you mean 'Europe/Berlin'"),
        ({"timezone": "../../etc/passwd"}, "not a known IANA zone"),
        ({"fmt": "%Y/%m/%d"}, "path separator"),
        ({"fmt": "%m-%d"}, "%Y (required)"),
        ({"fmt": "%Y-%b-%d"}, "%b not supported"),
        ({"fmt": "%Y-%m"}, "does not name it alone"),
        ({"end_offset": 1.5}, "must be an int"),
        ({"hour_offset": 24}, "hour_offset=24"),
        ({"name": "bad name"}, "dimension name"),
    ],
)
def test_bad_daily_arguments_are_refused(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(PartitionError, match=words.replace("(", r"\(").replace(")", r"\)")):
        DailyPartitions("2024-01-01", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 0 30 2 *", "never fires"),
        ("61 * * * *", "minute field '61' is out of range; use 0-59 in the minute field"),
        ("* * *", "3 fields"),
        ("x * * * *", "'x' is not a number"),
        ("*/0 * * * *", "step of 0"),
        ("5-1-2 * * * *", "not valid cron syntax"),
    ],
)
def test_bad_crons_are_refused(cron: str, words: str) -> None:
    with pytest.raises(PartitionError, match=words) as info:
        TimeWindowPartitions(cron, "2024-01-01")
    assert str(info.value).startswith(f"TimeWindowPartitions cron={cron!r}: ")


def test_bad_start_and_now_are_refused() -> None:
    with pytest.raises(PartitionError, match="not a date"):
        DailyPartitions("yesterday")
    with pytest.raises(PartitionError, match="out of range"):
        DailyPartitions("1700-01-01")
    with pytest.raises(PartitionError, match="aware"):
        DailyPartitions("2024-01-01").keys(datetime(2024, 2, 1))


def test_keys_outside_the_space_name_the_valid_range() -> None:
    space = DailyPartitions("2024-01-01", end="2024-02-01")
    with pytest.raises(PartitionError) as info:
        space.validate_key("2023-12-31", NOW)
    assert "'2024-01-01' to '2024-01-31'" in str(info.value)
    with pytest.raises(PartitionError):
        space.window("2024-02-01")
    with pytest.raises(PartitionError, match="outside"):
        space.key_for(datetime(2023, 6, 1, tzinfo=UTC))
    assert "2024-01-15" in space and "junk" not in space


def test_from_instant_round_trip() -> None:
    zone = ZoneInfo("Europe/Berlin")
    moment = datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=zone)
    assert from_instant(to_instant(moment), zone).utcoffset() == H


LATTICE_CRONS = [
    "0 0 13 * 5",
    "0 0 29 2 *",
    "0 12 1,15 * *",
    "30 6 * 1-3 *",
    "0 0 * * 0,6",
    "*/20 8-9 * * *",
    "0 0 31 * *",
    "0 0 1 1 *",
    "15 3 10-12 * 1",
]


@given(
    cron=st.sampled_from(LATTICE_CRONS),
    lo=st.datetimes(datetime(1990, 1, 1), datetime(2030, 1, 1)),
    days=st.integers(0, 4000),
    n=st.integers(0, 30),
)
@settings(max_examples=150, deadline=None)
def test_cron_lattice_counts_like_a_day_by_day_walk(
    cron: str, lo: datetime, days: int, n: int
) -> None:
    parsed = CronExpr.parse(cron)
    lo = lo.replace(microsecond=0)
    minute, hour, dom, month, dow = cron.split()
    sets = [
        _field(minute, 0, 59),
        _field(hour, 0, 23),
        _field(dom, 1, 31),
        _field(month, 1, 12),
        {d % 7 for d in _field(dow, 0, 7)},
    ]
    both = dom != "*" and dow != "*"
    hi = lo + timedelta(days=days, hours=7)
    expected: list[datetime] = []
    day = lo.date()
    while day <= hi.date():
        on_dom, on_dow = day.day in sets[2], day.isoweekday() % 7 in sets[4]
        if day.month in sets[3] and ((on_dom or on_dow) if both else (on_dom and on_dow)):
            expected += [
                datetime(day.year, day.month, day.day, h, m)
                for h in sorted(sets[1])
                for m in sorted(sets[0])
            ]
        day += timedelta(days=1)
    expected = [t for t in expected if lo <= t < hi]
    wall = {t: to_instant(t.replace(tzinfo=UTC)) for t in (lo, hi, *expected)}
    assert parsed.count(wall[lo], wall[hi]) == len(expected)
    if n < len(expected):
        assert parsed.nth_ge(wall[lo], n) == wall[expected[n]]
    if expected:
        assert parsed.prev_lt(wall[hi]) == wall[expected[-1]]
        assert parsed.next_ge(wall[lo]) == wall[expected[0]]


def test_windows_read_the_whole_cron_grammar_seconds_and_last_days_included() -> None:
    month_ends = TimeWindowPartitions("0 0 L * *", "2024-01-01", timezone="Europe/Berlin")
    keys = month_ends.keys(datetime(2024, 5, 1, tzinfo=UTC))
    assert list(keys) == ["2024-01-31", "2024-02-29", "2024-03-31"]
    assert month_ends.window("2024-03-31").duration == timedelta(days=30, hours=-1)  # DST
    halves = TimeWindowPartitions("0,30 * * * * *", "2024-01-01")  # seconds first
    assert halves.fmt == "%Y-%m-%d-%H:%M:%S"
    assert halves.cron == "0,30 * * * * *" and halves.cadence == "custom"
    assert halves.keys(datetime(2024, 1, 1, 0, 2, tzinfo=UTC))[:3] == [
        "2024-01-01-00:00:00",
        "2024-01-01-00:00:30",
        "2024-01-01-00:01:00",
    ]
    third_fridays = TimeWindowPartitions("0 9 * * fri#3", "2024-01-01", timezone="UTC")
    assert list(third_fridays.keys(datetime(2024, 4, 1, tzinfo=UTC))) == [
        "2024-01-19",
        "2024-02-16",
    ]
    for space in (month_ends, halves, third_fridays):
        assert space_from_description(space.describe()) == space
