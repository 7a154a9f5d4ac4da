"""Every broker, for real: messages are recorded once, acked only after ``record``, poison is
dead-lettered with its reason, and micro-batches close when full or when their window ends."""

from __future__ import annotations

import json
import time

import pytest
from message_brokers import Broker, consume_until

from legato.automation.consume import BatchNotRecorded, consume_batch
from legato.definitions.messages import Message, OnMessage, RunRequest
from legato.integrations.brokers import open_source
from legato.integrations.brokers._common import MESSAGE_ID_HEADER, REASON_HEADER


def bodies(*numbers: int) -> list[bytes]:
    return [json.dumps({"n": n}).encode() for n in numbers]


def test_each_message_is_recorded_once_and_acked(broker: Broker) -> None:
    spec = broker.spec()
    source = open_source(spec)
    source.connect()
    broker.publish(bodies(*range(20)))

    recorded = consume_until(source, OnMessage(spec, batch=10), 20)
    source.close()

    assert sorted(r.config["n"] for _, r in recorded) == list(range(20))
    assert len({m.id for m, _ in recorded}) == 20
    assert all(m.source == spec.name and m.deliveries == 1 for m, _ in recorded)
    restarted = open_source(spec)
    restarted.connect()
    try:
        assert restarted.fetch(10, 0.5) == [], "acked messages came again after a reconnect"
    finally:
        restarted.close()


def test_a_failing_record_acks_nothing_and_the_same_ids_come_again(broker: Broker) -> None:
    spec = broker.spec()
    trigger = OnMessage(spec, batch=5, within=5.0)
    source = open_source(spec)
    source.connect()
    broker.publish(bodies(*range(5)))

    def store_is_down(pairs: list[tuple[Message, RunRequest]]) -> None:
        raise ConnectionError("store unreachable")

    with pytest.raises(BatchNotRecorded, match="nothing was acked") as failed:
        consume_batch(source, trigger, store_is_down)
    first_ids = {m.id for m, _ in failed.value.pairs}
    assert len(first_ids) == 5
    source.close()

    source.connect()
    again = consume_until(source, trigger, 5)
    assert {m.id for m, _ in again} == first_ids
    assert all(m.deliveries >= 2 for m, _ in again)
    source.close()
    source.connect()
    try:
        assert source.fetch(5, 0.5) == []
    finally:
        source.close()


def test_poison_messages_are_dead_lettered_with_the_reason_and_the_next_is_processed(
    broker: Broker,
) -> None:
    def orders(message: Message) -> RunRequest:
        order = message.json()
        if "tenant" not in order:
            raise ValueError("order has no tenant")
        return RunRequest(partition=order["tenant"])

    spec = broker.spec()
    trigger = OnMessage(spec, orders, max_bytes=200)
    source = open_source(spec)
    source.connect()
    too_big = json.dumps({"tenant": "x" * 300}).encode()
    broker.publish(
        [b'{"tenant": "acme"}', b"{not json", b'{"n": 1}', too_big, b'{"tenant": "zeta"}']
    )

    recorded = consume_until(source, trigger, 2)
    source.close()

    assert [r.partition for _, r in recorded] == ["acme", "zeta"]
    letters = broker.dead_letters(3)
    assert [body for body, _ in letters] == [b"{not json", b'{"n": 1}', too_big]
    reasons = [headers[REASON_HEADER] for _, headers in letters]
    assert all("OnMessage 'orders'" in r and "test_message_brokers.py" in r for r in reasons)
    assert "to_run raised JSONDecodeError" in reasons[0]
    assert "to_run raised ValueError: order has no tenant" in reasons[1]
    assert "over the limit of 200" in reasons[2]
    for (_, headers), reason in zip(letters, reasons, strict=True):
        assert headers[MESSAGE_ID_HEADER] in reason
    source.connect()
    try:
        assert source.fetch(10, 0.5) == [], "dead-lettered messages must be acked"
    finally:
        source.close()


def test_micro_batches_close_when_full_or_when_the_window_ends(broker: Broker) -> None:
    spec = broker.spec()
    source = open_source(spec)
    source.connect()
    calls: list[int] = []
    try:
        broker.publish(bodies(*range(5)))
        started = time.monotonic()
        full = consume_batch(
            source, OnMessage(spec, batch=5, within=60.0), lambda p: calls.append(len(p))
        )
        assert (full.fetched, calls) == (5, [5])
        # a full batch closes at once: well before its 60 s window (half of it, for a busy machine)
        assert time.monotonic() - started < 30, "a full batch must not wait for the window"

        broker.publish(bodies(5, 6))
        started = time.monotonic()
        partial = consume_batch(
            source, OnMessage(spec, batch=5, within=0.4), lambda p: calls.append(len(p))
        )
        waited = time.monotonic() - started
        assert (partial.fetched, calls) == (2, [5, 2])
        assert 0.4 <= waited < 30  # the window closed it, not a full batch (there are 2)
    finally:
        source.close()


def test_a_message_delivered_too_often_is_dead_lettered(broker: Broker) -> None:
    spec = broker.spec()
    source = open_source(spec)
    source.connect()
    broker.publish(bodies(1))
    first = source.fetch(1, 5.0)
    assert len(first) == 1 and first[0].deliveries == 1
    source.close()  # as if the daemon died before recording it

    source.connect()
    result = consume_batch(source, OnMessage(spec, dead_letter_after=1), lambda p: None, wait=5.0)
    source.close()

    assert result.dead_lettered == 1
    ((body, headers),) = broker.dead_letters(1)
    assert body == bodies(1)[0]
    assert (
        "delivered 2 times without being recorded (dead_letter_after=1)" in headers[REASON_HEADER]
    )
    assert headers[MESSAGE_ID_HEADER] == first[0].id
