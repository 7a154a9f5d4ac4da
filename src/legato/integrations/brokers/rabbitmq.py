"""RabbitMQ: a queue consumer (pika, blocking connection) behind the :class:`MessageSource` interface.

The queue and the dead-letter queue are declared durable when they do not exist (an existing queue
is used as it is). The broker pushes up to ``prefetch`` unacked messages; ``fetch`` hands them out.
Message ids are the AMQP ``message-id`` property when the publisher set one, otherwise a hash of
queue, headers and body (so identical payloads without a message-id count as one message).
``deliveries`` comes from the ``x-delivery-count`` header of quorum queues; classic queues only say
whether a message was redelivered (counted as 2). Dead letters are published with publisher
confirms, so they are stored before the original is acked. Acks have no confirmation in AMQP: a
connection lost right after ``ack`` may redeliver, and the message id deduplicates the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from legato._internal.optional import require
from legato.definitions.messages import Message, RabbitMQSource
from legato.errors import ConfigError
from legato.integrations.brokers._common import as_text, content_id, dead_letter_headers


class RabbitMQMessageSource:
    """Reads a :class:`~legato.definitions.messages.RabbitMQSource`; see the module docstring."""

    def __init__(self, spec: RabbitMQSource, *, now: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.name = spec.name
        self.dead_letter_queue = spec.dead_letter_queue or f"{spec.queue}.dead_letter"
        self._now = now
        self._connection: Any = None
        self._channel: Any = None
        self._buffer: list[tuple[Any, Any, bytes]] = []
        self._inflight: dict[str, list[int]] = {}

    def connect(self) -> None:
        """Connect, declare both queues if missing, and start consuming with manual acks."""
        if self._connection is not None:
            return
        pika = require("pika", "rabbitmq")
        params = pika.URLParameters(self.spec.url)
        params.socket_timeout = 5
        params.blocked_connection_timeout = 30
        self._connection = pika.BlockingConnection(params)
        try:
            self._channel = self._connection.channel()
            for queue in (self.spec.queue, self.dead_letter_queue):
                self._declare(pika, queue)
            self._channel.confirm_delivery()
            self._channel.basic_qos(prefetch_count=self.spec.prefetch)
            self._channel.basic_consume(
                self.spec.queue, on_message_callback=self._on_message, auto_ack=False
            )
        except BaseException:
            self.close()
            raise

    def _declare(self, pika: Any, queue: str) -> None:
        try:
            self._channel.queue_declare(queue, passive=True)
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code != 404:
                raise
            self._channel = self._connection.channel()  # the failed check closed the channel
            self._channel.queue_declare(queue, durable=True)

    def _on_message(self, _channel: Any, method: Any, properties: Any, body: bytes) -> None:
        self._buffer.append((method, properties, body))

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        """Up to ``max_messages`` messages; waits up to ``timeout`` s for the first one."""
        connection = self._connected()
        connection.process_data_events(time_limit=0)
        deadline = time.monotonic() + timeout
        while not self._buffer and (left := deadline - time.monotonic()) > 0:
            connection.process_data_events(time_limit=left)
        taken, self._buffer = self._buffer[:max_messages], self._buffer[max_messages:]
        received_at = self._now()
        messages = []
        for method, properties, body in taken:
            raw = dict(properties.headers or {})
            count = raw.pop("x-delivery-count", None)
            headers = {str(k): as_text(v) for k, v in raw.items()}
            # quorum queues count earlier deliveries; classic ones only flag a redelivery
            earlier = int(count) if count is not None else int(bool(method.redelivered))
            message_id = properties.message_id or content_id(self.spec.queue, body, headers)
            self._inflight.setdefault(message_id, []).append(method.delivery_tag)
            messages.append(
                Message(
                    id=message_id,
                    body=bytes(body),
                    headers=headers,
                    source=self.name,
                    received_at=received_at,
                    deliveries=earlier + 1,
                )
            )
        return messages

    def ack(self, messages: Sequence[Message]) -> None:
        """``basic.ack`` every delivery of these message ids on this connection."""
        channel = self._connected_channel()
        for message in messages:
            for tag in self._inflight.pop(message.id, []):
                channel.basic_ack(delivery_tag=tag)

    def dead_letter(self, message: Message, reason: str) -> None:
        """Publish to the dead-letter queue, wait for the broker's confirm, then ack the original."""
        pika = require("pika", "rabbitmq")
        properties = pika.BasicProperties(
            headers=dead_letter_headers(message, reason),
            delivery_mode=2,
            message_id=message.id,
        )
        self._connected_channel().basic_publish(
            exchange="",
            routing_key=self.dead_letter_queue,
            body=message.body,
            properties=properties,
            mandatory=True,
        )
        self.ack([message])

    def close(self) -> None:
        """Disconnect; the broker requeues every message this connection did not ack."""
        connection, self._connection, self._channel = self._connection, None, None
        self._buffer, self._inflight = [], {}
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # closing a broken connection must not raise
                return

    def _connected(self) -> Any:
        if self._connection is None:
            raise ConfigError(
                f"{self.name}: the source is not connected", hint="call connect() first"
            )
        if not self._connection.is_open:
            raise ConnectionError(f"{self.name}: the connection to RabbitMQ was closed; reconnect")
        return self._connection

    def _connected_channel(self) -> Any:
        self._connected()
        return self._channel
