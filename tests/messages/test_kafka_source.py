"""Kafka, for real: a ``tansu`` broker the fixture starts (Kafka's protocol), or the broker at
LEGATO_TEST_KAFKA_BOOTSTRAP=host:port."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from message_brokers import consume_until, until

from legato.automation.consume import BatchNotRecorded, consume_batch
from legato.definitions.messages import KafkaSource, Message, OnMessage, RunRequest
from legato.integrations.brokers import open_source
from legato.integrations.brokers._common import REASON_HEADER


def test_kafka_records_once_redelivers_after_failure_and_dead_letters_poison(
    kafka_bootstrap: str,
) -> None:
    import confluent_kafka as kafka

    BOOTSTRAP = kafka_bootstrap
    topic = f"legato-test-{secrets.token_hex(4)}"
    producer = kafka.Producer({"bootstrap.servers": BOOTSTRAP})
    for body in (b'{"n": 0}', b"{bad", b'{"n": 1}'):
        producer.produce(topic, body)
    assert producer.flush(30) == 0
    spec = KafkaSource(topic, group=f"g-{topic}", bootstrap=str(BOOTSTRAP))
    source = open_source(spec)
    source.connect()

    def store_is_down(pairs: list[tuple[Message, RunRequest]]) -> None:
        raise ConnectionError("store unreachable")

    trigger = OnMessage(spec, batch=3, within=10.0)
    with pytest.raises(BatchNotRecorded) as failed:
        consume_batch(source, trigger, store_is_down, wait=30.0)
    ids = {m.id for m, _ in failed.value.pairs}
    source.close()
    source.connect()
    again = consume_until(source, trigger, 2, timeout=60)
    assert {m.id for m, _ in again} == ids
    source.close()

    dead = kafka.Consumer(
        {"bootstrap.servers": BOOTSTRAP, "group.id": f"dl-{topic}", "auto.offset.reset": "earliest"}
    )
    dead.subscribe([f"{topic}.dead_letter"])
    letters: list[Any] = []

    def read() -> bool:
        letters.extend(dead.consume(1, 1.0))
        return bool(letters)

    until(read, 60, "a dead letter")
    headers = dict(letters[0].headers())
    assert b"JSON" in headers[REASON_HEADER]
    dead.close()
