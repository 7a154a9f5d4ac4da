"""OnUpdate(since=...): a new downstream trigger catches up on upstream partitions that were
materialized before it first looked, as far back as the user chose."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

import legato as lg
from legato.errors import DefinitionError
from legato.testing import VirtualDaemon

DAYS = lg.DailyPartitions(start="2025-01-01")
KEYS = [f"2025-02-{d:02d}" for d in range(1, 6)]
START = datetime(2025, 3, 1, tzinfo=UTC)


def _events() -> lg.AssetDef:
    @lg.asset(partitions=DAYS)
    def events() -> int:
        return 1

    return events


def _daily(since: object) -> lg.AssetDef:
    @lg.asset(partitions=DAYS, triggers=[lg.OnUpdate(since=since)])
    def daily(events: int) -> int:
        return events

    return daily


def _requested(daemon: VirtualDaemon) -> list[str]:
    return sorted(r.partition for r in daemon.advance(seconds=3) if r.selection == "daily")


def test_since_now_replays_nothing_and_since_all_catches_up_on_every_partition() -> None:
    events = _events()
    for since, expected in (("now", []), ("all", KEYS)):
        daily = _daily(since)
        daemon = VirtualDaemon([], steps=[events, daily], start=START)
        lg.materialize([events], partition=KEYS, store=daemon.store)
        assert _requested(daemon) == expected, since
        assert _requested(daemon) == []  # requested once: nothing more on later looks


def test_catching_up_skips_target_partitions_that_exist_and_then_follows_new_ones() -> None:
    events = _events()
    daily = _daily("all")
    daemon = VirtualDaemon([], steps=[events, daily], start=START)
    lg.materialize([events, daily], partition=KEYS[:2], store=daemon.store)  # both made
    lg.materialize([events], partition=KEYS[2:], store=daemon.store)  # daily missing
    assert _requested(daemon) == KEYS[2:]
    lg.materialize([events], partition=KEYS[:1], store=daemon.store)  # new after the first look
    assert _requested(daemon) == KEYS[:1]  # an update is followed even where daily exists


def test_since_a_time_catches_up_on_what_was_materialized_after_it() -> None:
    events = _events()
    old = _daily("all")  # only to share a store before the cut-off
    daemon = VirtualDaemon([], steps=[events, old], start=START)
    lg.materialize([events], partition=KEYS[:2], store=daemon.store)
    cut = datetime.now(UTC)
    while datetime.now(UTC) <= cut:  # materialization times are the store's wall clock
        time.sleep(0.001)
    lg.materialize([events], partition=KEYS[2:], store=daemon.store)
    daily = _daily(cut.isoformat())
    later = VirtualDaemon([], steps=[events, daily], start=START, store=daemon.store)
    assert _requested(later) == KEYS[2:]


@pytest.mark.parametrize(
    "since, why",
    [
        ("yesterday", "is not a duration"),
        ("2025-13-01", "not an ISO 8601 date-time"),
        (datetime(2025, 1, 1), "without a time zone"),
        (-5, "not a positive duration"),
    ],
)
def test_a_bad_since_is_refused_where_the_trigger_is_defined(since: object, why: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        lg.OnUpdate(since=since)  # type: ignore[arg-type]
    assert why in str(refused.value)
    assert "test_on_update_since.py" in str(refused.value)  # where it was written
    assert '"all"' in (refused.value.hint or "")


def test_a_duration_counts_back_from_the_first_look() -> None:
    trigger = lg.OnUpdate(since=timedelta(days=7))
    now = datetime(2026, 1, 8, tzinfo=UTC)
    assert trigger.catch_up_from(now) == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert lg.OnUpdate(since="36h").describe()["since"] == "36h"
