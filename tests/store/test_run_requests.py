"""Asking for runs: one request type, one key format, and the keys earlier versions stored (a
daemon upgraded mid-schedule must not ask for a tick twice)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import legato as lg
from legato.automation.backfills import run_key
from legato.automation.consumers import record_batch
from legato.definitions.messages import Message, RunRequest
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.graph.snapshot import snapshot
from legato.store.engine import Store
from legato.store.run_requests import NewRun, request_run, request_runs_in, run_record
from legato.store.runs import get_run
from legato.testing import VirtualDaemon

START = datetime(2025, 1, 1, tzinfo=UTC)


@lg.task
def job() -> None:
    return None


def test_schedules_and_sensors_ask_with_the_keys_earlier_versions_stored():
    @lg.sensor(interval=3600)
    def keyed(context):
        return [lg.RunRequest(key="batch-7", tags={"from": "sensor"})]

    @lg.sensor(interval=3600)
    def keyless(context):
        return lg.SensorResult([lg.RunRequest()], cursor="c1")

    hourly = lg.Pipeline(
        "hourly",
        select="job",
        tags={"team": "ops"},
        priority=3,
        executor="threads",
        triggers=[lg.Cron("0 * * * *")],
    )
    watched = lg.Pipeline("watched", select="job", triggers=[keyed, keyless])
    daemon = VirtualDaemon([hourly, watched], steps=[job], start=START)
    runs = {run.idempotency_key: run for run in daemon.advance(minutes=90)}

    tick = runs["tick:hourly#0:cron:2025-01-01T01:00:00+00:00"]
    assert tick.trigger == "schedule:hourly#0:cron" and tick.pipeline == "hourly"
    assert (tick.selection, tick.executor, tick.priority) == ("job", "threads", 3)
    assert tick.tags == {"team": "ops", "legato/tick": "2025-01-01T01:00:00+00:00"}
    sensed = runs["sensor:watched#0:sensor:batch-7"]
    assert sensed.trigger == "sensor:watched#0:sensor" and sensed.tags == {"from": "sensor"}
    assert "sensor:watched#1:sensor:None:2025-01-01T00:00:00+00:00" in runs


def test_messages_and_backfills_ask_with_the_keys_earlier_versions_stored(store: Store):
    pipe = lg.Pipeline("orders", select="job", tags={"team": "ops"})
    message = Message("5-0", b"{}", source="redis:orders#legato")
    other = Message("6-0", b"{}", source="redis:orders#legato")
    [by_id, by_key] = record_batch(
        store, "orders#0:message", pipe, [(message, RunRequest()), (other, RunRequest(key="k"))]
    )
    assert get_run(store, by_id).idempotency_key == "msg:redis:orders#legato:5-0"
    assert get_run(store, by_id).trigger == "message:orders#0:message"
    assert get_run(store, by_key).idempotency_key == "k"
    assert run_key("0b5e", 2, 1) == "backfill:0b5e:2:1"


def test_a_key_and_a_trigger_fit_their_columns_and_stay_distinct(store: Store):
    long_a = NewRun("job", trigger="sensor", trigger_id="t" * 400, key=("sensor", "x" * 900))
    long_b = NewRun("job", trigger="sensor", trigger_id="t" * 400, key=("sensor", "x" * 901))
    a, b = run_record(long_a), run_record(long_b)
    assert a.idempotency_key and b.idempotency_key
    assert len(a.idempotency_key) == 512 and a.idempotency_key.startswith("sensor:xxx")
    assert a.idempotency_key != b.idempotency_key and len(a.trigger) == 255
    first, created = request_run(store, long_a)
    again, created_again = request_run(store, long_a)
    assert created and not created_again and again == first
    assert get_run(store, first).idempotency_key == a.idempotency_key


def test_a_batch_answers_a_key_already_used_with_the_run_it_made(store: Store):
    made, _ = request_run(store, NewRun("job", trigger="manual", key=("mine", "1")))
    with store.transaction() as conn:
        ids = request_runs_in(
            conn,
            [
                NewRun("job", trigger="manual", key=("mine", "1")),
                NewRun("job", trigger="manual", key=("mine", "2")),
            ],
        )
    assert ids[0] == made and ids[1] != made
    assert get_run(store, ids[1]).idempotency_key == "mine:2"


def test_a_pipeline_gives_the_same_defaults_as_its_snapshot():
    pipe = lg.Pipeline("p", select=["job", "+job"], tags={"a": "1"}, executor="threads", priority=2)
    project = Project.of([job], [pipe])
    [described] = snapshot(project, build_graph(project)).pipelines
    from_object = NewRun.of_pipeline(pipe, tags={"b": "2"}, trigger="cli")
    from_snapshot = NewRun.of_pipeline(described, tags={"b": "2"}, trigger="cli")
    assert from_object == from_snapshot
    assert from_object.selection == "job +job" and from_object.tags == {"a": "1", "b": "2"}
    assert (from_object.executor, from_object.priority) == ("threads", 2)
    assert NewRun.of_pipeline(pipe, priority=0, trigger="cli").priority == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"selection": " "}, "needs a selection"),
        ({"trigger": "cron"}, "must be one of"),
        ({"key": ("tick", 3)}, "key parts must be strings"),
        ({"tags": {"a": 1}}, "tags must map strings to strings"),
        ({"config": {1: "x"}}, "config must map strings"),
        ({"priority": True}, "priority is a whole number"),
    ],
)
def test_a_malformed_request_is_refused_naming_what_is_wrong(fields, message):
    with pytest.raises(ValueError, match=message):
        NewRun(**{"selection": "job", **fields})
