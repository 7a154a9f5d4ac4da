"""Message brokers: :class:`~legato.definitions.messages.MessageSource` for every source spec.

Each broker lives in its own module behind an optional extra, and its client is imported only when
a source of that kind is opened::

    from legato.integrations.brokers import open_source

    source = open_source(RedisStreamSource("orders"))   # not connected yet
    source.connect()

========================  ===========================  ==================  =========================
spec                      module                       extra               client
========================  ===========================  ==================  =========================
``NatsSource``            ``brokers.nats``             ``legato[nats]``    nats-py (JetStream)
``RedisStreamSource``     ``brokers.redis``            ``legato[redis]``   redis-py
``RabbitMQSource``        ``brokers.rabbitmq``         ``legato[rabbitmq]`` pika
``MqttSource``            ``brokers.mqtt``             ``legato[mqtt]``    paho-mqtt ≥ 2
``KafkaSource``           ``brokers.kafka``            ``legato[kafka]``   confluent-kafka
========================  ===========================  ==================  =========================
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

from legato.definitions.messages import SOURCE_SPECS, MessageSource, SourceSpec
from legato.errors import DefinitionError

_IMPLEMENTATIONS = {
    "nats": ("legato.integrations.brokers.nats", "NatsMessageSource"),
    "redis": ("legato.integrations.brokers.redis", "RedisStreamMessageSource"),
    "rabbitmq": ("legato.integrations.brokers.rabbitmq", "RabbitMQMessageSource"),
    "mqtt": ("legato.integrations.brokers.mqtt", "MqttMessageSource"),
    "kafka": ("legato.integrations.brokers.kafka", "KafkaMessageSource"),
}


def open_source(spec: SourceSpec, *, now: Callable[[], float] = time.time) -> MessageSource:
    """The :class:`MessageSource` for a source spec, not yet connected: call ``connect()`` next.

    Args:
        spec: a ``NatsSource``, ``RedisStreamSource``, ``RabbitMQSource``, ``MqttSource`` or
            ``KafkaSource``.
        now: the clock stamped on :attr:`Message.received_at`.

    Raises:
        DefinitionError: ``spec`` is not a source spec.
    """
    if not isinstance(spec, SOURCE_SPECS):
        kinds = ", ".join(t.__name__ for t in SOURCE_SPECS)
        raise DefinitionError(
            f"open_source() got {spec!r}, which is not a message source spec",
            hint=f"pass one of {kinds}",
        )
    module, name = _IMPLEMENTATIONS[spec.kind]
    source: MessageSource = getattr(importlib.import_module(module), name)(spec, now=now)
    return source


__all__ = ["open_source"]
