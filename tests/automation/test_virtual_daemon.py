"""The daemon on a virtual clock: weeks of schedules, DST, catch-up, sensors and OnUpdate."""

from datetime import UTC, datetime, timedelta

import pytest

import legato as lg
from legato.definitions.triggers import RunRequest, SensorResult, sensor
from legato.store.automation import list_ticks, list_triggers, set_enabled
from legato.testing import VirtualDaemon


def _daily_asset():
    @lg.asset(partitions=lg.DailyPartitions(start="2025-01-01", timezone="Europe/Berlin"))
    def report() -> int:
        return 1

    return report


def test_three_weeks_of_a_daily_schedule_request_one_run_per_day_for_the_previous_day():
    report = _daily_asset()
    nightly = lg.Pipeline(
        "nightly", select="report", triggers=[lg.Cron("0 2 * * *", timezone="Europe/Berlin")]
    )
    daemon = VirtualDaemon([nightly], steps=[report], start=datetime(2025, 3, 1, tzinfo=UTC))
    runs = daemon.advance(to=datetime(2025, 4, 2, tzinfo=UTC))
    partitions = [r.partition for r in runs]
    assert partitions[:2] == ["2025-02-28", "2025-03-01"]  # each tick runs the day just ended
    # 2025-03-30 is 23 hours long in Berlin: 02:00 does not exist that day and the tick fires at
    # 03:00 (the default "next" gap policy), still exactly once
    assert len(runs) == 33 and len(set(partitions)) == 33 and partitions[-1] == "2025-04-01"
    berlin = [datetime.fromisoformat(r.tags["legato/tick"]) for r in runs]
    assert berlin[29].hour == 1 and berlin[28].hour == 1  # 02:00 CET and 03:00 CEST are 01:00 UTC
    assert all(r.pipeline == "nightly" and r.trigger.startswith("schedule:") for r in runs)


def test_the_new_york_gap_and_repeat_follow_the_explicit_policies():
    @lg.task
    def job() -> None:
        return None

    skip = lg.Pipeline(
        "skip",
        select="job",
        triggers=[lg.Cron("30 2 * * *", timezone="America/New_York", on_gap="skip")],
    )
    daemon = VirtualDaemon([skip], steps=[job], start=datetime(2025, 3, 1, tzinfo=UTC))
    march = daemon.advance(to=datetime(2025, 4, 1, tzinfo=UTC))
    assert len(march) == 30  # 31 days, 2025-03-09 02:30 does not exist and is skipped

    both = lg.Pipeline(
        "both",
        select="job",
        triggers=[lg.Cron("30 1 * * *", timezone="America/New_York", on_repeat="both")],
    )
    daemon = VirtualDaemon([both], steps=[job], start=datetime(2025, 10, 31, tzinfo=UTC))
    november = daemon.advance(to=datetime(2025, 11, 5, tzinfo=UTC))
    assert len(november) == 6  # Oct 31 .. Nov 4 at 01:30, twice on Nov 2 (EDT, then EST)


def test_downtime_follows_the_catch_up_policy():
    @lg.task
    def job() -> None:
        return None

    latest = lg.Pipeline("latest", select="job", triggers=[lg.Every(3600)])
    daemon = VirtualDaemon([latest], steps=[job], start=datetime(2025, 1, 1, tzinfo=UTC))
    assert len(daemon.advance(hours=5)) == 5
    daemon.clock.advance(hours=10)  # the daemon was down for 10 hours
    assert len(daemon.advance(hours=0)) == 1  # CatchUp.LATEST: only the most recent tick

    every = lg.Pipeline(
        "all",
        select="job",
        triggers=[lg.Every(3600, catch_up=lg.CatchUp.all(within=timedelta(hours=4)))],
    )
    daemon = VirtualDaemon([every], steps=[job], start=datetime(2025, 1, 1, tzinfo=UTC))
    daemon.advance(hours=1)
    daemon.clock.advance(hours=10)
    assert len(daemon.advance(hours=0)) == 4  # the ones younger than 4 hours


def test_a_disabled_schedule_requests_nothing():
    @lg.task
    def job() -> None:
        return None

    pipe = lg.Pipeline("p", select="job", triggers=[lg.Cron("*/15 * * * *")])
    daemon = VirtualDaemon([pipe], steps=[job], start=datetime(2025, 1, 1, tzinfo=UTC))
    [trigger] = list_triggers(daemon.store)
    set_enabled(daemon.store, trigger.trigger_id, False)
    assert daemon.advance(hours=2) == []
    set_enabled(daemon.store, trigger.trigger_id, True)
    assert len(daemon.advance(hours=1)) >= 4


