"""Where messages come from: the spec of each broker destination (NATS JetStream, Redis
Streams, RabbitMQ, MQTT, Kafka), checked where it is written. Pure data: the broker clients that
read them live in ``legato.integrations.brokers``, found by a spec's ``kind``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import ClassVar, Protocol

from legato.errors import DefinitionError


def invalid(obj: str, name: str, value: object, hint: str) -> None:
    raise DefinitionError(f"{obj}({name}={value!r}) is invalid", obj=obj, hint=hint)


def _validate(spec: object, rules: Mapping[str, tuple[str, str]]) -> None:
    """Check fields against ``(regex, hint)``; an optional field (default None) may be None."""
    obj = type(spec).__name__
    defaults = {f.name: f.default for f in fields(spec)}  # type: ignore[arg-type]
    for name, (pattern, hint) in rules.items():
        value = getattr(spec, name)
        if value is None and defaults.get(name) is None:
            continue
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            shown = "<hidden>" if name == "url" and isinstance(value, str) else value  # secrets
            invalid(obj, name, shown, hint)


def need_number(spec: object, name: str, low: float, *, integer: bool = False) -> None:
    value = getattr(spec, name)
    kinds = int if integer else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or value < low:
        what = "a whole number" if integer else "seconds"
        invalid(type(spec).__name__, name, value, f"pass {what} ≥ {low}")


_TOKEN = (r"[A-Za-z0-9_-]+", "use letters, digits, '_' and '-'")  # JetStream names
_WORD = (r"\S+", "pass a name without spaces")
_SUBJECT = r"[^\s.]+(\.[^\s.]+)*"


@dataclass(frozen=True)
class NatsSource:
    """Messages of a NATS JetStream subject, read by a durable pull consumer.

    Args:
        subject: subject filter, wildcards allowed (``"orders.*"``).
        stream: the JetStream stream; None finds the stream that captures ``subject``. A named
            stream that does not exist is created for ``subject``.
        durable: durable consumer name, shared by every replica of the daemon.
        url: server URL.
        dead_letter_subject: where poison messages go; default ``legato.dead_letter.<stream>``.
            A stream ``<stream>_DEAD_LETTER`` is created for it when no stream captures it.
        ack_wait: seconds before JetStream redelivers a fetched but unacked message.
    """

    kind: ClassVar[str] = "nats"
    subject: str
    stream: str | None = None
    durable: str = "legato"
    url: str = "nats://127.0.0.1:4222"
    dead_letter_subject: str | None = None
    ack_wait: float = 30.0

    def __post_init__(self) -> None:
        _validate(self, {
            "subject": (_SUBJECT, "pass a subject such as 'orders.created' or 'orders.*'"),
            "stream": _TOKEN,
            "durable": _TOKEN,
            "url": (r"(nats|tls)://\S+", "pass a URL such as nats://127.0.0.1:4222"),
            "dead_letter_subject": (r"[^\s.*>]+(\.[^\s.*>]+)*", "pass a subject, no wildcards"),
        })  # fmt: skip
        need_number(self, "ack_wait", 0.001)

    @property
    def name(self) -> str:
        return f"nats:{self.subject}#{self.durable}"


@dataclass(frozen=True)
class RedisStreamSource:
    """Entries of a Redis stream, read through a consumer group.

    An entry's ``body`` field is the message body and its other fields are headers; an entry
    without a ``body`` field becomes a JSON object of all its fields.

    Args:
        stream: the stream key (created with the group if missing).
        group: consumer group, shared by every replica of the daemon.
        consumer: this consumer's name; None means ``<hostname>:<pid>``.
        url: server URL.
        dead_letter_stream: where poison messages go; default ``<stream>:dead_letter``.
        claim_after: seconds an entry may stay pending with a consumer before another claims it.
    """

    kind: ClassVar[str] = "redis"
    stream: str
    group: str = "legato"
    consumer: str | None = None
    url: str = "redis://127.0.0.1:6379"
    dead_letter_stream: str | None = None
    claim_after: float = 60.0

    def __post_init__(self) -> None:
        _validate(self, {
            "stream": _WORD, "group": _WORD, "consumer": _WORD, "dead_letter_stream": _WORD,
            "url": (r"(redis|rediss|unix)://\S+", "pass a URL such as redis://127.0.0.1:6379"),
        })  # fmt: skip
        need_number(self, "claim_after", 0)

    @property
    def name(self) -> str:
        return f"redis:{self.stream}#{self.group}"


@dataclass(frozen=True)
class RabbitMQSource:
    """Messages of a RabbitMQ queue (declared durable if missing), acked one by one.

    Args:
        queue: the queue name.
        url: AMQP URL.
        dead_letter_queue: where poison messages go; default ``<queue>.dead_letter``.
        prefetch: how many unacked messages the broker may push to this consumer at once.
    """

    kind: ClassVar[str] = "rabbitmq"
    queue: str
    url: str = "amqp://guest:guest@127.0.0.1:5672/"
    dead_letter_queue: str | None = None
    prefetch: int = 100

    def __post_init__(self) -> None:
        queue = (r"\S{1,255}", "pass a queue name without spaces")
        _validate(self, {
            "queue": queue, "dead_letter_queue": queue,
            "url": (r"amqps?://\S+", "pass a URL such as amqp://guest:guest@127.0.0.1:5672/"),
        })  # fmt: skip
        need_number(self, "prefetch", 1, integer=True)

    @property
    def name(self) -> str:
        return f"rabbitmq:{self.queue}"


@dataclass(frozen=True)
class MqttSource:
    """Messages of an MQTT topic filter, over MQTT 5 with a persistent session and QoS 1.

    Args:
        topic: topic filter (``"sensors/+/temperature"``); ``$share/<group>/<filter>`` shares
            the messages among replicas.
        host, port: the broker.
        qos: must be 1: QoS 0 cannot be redelivered and QoS 2 is acknowledged on receipt.
        client_id: the session's client id; None derives a stable one from the topic.
        dead_letter_topic: where poison messages go; default ``legato/dead_letter/<client id>``.
    """

    kind: ClassVar[str] = "mqtt"
    topic: str
    host: str = "127.0.0.1"
    port: int = 1883
    qos: int = 1
    client_id: str | None = None
    dead_letter_topic: str | None = None

    def __post_init__(self) -> None:
        level = r"(\+|#|[^/+#\s]*)"
        _validate(self, {
            "topic": (rf"{level}(/{level})*", "'+' and '#' must fill a level, '#' only the last"),
            "host": _WORD,
            "client_id": (r"\S{1,128}", "pass a client id without spaces"),
            "dead_letter_topic": (r"[^+#\s]+", "pass a topic without wildcards"),
        })  # fmt: skip
        if "#" in self.topic.split("/")[:-1] or not self.topic:
            invalid("MqttSource", "topic", self.topic, "'#' may only be the last level")
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            invalid("MqttSource", "port", self.port, "pass a port number 1..65535")
        if self.qos != 1:
            invalid("MqttSource", "qos", self.qos, "use qos=1, the only level with ack-after")

    @property
    def session_id(self) -> str:
        """The MQTT client id: the given one, or one derived from the topic."""
        digest = hashlib.sha256(self.topic.encode()).hexdigest()[:16]
        return self.client_id or f"legato-{digest}"

    @property
    def name(self) -> str:
        return f"mqtt:{self.topic}#{self.session_id}"


@dataclass(frozen=True)
class KafkaSource:
    """Records of a Kafka topic, read by a consumer group with manual offset commits.

    Args:
        topic: the topic.
        group: the consumer group id, shared by every replica of the daemon.
        bootstrap: bootstrap servers (``"host:9092,host2:9092"``).
        dead_letter_topic: where poison records go; default ``<topic>.dead_letter``.
    """

    kind: ClassVar[str] = "kafka"
    topic: str
    group: str = "legato"
    bootstrap: str = "127.0.0.1:9092"
    dead_letter_topic: str | None = None

    def __post_init__(self) -> None:
        topic = (r"[A-Za-z0-9._-]{1,249}", "use letters, digits, '.', '_' and '-'")
        _validate(self, {
            "topic": topic, "dead_letter_topic": topic, "group": _WORD,
            "bootstrap": (r"\S+:\d+(,\S+:\d+)*", "pass host:port[,host:port...]"),
        })  # fmt: skip

    @property
    def name(self) -> str:
        return f"kafka:{self.topic}#{self.group}"


SOURCE_SPECS = (NatsSource, RedisStreamSource, RabbitMQSource, MqttSource, KafkaSource)


class SourceSpec(Protocol):
    """Where messages come from: one of ``SOURCE_SPECS``, or a plugin's spec. ``kind`` names the
    message source installed under the entry-point group ``legato.message_sources`` that reads
    it; ``name`` identifies it in messages, the UI and the idempotency keys of its runs."""

    @property
    def kind(self) -> str: ...

    @property
    def name(self) -> str: ...
