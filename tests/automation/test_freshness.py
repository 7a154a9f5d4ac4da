"""Freshness policies and pipeline SLAs on the daemon's virtual clock: each miss is recorded
once, at the moment it happened, and resolved when the asset (or pipeline) recovers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import legato as lg
from legato._internal.clock import FakeClock
from legato.automation.daemon import Daemon
from legato.events.types import Event, EventType
from legato.store.engine import Store
from legato.store.event_log import append
from legato.store.violations import Miss, list_violations, record_misses
from legato.testing import VirtualDaemon

START = datetime(2025, 3, 1, tzinfo=UTC)


def _daemon(steps, store: Store, pipelines=(), start: datetime = START) -> VirtualDaemon:
    return VirtualDaemon(list(pipelines), steps=list(steps), start=start, store=store)


def test_a_max_lag_miss_is_recorded_once_at_its_moment_and_resolved_by_a_materialization(
    store: Store,
):
    @lg.asset(freshness=lg.Freshness(max_lag="2h"))
    def revenue() -> int:
        return 1

    daemon = _daemon([revenue], store)
    daemon.record_materialization("revenue")
    daemon.advance(hours=1)
    assert list_violations(store) == []
    daemon.advance(hours=5)  # late from 02:00, still late at 06:00: one violation
    [miss] = list_violations(store)
    assert miss.kind == "freshness" and miss.subject == "revenue" and miss.open
    assert miss.late_since == (START + timedelta(hours=2)).timestamp()
    assert miss.opened_at == miss.late_since  # the daemon looked at that very moment
    assert "within 2h" in miss.detail["expected"]

    daemon.record_materialization("revenue")
    daemon.advance(minutes=1)
    [resolved] = list_violations(store)
    assert resolved.id == miss.id and not resolved.open
    assert resolved.resolved_at == (START + timedelta(hours=6, minutes=1)).timestamp()


def test_a_deadline_in_a_time_zone_expects_a_materialization_since_the_previous_deadline(
    store: Store,
):
    @lg.asset(freshness=lg.Freshness(deadline="06:00", timezone="Europe/Paris"))
    def report() -> int:
        return 1

    daemon = _daemon([report], store, start=datetime(2025, 3, 1, 6, 0, tzinfo=UTC))
    daemon.record_materialization("report")  # 07:00 in Paris, after the 1 March deadline
    daemon.advance(to=datetime(2025, 3, 2, 4, 59, tzinfo=UTC))  # 05:59 in Paris
    assert list_violations(store) == []
    daemon.advance(to=datetime(2025, 3, 3, 12, 0, tzinfo=UTC))
    [miss] = list_violations(store)
    assert miss.late_since == datetime(2025, 3, 3, 5, 0, tzinfo=UTC).timestamp()  # 06:00 CET
    assert miss.open and "by 2025-03-03T06:00+01:00" in miss.detail["expected"]


def test_a_daily_partitioned_asset_needs_the_latest_window_and_one_miss_spans_late_days(
    store: Store,
):
    @lg.asset(
        partitions=lg.DailyPartitions(start="2025-02-01", timezone="UTC"),
        freshness=lg.Freshness(max_lag="3h"),
    )
    def sales() -> int:
        return 1

    daemon = _daemon([sales], store)
    for day in ("2025-02-27", "2025-02-28"):
        daemon.record_materialization("sales", day)
    daemon.advance(days=1, hours=2, minutes=59)  # 2025-03-01 is due at 03:00 on 2 March
    assert list_violations(store) == []
    daemon.advance(days=1)  # still missing a day later; 2025-03-02 is due a minute later
    [miss] = list_violations(store)
    assert (miss.subject, miss.partition) == ("sales", "2025-03-01")
    assert miss.late_since == datetime(2025, 3, 2, 3, 0, tzinfo=UTC).timestamp()
    daemon.record_materialization("sales", "2025-03-01")
    daemon.advance(minutes=1)
    assert [v.id for v in list_violations(store, open_only=True)] == [miss.id]  # 03-02 late
    daemon.record_materialization("sales", "2025-03-02")
    daemon.advance(minutes=1)
    assert list_violations(store, open_only=True) == []


def test_each_tenant_of_a_product_space_is_its_own_subject(store: Store):
    @lg.asset(
        partitions=lg.DailyPartitions(start="2025-02-01") * lg.StaticPartitions(["acme", "zeta"]),
        freshness=lg.Freshness(max_lag="1h"),
    )
    def orders() -> int:
        return 1

    daemon = _daemon([orders], store, start=START + timedelta(hours=1))
    daemon.record_materialization("orders", "date=2025-02-28,static=acme")
    daemon.advance(hours=2)
    [miss] = list_violations(store)
    assert miss.subject == "orders[static=zeta]"
    assert miss.partition == "date=2025-02-28,static=zeta"


def test_a_pipeline_sla_is_missed_by_a_run_still_going_and_kept_by_a_later_success(
    store: Store,
):
    @lg.asset
    def nightly_asset() -> int:
        return 1

    nightly = lg.Pipeline(
        "nightly", select="nightly_asset", sla="45m", triggers=[lg.Cron("0 2 * * *")]
    )
    daemon = _daemon([nightly_asset], store, [nightly])
    [run] = daemon.advance(hours=2, minutes=44)
    assert list_violations(store) == []
    daemon.advance(minutes=2)
    [miss] = list_violations(store, kind="sla")
    assert (miss.subject, miss.run_id) == ("nightly", run.run_id)
    assert miss.late_since == run.created_at + 45 * 60
    _finish(daemon, run.run_id, EventType.RUN_SUCCEEDED)  # late, but it made it
    daemon.advance(minutes=1)
    assert not list_violations(store, kind="sla")[0].open


def test_a_run_cancelled_within_its_sla_misses_nothing(store: Store):
    @lg.task
    def job() -> None:
        return None

    hourly = lg.Pipeline("hourly", select="job", sla="10m", triggers=[lg.Every(3600)])
    daemon = _daemon([job], store, [hourly])
    [run] = daemon.advance(hours=1)
    _finish(daemon, run.run_id, EventType.RUN_CANCELLED)
    daemon.advance(minutes=30)
    assert list_violations(store) == []


def test_a_daemon_that_does_not_know_the_definitions_yet_resolves_no_violation(store: Store):
    late = Miss(subject="revenue", late_since=START.timestamp(), asset_key="revenue")
    record_misses(store, "freshness", [late], assessed=["revenue"], defined=None, now=1.0)
    # No definitions recorded yet (its code server has not answered, say): a look must not take
    # "nothing is defined" for "no asset has a policy any more".
    daemon = Daemon(store, clock=FakeClock(START + timedelta(hours=1)), launch_runs=False)
    try:
        daemon.tick_once()
    finally:
        daemon.stop()
    [miss] = list_violations(store)
    assert miss.subject == "revenue" and miss.open


def _finish(daemon: VirtualDaemon, run_id: str, kind: EventType) -> None:
    status = kind.value.removeprefix("run_")
    with daemon.store.transaction() as conn:
        append(conn, [Event(kind, run_id, ts=daemon.clock.now().timestamp(), status=status)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_lag": "2 hours"}, "'2 hours' is not a duration"),
        ({"deadline": "6am"}, "neither HH:MM nor a cron expression"),
        ({"deadline": "06:00", "timezone": "CET"}, "'Europe/Paris'"),
        ({}, "needs max_lag or deadline"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_asset_and_the_fix(kwargs, message):
    with pytest.raises(lg.DefinitionError, match="asset 'late'") as refused:

        @lg.asset(freshness=lg.Freshness(**kwargs))
        def late() -> int:
            return 1

    assert message in str(refused.value) and "test_freshness.py" in str(refused.value)


def test_a_bad_sla_is_refused_naming_the_pipeline():
    with pytest.raises(lg.DefinitionError, match=r"pipeline 'nightly'.*sla '45 min'.*45m"):
        lg.Pipeline("nightly", sla="45 min")
