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

import time
from collections.abc import Callable

from legato import plugins
from legato.definitions.messages import SOURCE_SPECS, MessageSource, SourceSpec
from legato.errors import DefinitionError


def open_source(spec: SourceSpec, *, now: Callable[[], float] = time.time) -> MessageSource:
    """The :class:`MessageSource` for a source spec, not yet connected: call ``connect()`` next.

    The source is the one installed under the spec's ``kind`` (entry-point group
    ``legato.message_sources``): those above, or a plugin's.

    Args:
        spec: a ``NatsSource``, ``RedisStreamSource``, ``RabbitMQSource``, ``MqttSource`` or
            ``KafkaSource``, or a plugin's spec.
        now: the clock stamped on :attr:`Message.received_at`.

    Raises:
        DefinitionError: ``spec`` is not a source spec.
        ConfigError: no message source of its kind is installed.
    """
    kind, name = getattr(spec, "kind", None), getattr(spec, "name", None)
    if not isinstance(kind, str) or not isinstance(name, str):
        kinds = ", ".join(t.__name__ for t in SOURCE_SPECS)
        raise DefinitionError(
            f"open_source() got {spec!r}, which is not a message source spec",
            hint=f"pass one of {kinds}, or a plugin's spec",
        )
    factory = plugins.load(plugins.MESSAGE_SOURCES, kind, source=f"message source {name!r}")
    source: MessageSource = factory(spec, now=now)
    return source


__all__ = ["open_source"]
