"""Kafka (confluent-kafka): a consumer group with manual commits behind :class:`MessageSource`.

Message ids are ``<topic>:<partition>:<offset>``. Kafka acknowledges by committing an offset, which
covers every earlier record of the partition, so acks go through :class:`OffsetTracker`: the
committed offset only moves past records that were recorded or dead-lettered, never past one
still in flight. A failed batch is redelivered after ``close``/``connect`` (the consumer restarts
at the committed offsets). Kafka keeps no delivery count, so ``dead_letter_after`` never fires.
Dead letters are produced (``acks=all``, idempotent producer) to ``<topic>.dead_letter`` with the
reason in the ``legato-dead-letter-reason`` header, and flushed before the offset moves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from legato._internal.optional import require
from legato.definitions.messages import KafkaSource, Message
from legato.errors import ConfigError
from legato.integrations.brokers._common import as_text, dead_letter_headers

Partition = tuple[str, int]


class OffsetTracker:
    """Per partition, the offsets in flight; the commit point is the first one not yet done."""

    def __init__(self) -> None:
        self._open: dict[Partition, dict[int, bool]] = {}
        self._committed: dict[Partition, int] = {}

    def fetched(self, partition: Partition, offset: int) -> None:
        self._open.setdefault(partition, {})[offset] = False

    def done(self, partition: Partition, offset: int) -> None:
        if offset in self._open.get(partition, {}):
            self._open[partition][offset] = True

    def forget(self, partitions: Sequence[Partition]) -> None:
        """Drop partitions this consumer no longer owns (after a rebalance)."""
        for partition in partitions:
            self._open.pop(partition, None)
            self._committed.pop(partition, None)

    def to_commit(self) -> dict[Partition, int]:
        """Offsets to commit now (the next offset to read), for partitions whose point moved."""
        moves = {}
        for partition, offsets in self._open.items():
            point = None
            for offset in sorted(offsets):
                if not offsets[offset]:
                    break
                point = offset + 1
                del offsets[offset]
            if point is not None and point > self._committed.get(partition, -1):
                self._committed[partition] = point
                moves[partition] = point
        return moves


class KafkaMessageSource:
    """Reads a :class:`~legato.definitions.messages.KafkaSource`; see the module docstring."""

    def __init__(self, spec: KafkaSource, *, now: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.name = spec.name
        self.dead_letter_topic = spec.dead_letter_topic or f"{spec.topic}.dead_letter"
        self._now = now
        self._consumer: Any = None
        self._producer: Any = None
        self._tracker = OffsetTracker()

    def connect(self) -> None:
        """Create the consumer (auto-commit off, earliest offset) and the dead-letter producer."""
        if self._consumer is not None:
            return
        kafka = require("confluent_kafka", "kafka")
        self._tracker = OffsetTracker()
        self._consumer = kafka.Consumer(
            {
                "bootstrap.servers": self.spec.bootstrap,
                "group.id": self.spec.group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        self._producer = kafka.Producer(
            {"bootstrap.servers": self.spec.bootstrap, "acks": "all", "enable.idempotence": True}
        )
        self._consumer.subscribe([self.spec.topic], on_revoke=self._on_revoke)

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        self._tracker.forget([(p.topic, p.partition) for p in partitions])

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        """Up to ``max_messages`` records; waits up to ``timeout`` s for the first one."""
        kafka = require("confluent_kafka", "kafka")
        records = self._connected().consume(num_messages=max_messages, timeout=timeout)
        received_at = self._now()
        messages = []
        for record in records:
            error = record.error()
            if error is not None:
                if error.code() == kafka.KafkaError._PARTITION_EOF:
                    continue
                raise kafka.KafkaException(error)
            topic, partition, offset = record.topic(), record.partition(), record.offset()
            self._tracker.fetched((topic, partition), offset)
            messages.append(
                Message(
                    id=f"{topic}:{partition}:{offset}",
                    body=bytes(record.value() or b""),
                    headers={k: as_text(v) for k, v in record.headers() or []},
                    source=self.name,
                    received_at=received_at,
                )
            )
        return messages

    def ack(self, messages: Sequence[Message]) -> None:
        """Mark done and commit, synchronously, as far as nothing earlier is still in flight."""
        for message in messages:
            topic, partition, offset = message.id.rsplit(":", 2)
            self._tracker.done((topic, int(partition)), int(offset))
        self._commit()

    def dead_letter(self, message: Message, reason: str) -> None:
        """Produce to the dead-letter topic, wait for the broker, then ack the record."""
        producer = self._producer
        if producer is None:
            raise ConfigError(f"{self.name}: the source is not connected", hint="call connect()")
        failures: list[str] = []

        def delivered(error: Any, _record: Any) -> None:
            if error is not None:
                failures.append(str(error))

        producer.produce(
            self.dead_letter_topic,
            value=message.body,
            headers=list(dead_letter_headers(message, reason).items()),
            on_delivery=delivered,
        )
        if producer.flush(30) or failures:
            raise ConnectionError(
                f"{self.name}: dead letter of {message.id!r} was not stored: {failures or 'timeout'}"
            )
        self.ack([message])

    def _commit(self) -> None:
        kafka = require("confluent_kafka", "kafka")
        moves = self._tracker.to_commit()
        if moves:
            offsets = [kafka.TopicPartition(t, p, o) for (t, p), o in moves.items()]
            self._connected().commit(offsets=offsets, asynchronous=False)

    def close(self) -> None:
        """Leave the group without committing; uncommitted records go to the next consumer."""
        consumer, self._consumer = self._consumer, None
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.flush(5)
        if consumer is not None:
            consumer.close()

    def _connected(self) -> Any:
        if self._consumer is None:
            raise ConfigError(f"{self.name}: the source is not connected", hint="call connect()")
        return self._consumer
