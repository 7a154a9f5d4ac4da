"""Schedules: expressions, validation messages, catch-up after downtime, and ``Every``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from legato._internal.clock import FakeClock
from legato.definitions.schedules import CatchUp, Cron, Every
from legato.errors import DefinitionError

THIS_FILE = "test_schedules.py:"


def _utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- expressions --------------------------------------------------------------------------------


def test_next_fire_is_strictly_after() -> None:
    cron = Cron("0 6 * * *")
    assert cron.next_fire(_utc(2025, 1, 1, 5, 59)) == _utc(2025, 1, 1, 6)
    assert cron.next_fire(_utc(2025, 1, 1, 6)) == _utc(2025, 1, 2, 6)


def test_fires_between_excludes_start_and_includes_end() -> None:
    cron = Cron("0 * * * *")
    fires = list(cron.fires_between(_utc(2025, 1, 1, 1), _utc(2025, 1, 1, 3)))
    assert fires == [_utc(2025, 1, 1, 2), _utc(2025, 1, 1, 3)]


def test_next_n_returns_n_fires_in_utc() -> None:
    cron = Cron("0 9 * * 1-5", "Europe/Paris")  # weekdays at 09:00 Paris time
    fires = cron.next_n(_utc(2025, 1, 3, 12), n=3)  # a Friday
    assert fires == [_utc(2025, 1, 6, 8), _utc(2025, 1, 7, 8), _utc(2025, 1, 8, 8)]
    assert all(f.tzinfo is UTC for f in fires)


def test_aware_datetimes_in_any_zone_are_accepted_and_naive_ones_refused() -> None:
    cron = Cron("0 6 * * *")
    paris = _utc(2025, 1, 1, 5).astimezone(Cron("0 0 * * *", "Europe/Paris")._tz)
    assert cron.next_fire(paris) == _utc(2025, 1, 1, 6)
    with pytest.raises(ValueError, match="aware"):
        cron.next_fire(datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("alias", "equivalent"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ],
)
def test_aliases_fire_like_their_expressions(alias: str, equivalent: str) -> None:
    after = _utc(2025, 5, 17, 13, 7)
    assert Cron(alias).next_n(after, 4) == Cron(equivalent).next_n(after, 4)


def test_six_fields_put_seconds_first() -> None:
    cron = Cron("*/20 30 6 * * *")  # second minute hour day-of-month month day-of-week
    assert cron.next_n(_utc(2025, 1, 1), 4) == [
        _utc(2025, 1, 1, 6, 30, 0),
        _utc(2025, 1, 1, 6, 30, 20),
        _utc(2025, 1, 1, 6, 30, 40),
        _utc(2025, 1, 2, 6, 30, 0),
    ]


def test_local_time_exposes_the_wall_clock_for_partition_keys() -> None:
    cron = Cron("0 0 * * *", "Asia/Kolkata")
    fire = cron.next_fire(_utc(2025, 1, 1))
    assert fire == _utc(2025, 1, 1, 18, 30)
    assert cron.local_time(fire).isoformat() == "2025-01-02T00:00:00+05:30"


def test_feb_29_is_rare_but_valid() -> None:
    assert Cron("0 0 29 2 *").next_fire(_utc(2025, 1, 1)) == _utc(2028, 2, 29)


def test_describe_is_json_able_and_shows_effective_policies() -> None:
    cron = Cron("*/15 * * * *", "America/New_York", name="quarterly")
    info = json.loads(json.dumps(cron.describe(now=_utc(2025, 1, 1))))
    assert info["expr"] == "*/15 * * * *"
    assert info["timezone"] == "America/New_York"
    assert (info["on_gap"], info["on_repeat"]) == ("skip", "both")  # every hour: real time
    assert info["catch_up"]["mode"] == "latest"
    assert THIS_FILE in info["source"]
    assert [f["at"] for f in info["next_fires"]][:2] == [
        "2025-01-01T00:15:00+00:00",
        "2025-01-01T00:30:00+00:00",
    ]
    assert info["next_fires"][0]["local"] == "2024-12-31T19:15:00-05:00"
    daily = Cron("30 2 * * *", "America/New_York").describe(now=_utc(2025, 1, 1))
    assert (daily["on_gap"], daily["on_repeat"]) == ("next", "first")  # fixed hour: once a day


def test_schedules_are_values() -> None:
    assert Cron("0 6 * * *", "UTC") == Cron("0 6 * * *")
    assert hash(Cron("0 6 * * *")) == hash(Cron("0 6 * * *"))
    assert Cron("0 6 * * *") != Cron("0 6 * * *", on_gap="skip")
    with pytest.raises(AttributeError):
        Cron("0 6 * * *").expr = "0 7 * * *"  # type: ignore[misc]


# --- validation (B-03) --------------------------------------------------------------------------


def _error(expr: str, timezone: str = "UTC") -> str:
    with pytest.raises(DefinitionError) as info:
        Cron(expr, timezone, name="nightly")
    error = info.value
    assert error.obj == "nightly"
    assert error.source is not None and THIS_FILE in error.source
    return str(error)


def test_out_of_range_field_names_the_field_and_the_range() -> None:
    message = _error("61 * * * *")
    assert message.startswith("schedule 'nightly' (")
    assert THIS_FILE in message
    assert "minute field '61' is out of range" in message
    assert "use 0-59 in the minute field" in message


@pytest.mark.parametrize("expr", ["* * * *", "0 0 * * * * 2025", "0"])
def test_wrong_field_count_says_five_or_six(expr: str) -> None:
    message = _error(expr)
    assert f"has {len(expr.split())} fields; 5 or 6 are expected" in message
    assert "6 with seconds first" in message


def test_six_field_errors_remind_that_seconds_come_first() -> None:
    message = _error("0 0 2 * * 30")  # meant seconds last: 30 lands in day-of-week
    assert "day-of-week field '30' is out of range" in message
    assert "a 6-field expression starts with seconds" in message


@pytest.mark.parametrize("expr", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"])
def test_never_firing_expression_is_refused(expr: str) -> None:
    message = _error(expr)
    assert f"expression {expr!r} never fires" in message
    assert "there is no 31 February" in message


def test_unknown_alias_lists_the_known_ones() -> None:
    assert "use one of @yearly, @annually" in _error("@daly")


def test_unknown_timezone_suggests_the_closest_zone() -> None:
    message = _error("0 2 * * *", "America/New York")
    assert "time zone 'America/New York' is not a known IANA zone" in message
    assert "did you mean 'America/New_York'?" in message
    assert "Mars/Base" in _error("0 2 * * *", "Mars/Base")


@pytest.mark.parametrize(
    ("abbreviation", "suggestion"),
    [
        ("EST", "America/New_York"),
        ("PST", "America/Los_Angeles"),
        ("CET", "Europe/Paris"),
        ("EST5EDT", "America/New_York"),
        ("IST", "Asia/Kolkata"),
    ],
)
def test_timezone_abbreviations_are_refused_with_a_region_city_name(
    abbreviation: str, suggestion: str
) -> None:
    message = _error("0 2 * * *", abbreviation)
    assert f"time zone {abbreviation!r} is an abbreviation, not an IANA zone name" in message
    assert f"use a Region/City name such as {suggestion!r}" in message
    assert f"next 5 fires in {suggestion!r}:" in message
    assert message.count("T02:00:00") == 5  # the expression is valid: show when it would run


@pytest.mark.parametrize("zone", ["UTC", "GMT", "Etc/UTC", "Etc/GMT+5", "US/Eastern"])
def test_fixed_and_linked_iana_zones_are_accepted(zone: str) -> None:
    assert Cron("0 0 * * *", zone).timezone == zone


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"on_gap": "shift"}, "on_gap='shift' is not a policy; use one of 'skip', 'next'"),
        ({"on_repeat": "twice"}, "on_repeat='twice' is not a policy; use one of 'first', 'last'"),
        ({"catch_up": "all"}, "catch_up must be a CatchUp"),
    ],
)
def test_bad_policies_list_the_allowed_values(kwargs: dict[str, str], text: str) -> None:
    with pytest.raises(DefinitionError, match=text):
        Cron("0 0 * * *", **kwargs)  # type: ignore[arg-type]


def test_unnamed_schedule_is_named_by_its_expression() -> None:
    with pytest.raises(DefinitionError, match=r"^Cron\('0 0 31 2 \*'\) \(.*test_schedules.py:"):
        Cron("0 0 31 2 *")


# --- catch-up after downtime --------------------------------------------------------------------

DAILY_LAST_TICK = _utc(2025, 1, 1)


def _after_three_days_down(catch_up: CatchUp) -> list[datetime]:
    cron = Cron("0 0 * * *", catch_up=catch_up)
    clock = FakeClock(DAILY_LAST_TICK)  # the daemon ran the 1 January tick, then went down
    clock.advance(days=3, hours=10)  # back at 4 January, 10:00
    return cron.due_ticks(DAILY_LAST_TICK, clock.now())


def test_catch_up_none_drops_every_missed_tick() -> None:
    assert _after_three_days_down(CatchUp.NONE) == []


def test_catch_up_latest_runs_only_the_most_recent_missed_tick() -> None:
    assert _after_three_days_down(CatchUp.LATEST) == [_utc(2025, 1, 4)]


def test_catch_up_all_runs_the_missed_ticks_within_the_window() -> None:
    assert _after_three_days_down(CatchUp.all(within=timedelta(days=1))) == [_utc(2025, 1, 4)]
    assert _after_three_days_down(CatchUp.all(within=timedelta(days=2))) == [
        _utc(2025, 1, 3),
        _utc(2025, 1, 4),
    ]
    assert _after_three_days_down(CatchUp.all(within=timedelta(days=30))) == [
        _utc(2025, 1, 2),
        _utc(2025, 1, 3),
        _utc(2025, 1, 4),
    ]


@pytest.mark.parametrize(
    "catch_up", [CatchUp.NONE, CatchUp.LATEST, CatchUp.all(within=timedelta(days=1))]
)
def test_a_tick_evaluated_within_grace_is_on_time_under_every_policy(catch_up: CatchUp) -> None:
    cron = Cron("0 0 * * *", catch_up=catch_up)
    clock = FakeClock(DAILY_LAST_TICK)
    clock.advance(days=1, seconds=30)
    assert cron.due_ticks(DAILY_LAST_TICK, clock.now()) == [_utc(2025, 1, 2)]
    clock.advance(minutes=1)
    assert cron.due_ticks(_utc(2025, 1, 2), clock.now()) == []  # already run: nothing doubled


def test_due_ticks_before_the_first_evaluation_or_with_the_clock_behind_is_empty() -> None:
    cron = Cron("* * * * *")
    assert cron.due_ticks(None, _utc(2025, 1, 1)) == []
    assert cron.due_ticks(_utc(2025, 1, 2), _utc(2025, 1, 1)) == []


def test_catch_up_latest_finds_a_tick_long_ago_without_walking_every_tick() -> None:
    cron = Cron("0 0 1 1 *")  # yearly
    assert cron.due_ticks(_utc(2020, 6, 1), _utc(2024, 6, 1)) == [_utc(2024, 1, 1)]


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (lambda: CatchUp("sometimes"), "CatchUp mode 'sometimes' is unknown"),  # type: ignore[arg-type]
        (lambda: CatchUp("all"), "'within' is required"),
        (lambda: CatchUp.all(within=timedelta(0)), "must be positive"),
    ],
)
def test_bad_catch_up_is_refused(make: object, text: str) -> None:
    with pytest.raises(DefinitionError, match=text):
        make()  # type: ignore[operator]


# --- Every --------------------------------------------------------------------------------------


def test_every_is_anchored_at_the_epoch_by_default() -> None:
    every = Every(timedelta(hours=6))
    assert every.next_n(_utc(2025, 3, 1, 7, 13), 3) == [
        _utc(2025, 3, 1, 12),
        _utc(2025, 3, 1, 18),
        _utc(2025, 3, 2, 0),
    ]


def test_every_does_not_drift_from_its_start() -> None:
    every = Every(7 * 60, start=_utc(2025, 1, 1, 0, 3))  # seconds are accepted
    fire = _utc(2025, 1, 1, 0, 3)
    for _ in range(500):  # evaluate late each time, as a busy daemon would
        fire = every.next_fire(fire + timedelta(seconds=17))
    assert fire == _utc(2025, 1, 1, 0, 3) + 500 * timedelta(minutes=7)


def test_every_keeps_real_intervals_through_dst_and_reads_a_naive_start_in_its_zone() -> None:
    every = Every(
        timedelta(hours=1), start=datetime(2024, 11, 3, 0, 30), timezone="America/New_York"
    )
    fires = every.next_n(_utc(2024, 11, 3, 4), 4)
    assert {b - a for a, b in pairwise(fires)} == {timedelta(hours=1)}
    assert [every.local_time(f).strftime("%H:%M%z") for f in fires] == [
        "00:30-0400",
        "01:30-0400",
        "01:30-0500",
        "02:30-0500",
    ]


def test_every_describe_is_json_able() -> None:
    info = json.loads(json.dumps(Every(90, name="poll").describe(now=_utc(2025, 1, 1))))
    assert info["interval_seconds"] == 90.0
    assert info["next_fires"][0]["at"] == "2025-01-01T00:01:30+00:00"
    assert THIS_FILE in info["source"]


def test_every_catch_up_follows_the_same_policies() -> None:
    every = Every(timedelta(hours=8), catch_up=CatchUp.all(within=timedelta(days=1)))
    assert every.due_ticks(_utc(2025, 1, 1), _utc(2025, 1, 4, 1)) == [
        _utc(2025, 1, 3, 8),
        _utc(2025, 1, 3, 16),
        _utc(2025, 1, 4),
    ]


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (lambda: Every(0), "shorter than one second"),
        (lambda: Every(timedelta(seconds=-5)), "shorter than one second"),
        (lambda: Every("1h"), "interval must be a timedelta or seconds"),  # type: ignore[arg-type]
        (lambda: Every(60, timezone="PST"), "'PST' is an abbreviation"),
        (lambda: Every(60, start="2025-01-01"), "start must be a datetime"),  # type: ignore[arg-type]
    ],
)
def test_bad_every_names_the_problem_and_the_place(make: object, text: str) -> None:
    with pytest.raises(DefinitionError, match=text) as info:
        make()  # type: ignore[operator]
    assert THIS_FILE in str(info.value)