def test_a_sensor_keeps_its_cursor_and_adds_dynamic_partitions():
    tenants = lg.DynamicPartitions("tenants")
    seen = []

    @lg.asset(partitions=tenants)
    def onboarding() -> int:
        return 1

    @sensor(interval=60)
    def new_tenants(context):
        seen.append(context.cursor)
        n = int(context.cursor or 0)
        if n >= 3:
            return SensorResult(skip_reason="no new tenant", cursor=context.cursor)
        name = f"tenant{n}"
        return SensorResult(
            run_requests=[
                RunRequest(partition=name, key=name, dynamic_partitions={"tenants": [name]})
            ],
            cursor=str(n + 1),
        )

    pipe = lg.Pipeline("onboard", select="onboarding", triggers=[new_tenants])
    daemon = VirtualDaemon([pipe], steps=[onboarding], start=datetime(2025, 1, 1, tzinfo=UTC))
    runs = daemon.advance(minutes=10)
    assert [r.partition for r in runs] == ["tenant0", "tenant1", "tenant2"]
    assert seen[:4] == [None, "1", "2", "3"]
    from legato.store.partitions import dynamic_keys

    assert dynamic_keys(daemon.store, "tenants") == ["tenant0", "tenant1", "tenant2"]
    statuses = {t.status for t in list_ticks(daemon.store)}
    assert statuses == {"requested", "skipped"}
    # the sensor was asked every minute; its identical skips are one history row, not seven
    skipped = [t for t in list_ticks(daemon.store) if t.status == "skipped"]
    assert len(seen) >= 9 and len(skipped) == 1 and skipped[0].reason == "no new tenant"


def test_a_failing_sensor_is_recorded_and_the_daemon_goes_on():
    @lg.task
    def job() -> None:
        return None

    calls = []

    @sensor(interval=30)
    def broken(context):
        calls.append(context.cursor)
        if len(calls) == 60:
            raise RuntimeError("the API is down, differently")
        raise RuntimeError("the API is down")

    every = lg.Pipeline("every", select="job", triggers=[lg.Every(600)])
    bad = lg.Pipeline("bad", select="job", triggers=[broken])
    daemon = VirtualDaemon([every, bad], steps=[job], start=datetime(2025, 1, 1, tzinfo=UTC))
    runs = daemon.advance(hours=1)
    assert len(runs) == 6  # the schedule still ran
    failures = [t for t in list_ticks(daemon.store, limit=500) if t.status == "failed"]
    # evaluated every 30 s, failing each time: a row when the failure is new or changes, not
    # one per evaluation (the newest row first)
    assert len(calls) >= 100
    assert [(t.reason or "").split(";")[0] for t in failures] == [
        "RuntimeError: the API is down",
        "RuntimeError: the API is down, differently",
        "RuntimeError: the API is down",
    ]


def test_on_update_chains_a_downstream_asset_when_its_upstream_days_are_complete():
    days = lg.DailyPartitions(start="2025-01-01")
    months = lg.MonthlyPartitions(start="2025-01-01")

    @lg.asset(partitions=days)
    def events() -> int:
        return 1

    @lg.asset(partitions=months, triggers=[lg.OnUpdate()])
    def monthly(events: dict[str, int]) -> int:
        return sum(events.values())

    daemon = VirtualDaemon([], steps=[events, monthly], start=datetime(2025, 3, 1, tzinfo=UTC))
    keys = [f"2025-02-{d:02d}" for d in range(1, 29)]
    lg.materialize([events, monthly], selection="events", partition=keys[:-1], store=daemon.store)
    assert daemon.advance(minutes=1) == []  # February is not complete yet
    lg.materialize([events, monthly], selection="events", partition=keys[-1:], store=daemon.store)
    runs = daemon.advance(minutes=1)
    assert [(r.selection, r.partition) for r in runs] == [("monthly", "2025-02")]
    assert daemon.advance(minutes=5) == []  # nothing new: no second run


@pytest.mark.parametrize(
    "zone, expr, start",
    [
        ("America/New_York", "30 2 * * *", datetime(2024, 1, 1, tzinfo=UTC)),
        ("Europe/London", "30 1 * * *", datetime(2024, 1, 1, tzinfo=UTC)),
        ("Australia/Lord_Howe", "0 2 * * *", datetime(2024, 1, 1, tzinfo=UTC)),
        ("America/Sao_Paulo", "0 0 * * *", datetime(2018, 1, 1, tzinfo=UTC)),
        ("Asia/Kolkata", "0 */6 * * *", datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_year_of_daemon_ticks_equals_the_schedule_s_fire_list(zone, expr, start):
    @lg.task
    def job() -> None:
        return None

    cron = lg.Cron(expr, timezone=zone)
    pipe = lg.Pipeline("p", select="job", triggers=[cron])
    daemon = VirtualDaemon([pipe], steps=[job], start=start)
    end = start.replace(year=start.year + 1)
    runs = daemon.advance(to=end)
    fired = [datetime.fromisoformat(r.tags["legato/tick"]) for r in runs]
    assert fired == list(cron.fires_between(start, end))  # through the daemon, tick for tick
