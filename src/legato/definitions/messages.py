"""Message triggers: the messages a broker delivers, the sources users name, and ``OnMessage``.

Pure data, no I/O. The broker clients live in ``legato.integrations.brokers`` (found by a source's
``kind`` through ``legato.plugins``); the consumer that turns messages into run requests lives in
``legato.automation.consume``.

Delivery is **at least once**. A :class:`MessageSource` acks a message only after the caller says
the run request made from it is durable (the daemon commits the run requests and the message ids in
one transaction, then acks). A crash between commit and ack makes the broker deliver the message
again, with the same :attr:`Message.id`, and the idempotency key :func:`idempotency_key` turns the
second delivery into a no-op. A message that cannot become a run request is *dead-lettered*:
published to the broker's dead-letter destination with the reason, then acked.
"""

from __future__ import annotations

import hashlib
import json as _json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, fields
from typing import Any, ClassVar, Protocol, runtime_checkable

from legato import plugins
from legato._internal.ids import run_request_key
from legato._internal.json_schema import non_finite_number
from legato.errors import DefinitionError, where

MAX_MESSAGE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Message:
    """One message as a broker delivered it.

    Args:
        id: unique within its source and the same on every redelivery (stream entry id, JetStream
            stream sequence, Kafka partition:offset, AMQP message-id or a content hash).
        body: the payload, as bytes.
        headers: broker headers or properties, as text.
        source: the name of the source spec that delivered it (``"redis:orders#legato"``).
        received_at: wall-clock time (s) at which this process received it.
        deliveries: how many times the broker says it has delivered it, this time included.
    """

    id: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    received_at: float = field(default=0.0, compare=False)
    deliveries: int = field(default=1, compare=False)

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` (``json.JSONDecodeError``) if it is not."""
        return _json.loads(self.body)


def message_key_parts(message: Message) -> tuple[str, str, str]:
    """The parts of the idempotency key of a message's run: ``msg``, its source and its id."""
    return ("msg", message.source, message.id)


def idempotency_key(message: Message) -> str:
    """The run's idempotency key for a message: ``msg:<source>:<message id>``."""
    return run_request_key(*message_key_parts(message))


@runtime_checkable
class MessageSource(Protocol):
    """A connection to one broker destination, with a synchronous interface.

    ``fetch`` returns messages that stay unacknowledged until ``ack``; ``dead_letter`` publishes a
    copy with the reason to the broker's dead-letter destination and then acks the original. A
    message fetched and never acked is delivered again (after ``close``/reconnect, or when the
    broker's ack deadline passes), with the same id. Implementations are not thread-safe: one
    thread uses one source.
    """

    name: str

    def connect(self) -> None: ...
    def fetch(self, max_messages: int, timeout: float) -> list[Message]: ...
    def ack(self, messages: Sequence[Message]) -> None: ...
    def dead_letter(self, message: Message, reason: str) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class RunRequest:
    """What one message asks for: a run of the trigger's pipeline.

    Args:
        partition: the partition key to run ("" for unpartitioned pipelines).
        config: run configuration (JSON-serialisable).
        tags: tags added to the run.
        key: idempotency key; None means :func:`idempotency_key` of the message.
        dynamic_partitions: keys to add to dynamic partition sets first, e.g.
            ``{"tenant": ["acme"]}``.
    """

    partition: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    key: str | None = None
    dynamic_partitions: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.partition, str):
            _bad("RunRequest", "partition", self.partition, "pass the partition key as a string")
        if not isinstance(self.config, Mapping) or not all(isinstance(k, str) for k in self.config):
            _bad("RunRequest", "config", self.config, "pass a mapping with string keys")
        where_ = non_finite_number(dict(self.config), "config")
        if where_ is not None:  # a message's NaN: refused with the message, not with its batch
            _bad("RunRequest", "config", self.config, f"{where_} must be a finite number or null")
        if not isinstance(self.tags, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.tags.items()
        ):
            _bad("RunRequest", "tags", self.tags, "pass a mapping of strings to strings")
        if self.key is not None and (not isinstance(self.key, str) or not self.key):
            _bad("RunRequest", "key", self.key, "pass a non-empty string, or None")
        dynamic: dict[str, tuple[str, ...]] = {}
        for name, keys in dict(self.dynamic_partitions).items():
            if isinstance(keys, str | bytes) or not all(isinstance(k, str) for k in keys):
                hint = 'map each set name to a list of keys, e.g. {"tenant": ["acme"]}'
                _bad("RunRequest", "dynamic_partitions", self.dynamic_partitions, hint)
            dynamic[str(name)] = tuple(keys)
        object.__setattr__(self, "config", dict(self.config))
        object.__setattr__(self, "tags", dict(self.tags))
        object.__setattr__(self, "dynamic_partitions", dynamic)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for the daemon and the code server's answers."""
        return {
            "partition": self.partition,
            "config": dict(self.config),
            "tags": dict(self.tags),
            "key": self.key,
            "dynamic_partitions": {k: list(v) for k, v in self.dynamic_partitions.items()},
        }


def _bad(obj: str, name: str, value: object, hint: str) -> None:
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
            _bad(obj, name, shown, hint)


def _need_number(spec: object, name: str, low: float, *, integer: bool = False) -> None:
    value = getattr(spec, name)
    kinds = int if integer else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or value < low:
        what = "a whole number" if integer else "seconds"
        _bad(type(spec).__name__, name, value, f"pass {what} ≥ {low}")


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
        _need_number(self, "ack_wait", 0.001)

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
        _need_number(self, "claim_after", 0)

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
        _need_number(self, "prefetch", 1, integer=True)

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
            _bad("MqttSource", "topic", self.topic, "'#' may only be the last level")
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            _bad("MqttSource", "port", self.port, "pass a port number 1..65535")
        if self.qos != 1:
            _bad("MqttSource", "qos", self.qos, "use qos=1, the only level with ack-after")

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


@dataclass(frozen=True)
class OnMessage:
    """Start runs from messages: one run request per message.

    Args:
        source: where the messages come from (``NatsSource``, ``RedisStreamSource``, ...).
        to_run: turns a message into a :class:`RunRequest`, or None to skip it; when omitted, the
            message's JSON object body becomes the run config. An exception marks the message as
            poison: it is dead-lettered with the error and the consumer goes on.
        batch: at most this many messages per micro-batch (one store transaction).
        within: seconds to wait after the first message for the batch to fill.
        dead_letter_after: dead-letter a message the broker has delivered more than this often.
        max_bytes: dead-letter bodies larger than this.
        name: the trigger's name in messages and the UI; default ``to_run``'s name.

    Example:
        >>> OnMessage(RedisStreamSource("orders"), lambda m: RunRequest(partition=m.json()["day"]))
    """

    source: SourceSpec
    to_run: Callable[[Message], RunRequest | None] | None = None
    _: KW_ONLY
    batch: int = 1
    within: float = 0.0
    dead_letter_after: int = 3
    max_bytes: int = MAX_MESSAGE_BYTES
    name: str = ""

    def __post_init__(self) -> None:
        kind, name = getattr(self.source, "kind", None), getattr(self.source, "name", None)
        if not isinstance(kind, str) or not isinstance(name, str):
            kinds = ", ".join(t.__name__ for t in SOURCE_SPECS)
            _bad("OnMessage", "source", self.source, f"pass one of {kinds}, or a plugin's spec")
        if self.to_run is not None and not callable(self.to_run):
            _bad("OnMessage", "to_run", self.to_run, "pass a function Message -> RunRequest | None")
        for arg in ("batch", "dead_letter_after", "max_bytes"):
            _need_number(self, arg, 1, integer=True)
        _need_number(self, "within", 0)
        if not isinstance(self.name, str):
            _bad("OnMessage", "name", self.name, "pass a string")
        default = getattr(self.to_run, "__name__", "<lambda>")
        if default == "<lambda>":
            default = f"on_message({self.source.name})"
        object.__setattr__(self, "within", float(self.within))
        object.__setattr__(self, "name", self.name or default)
        kind = self.source.kind
        plugins.check(plugins.MESSAGE_SOURCES, kind, source=self.label, error=DefinitionError)

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary for snapshots and the UI (no secrets: sources carry no passwords
        beyond their URL, which is shown without credentials)."""
        return {
            "kind": "message",
            "name": self.name,
            "source": self.source.name,
            "batch": self.batch,
            "within": self.within,
            "dead_letter_after": self.dead_letter_after,
        }

    @property
    def label(self) -> str:
        """``OnMessage 'name' (file:line)``, for errors and dead-letter reasons."""
        place = where(self.to_run) if self.to_run is not None else None
        return f"OnMessage {self.name!r}" + (f" ({place})" if place else "")

    def run_request_for(self, message: Message) -> RunRequest | None:
        """The run request for a message; raises if the message is poison for this trigger."""
        if self.to_run is None:
            if not message.body.strip():
                return RunRequest()
            config = message.json()
            if not isinstance(config, dict):
                raise ValueError(
                    f"body is JSON {type(config).__name__}, not an object; send a JSON object "
                    "or give OnMessage a to_run function"
                )
            return RunRequest(config=config)
        request = self.to_run(message)
        if request is not None and not isinstance(request, RunRequest):
            raise TypeError(f"to_run returned {request!r}; return a RunRequest or None")
        return request
