"""ConsumerLoop on a real Redis stream: it outlives store and broker errors and records each once."""

from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec
from message_brokers import RedisBroker, until

import legato as lg
from legato.automation.consume import ConsumerLoop
from legato.automation.consumers import consumer_loop
from legato.definitions.messages import (
    Message,
    MessageSource,
    OnMessage,
    RunRequest,
    idempotency_key,
)
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.integrations.brokers import open_source
from legato.store.automation import list_ticks, trigger_id
from legato.store.engine import Store
from legato.store.runs import list_runs


class Ledger:
    """Stands in for the daemon's transaction: run requests keyed by idempotency key."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.runs: dict[str, RunRequest] = {}

    def record(self, pairs: list[tuple[Message, RunRequest]]) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store unreachable")
        for message, request in pairs:
            self.runs.setdefault(request.key or idempotency_key(message), request)


class FlakyBroker:
    """A real source whose first fetches fail as if the connection had dropped."""

    def __init__(self, source: MessageSource, failures: int) -> None:
        self.source, self.failures, self.name = source, failures, source.name
        self.connects = 0

    def connect(self) -> None:
        self.connects += 1
        self.source.connect()

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("connection reset by peer")
        return self.source.fetch(max_messages, timeout)

    def ack(self, messages: Sequence[Message]) -> None:
        self.source.ack(messages)

    def dead_letter(self, message: Message, reason: str) -> None:
        self.source.dead_letter(message, reason)

    def close(self) -> None:
        self.source.close()


def publish(broker: RedisBroker, count: int) -> None:
    broker.publish([json.dumps({"n": n}).encode() for n in range(count)])


def pending(broker: RedisBroker) -> int:
    return int(broker.redis.xpending(broker.stream, "legato")["pending"])


def test_the_loop_holds_a_batch_while_the_store_is_down_then_records_it_once(
    redis_broker: RedisBroker,
) -> None:
    spec = redis_broker.spec()
    ledger = Ledger(failures=2)
    loop = ConsumerLoop(
        open_source(spec),
        OnMessage(spec, batch=10, within=0.2),
        ledger.record,
        wait=0.2,
        backoff=0.02,
    )
    publish(redis_broker, 10)
    loop.start()
    try:
        until(lambda: len(ledger.runs) == 10 and pending(redis_broker) == 0, what="10 runs")
    finally:
        loop.stop()
    stats = loop.stats
    assert not loop.running
    assert (stats.recorded, stats.errors, stats.reconnects) == (10, 2, 0)
    assert "ConnectionError: store unreachable" in (stats.last_error or "")


def test_the_loop_reconnects_after_broker_errors(redis_broker: RedisBroker) -> None:
    spec = redis_broker.spec()
    flaky = FlakyBroker(open_source(spec), failures=3)
    ledger = Ledger()
    loop = ConsumerLoop(flaky, OnMessage(spec, batch=5), ledger.record, wait=0.2, backoff=0.01)
    publish(redis_broker, 5)
    loop.start()
    try:
        until(lambda: len(ledger.runs) == 5 and pending(redis_broker) == 0, what="5 runs")
    finally:
        loop.stop()
    assert flaky.connects == 4 and loop.stats.reconnects == 3 and loop.stats.errors == 3


def test_after_a_long_store_outage_the_broker_redelivers_and_the_key_dedupes(
    redis_broker: RedisBroker,
) -> None:
    spec = redis_broker.spec()
    ledger = Ledger(failures=4)
    loop = ConsumerLoop(
        open_source(spec),
        OnMessage(spec, batch=3, within=0.2),
        ledger.record,
        wait=0.2,
        backoff=0.02,
        hold=0.05,
    )
    publish(redis_broker, 3)
    loop.start()
    try:
        until(lambda: len(ledger.runs) == 3 and pending(redis_broker) == 0, what="3 runs")
    finally:
        loop.stop()
    stats = loop.stats
    assert stats.reconnects >= 1 and stats.errors == 4
    assert sorted(r.config["n"] for r in ledger.runs.values()) == [0, 1, 2]


def test_poison_does_not_stop_the_loop(redis_broker: RedisBroker) -> None:
    spec = redis_broker.spec()
    ledger = Ledger()
    loop = ConsumerLoop(open_source(spec), OnMessage(spec), ledger.record, wait=0.2)
    redis_broker.publish([b"[1, 2]", b'{"n": 1}'])
    loop.start()
    try:
        until(lambda: len(ledger.runs) == 1 and loop.stats.dead_lettered == 1, what="1 run")
    finally:
        loop.stop()
    (reason,) = loop.stats.dead_letter_reasons
    assert "body is JSON list, not an object" in reason
    ((_, headers),) = redis_broker.dead_letters(1)
    assert headers["legato-dead-letter-reason"] == reason


class Export(msgspec.Struct):
    table: str
    rows: int = 100


@lg.task
def export(config: Export) -> int:
    return config.rows


def test_a_message_whose_run_could_not_start_is_poison_with_its_problems_in_the_tick_history(
    redis_broker: RedisBroker, store: Store
) -> None:
    spec = redis_broker.spec()
    trigger = OnMessage(spec, batch=3, within=1.0)
    pipe = lg.Pipeline("exports", select="export", config={"export": {"rows": 5}})
    key = trigger_id("exports", 0, "message")
    # what the daemon's consumer process runs for the trigger, on the project's graph
    loop = consumer_loop(store, key, pipe, trigger, build_graph(Project.of([export], [pipe])))
    good, bad, other = ({"table": "a"}, {"tabel": "b", "rows": "9"}, {"table": "c", "rows": 7})
    redis_broker.publish([json.dumps({"export": c}).encode() for c in (good, bad, other)])
    loop.start()
    try:
        until(
            lambda: loop.stats.recorded == 2 and pending(redis_broker) == 0,
            what="the two good messages recorded and all three acked",
        )
    finally:
        loop.stop()
    assert (loop.stats.batches, loop.stats.dead_lettered) == (1, 1)  # one batch, not held back
    runs = sorted(list_runs(store), key=lambda r: r.config["export"]["table"])
    assert [r.config["export"] for r in runs] == [
        {"rows": 5, "table": "a"},
        {"rows": 7, "table": "c"},
    ]
    [failed] = [t for t in list_ticks(store, key) if t.status == "failed"]
    assert failed.run_id is None and failed.tick_key.startswith(f"{spec.name}:")
    reason = failed.reason or ""
    assert reason.startswith("the run config of step 'export' is invalid: 3 problems:")
    for said in ("export.table is required", "export.tabel is not a known key", "'table'?"):
        assert said in reason
    assert len([t for t in list_ticks(store, key) if t.status == "requested"]) == 2
    ((body, headers),) = redis_broker.dead_letters(1)
    assert json.loads(body) == {"export": bad}
    assert "export.tabel is not a known key" in headers["legato-dead-letter-reason"]
