"""What differs between brokers: NATS stream lookup, RabbitMQ queue declaration and message ids."""

from __future__ import annotations

import secrets

import pytest
from message_brokers import NatsBroker, RabbitMQBroker

from legato.definitions.messages import NatsSource, RabbitMQSource
from legato.errors import ConfigError
from legato.integrations.brokers import open_source


def test_nats_without_a_stream_for_the_subject_says_how_to_fix_it(nats_url: str) -> None:
    source = open_source(NatsSource(f"legato.nostream.{secrets.token_hex(4)}", url=nats_url))
    with pytest.raises(ConfigError, match="no JetStream stream captures") as error:
        source.connect()
    assert "stream='NAME'" in str(error.value)
    source.close()


def test_nats_creates_a_named_stream_and_its_dead_letter_stream(nats_url: str) -> None:
    broker = NatsBroker(nats_url)
    name = f"LEGATO_NEW_{secrets.token_hex(4)}"
    spec = NatsSource(f"legato.new.{secrets.token_hex(4)}", stream=name, url=nats_url)
    source = open_source(spec)
    source.connect()
    try:
        names = broker.loop.run(broker.js.streams_info(), 10)
        created = {info.config.name for info in names}
        assert {name, f"{name}_DEAD_LETTER"} <= created
    finally:
        source.close()
        for stream in (name, f"{name}_DEAD_LETTER"):
            broker.loop.run(broker.js.delete_stream(stream), 10)
        broker.cleanup()


def test_rabbitmq_declares_a_missing_queue_and_uses_the_message_id(rabbitmq_url: str) -> None:
    broker = RabbitMQBroker(rabbitmq_url)
    queue = f"legato.fresh.{secrets.token_hex(4)}"
    source = open_source(RabbitMQSource(queue, url=rabbitmq_url))
    source.connect()
    try:
        properties = broker.pika.BasicProperties(message_id="order-1", headers={"n": 1})
        broker.channel.basic_publish("", queue, b"{}", properties=properties)
        (message,) = source.fetch(10, 5.0)
        assert message.id == "order-1" and message.headers == {"n": "1"}
        source.ack([message])
    finally:
        source.close()
        for name in (queue, f"{queue}.dead_letter"):
            broker.channel.queue_delete(name)
        broker.cleanup()
