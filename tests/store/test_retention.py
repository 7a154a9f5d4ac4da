"""Retention: old runs go with every row they have, in small transactions; what a rule keeps
stays (unfinished and pinned runs and what they need, unfinished backfills, every latest
materialization); two prunes at once delete each run once. On both stores."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from legato.definitions.retention import Retention
from legato.errors import NotFoundError
from legato.events.status import RunStatus
from legato.events.types import Event, EventType
from legato.store import event_log, retention_sweep, schema
from legato.store.assets import history, latest_materializations
from legato.store.backfills import create_backfill, set_status
from legato.store.engine import Store
from legato.store.pins import is_pinned, pin_run, unpin_run
from legato.store.retention import Policies, Progress, preview, prune
from legato.store.runs import NewStep, RunRecord, insert_run

NOW = 1_800_000_000.0
DAY = 86400.0
MONTH = Policies(Retention(days=30))


def _run(store: Store, run_id: str, days: float, **options: Any) -> str:
    with store.transaction() as conn:
        return _record(conn, run_id, days, **options)


def _record(
    conn: Connection,
    run_id: str,
    days: float,
    *,
    status: RunStatus = RunStatus.SUCCEEDED,
    pipeline: str | None = None,
    materializes: tuple[tuple[str, str], ...] = (),
    parent: str | None = None,
    reused_from: str | None = None,
    backfill_id: str | None = None,
    logs: int = 2,
) -> str:
    """A run ``days`` old with one step per asset partition it materializes (or one task step),
    its events and ``logs`` log lines."""
    at = NOW - days * DAY
    steps = [NewStep(f"{a}[{p}]", a, "asset", p) for a, p in materializes] or [
        NewStep("t", "t", "task")
    ]
    record = RunRecord(
        run_id,
        "*",
        status,
        at,
        pipeline=pipeline,
        tags={"team": "data"},
        partition="|".join(p for _, p in materializes if p),
        parent_run_id=parent,
        backfill_id=backfill_id,
    )
    insert_run(conn, record, steps)
    events = [Event(EventType.RUN_STARTED, run_id, ts=at, status="running")]
    for step in steps:
        events.append(Event(EventType.STEP_STARTED, run_id, step.step_key, 1, at, "running"))
        if step.kind == "asset":
            data = {"asset_key": step.node, "partition": step.partition}
            events.append(Event(EventType.MATERIALIZED, run_id, step.step_key, 1, at, None, data))
        if reused_from:
            events.append(
                Event(
                    EventType.STEP_REUSED,
                    run_id,
                    step.step_key,
                    1,
                    at,
                    "reused",
                    {"from_run": reused_from},
                )
            )
        else:
            events.append(
                Event(EventType.STEP_SUCCEEDED, run_id, step.step_key, 1, at, "succeeded")
            )
    if status.finished:
        end = {"succeeded": EventType.RUN_SUCCEEDED, "failed": EventType.RUN_FAILED}
        events.append(
            Event(
                end.get(status.value, EventType.RUN_CANCELLED), run_id, ts=at, status=status.value
            )
        )
    lines = [
        {
            "run_id": run_id,
            "step_key": steps[0].step_key,
            "ts": at,
            "level": "INFO",
            "stream": "stdout",
            "message": f"line {i}",
        }
        for i in range(logs)
    ]
    event_log.append(conn, events, lines)
    return run_id


def _runs(store: Store) -> set[str]:
    with store.read() as conn:
        return set(conn.execute(select(schema.runs.c.run_id)).scalars())


def _rows_of(store: Store, run_ids: set[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    with store.read() as conn:
        for table in (
            schema.steps,
            schema.events,
            schema.logs,
            schema.materializations,
            schema.run_facets,
        ):
            count = conn.execute(
                select(func.count()).select_from(table).where(table.c.run_id.in_(run_ids))
            ).scalar()
            found[table.name] = int(count or 0)
        found["pruned_runs"] = int(
            conn.execute(select(func.count()).select_from(schema.pruned_runs)).scalar() or 0
        )
    return +found


def test_old_runs_go_with_their_rows_and_what_a_rule_keeps_stays(store: Store):
    for backfill_id, status in (("bf_done", "completed"), ("bf_open", "failed")):
        create_backfill(
            store,
            backfill_id,
            "*",
            [],
            [],
            max_concurrent=1,
            missing_only=False,
            executor="inprocess",
        )
        set_status(store, backfill_id, status, allowed_from=["requested"])
    deleted = {
        _run(store, "old", 40, materializes=(("a", ""),)),  # a newer run materialized a since
        _run(store, "old_failed", 50, status=RunStatus.FAILED, logs=5),
        _run(store, "old_b2", 41, materializes=(("b", "2025-01-02"),)),
        _run(store, "done_bf_run", 40, backfill_id="bf_done"),
    }
    kept = {
        _run(store, "latest_a", 35, materializes=(("a", ""),)),  # old, but a's latest
        _run(store, "latest_b1", 40, materializes=(("b", "2025-01-01"),)),
        _run(store, "new_b2", 3, materializes=(("b", "2025-01-02"),)),
        _run(store, "running", 60, status=RunStatus.RUNNING),
        _run(store, "parent", 70),
        _run(store, "reused", 80),
        _run(store, "pinned", 45, parent="parent", reused_from="reused"),
        _run(store, "needed_by_running", 90),
        _run(store, "rerun", 1, status=RunStatus.QUEUED, parent="needed_by_running"),
        _run(store, "bf_run", 40, backfill_id="bf_open"),
        _run(store, "young", 5),
    }
    assert pin_run(store, "pinned", by="test") == "pinned" and is_pinned(store, "pinned")

    report = prune(store, MONTH, now=NOW)

    assert _runs(store) == kept
    assert _rows_of(store, deleted) == Counter()  # steps, events, logs, facets, tombstones
    assert report.runs == 4 and report.done
    assert report.rows["logs"] == 2 + 5 + 2 + 2 and report.rows["runs"] == 4
    assert [m.run_id for m in latest_materializations(store, "a")] == ["latest_a"]
    assert [m.run_id for m in history(store, "a")] == ["latest_a"]
    assert prune(store, MONTH, now=NOW).runs == 0  # nothing left to delete


def test_the_runs_limit_keeps_the_newest_per_pipeline_and_a_pipeline_policy_comes_first(
    store: Store,
):
    for i in range(5):
        _run(store, f"p{i}", 1 + i, pipeline="p")  # p0 is the newest
        _run(store, f"q{i}", 100 + i, pipeline="q")
        _run(store, f"adhoc{i}", 1 + 20 * i)
    policies = Policies(Retention(days=30), {"p": Retention(runs=2), "q": Retention()})
    prune(store, policies, now=NOW)
    assert _runs(store) == {"p0", "p1", *(f"q{i}" for i in range(5)), "adhoc0", "adhoc1"}


def test_a_preview_counts_what_prune_deletes_and_deletes_nothing(store: Store):
    for i in reversed(range(6)):  # r0 is the newest: the latest of a[k0], r1 of a[k1]
        _run(store, f"r{i}", 10 * i, materializes=(("a", f"k{i % 2}"),), logs=i)
    before = _runs(store)
    seen = preview(store, MONTH, now=NOW)
    assert _runs(store) == before
    done = prune(store, MONTH, now=NOW)
    assert seen.runs == done.runs == 2  # r4 and r5, older than 30 days
    assert seen.rows == done.rows and done.rows["logs"] == 4 + 5


def test_a_pass_stops_at_its_deadline_and_goes_on_where_it_stopped(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(retention_sweep, "MAX_ROWS", 3)
    for i in range(4):
        _run(store, f"old{i}", 40 + i, logs=7)
    _run(store, "young", 1)
    progress, passes, largest = Progress(), 0, 0
    sweep_once = retention_sweep.sweep_once

    def watched(on: Store) -> Counter[str] | None:
        nonlocal largest
        deleted = sweep_once(on)
        largest = max(largest, sum((deleted or Counter()).values()))
        return deleted

    monkeypatch.setattr("legato.store.retention.sweep_once", watched)
    while True:
        passes += 1
        report = prune(store, MONTH, now=NOW, progress=progress, deadline=time.monotonic())
        if report.done:
            break
        assert passes < 500
    assert passes > 1 and largest == 3  # a transaction deletes at most MAX_ROWS rows
    assert _runs(store) == {"young"}
    assert _rows_of(store, {f"old{i}" for i in range(4)}) == Counter()


def test_two_prunes_at_once_delete_each_run_once(store: Store):
    with store.transaction() as conn:
        for i in range(60):
            _record(conn, f"r{i:03d}", 31 + i % 7, logs=1)
    reports, errors = [], []

    def run() -> None:
        try:
            reports.append(prune(Store(store.url), MONTH, now=NOW))
        except Exception as exc:  # the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(reports) == 2
    assert sum(r.runs for r in reports) == 60 and _runs(store) == set()
    assert _rows_of(store, {f"r{i:03d}" for i in range(60)}) == Counter()


def test_pinning_keeps_a_run_until_it_is_unpinned(store: Store):
    _run(store, "old", 40)
    pin_run(store, "old", by="test")
    pin_run(store, "old", by="test")  # harmless
    assert prune(store, MONTH, now=NOW).runs == 0
    assert unpin_run(store, "old") == "old" and not is_pinned(store, "old")
    assert prune(store, MONTH, now=NOW).runs == 1
    with pytest.raises(NotFoundError, match="no run 'old'"):
        pin_run(store, "old", by="test")
