"""Message triggers: the messages a broker delivers, the run requests made from them, and
``OnMessage``. The source specs users name are in ``message_sources`` (re-exported here).

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

import json as _json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Protocol, runtime_checkable

from legato import plugins
from legato._internal.ids import run_request_key
from legato._internal.json_schema import non_finite_number
from legato.definitions.message_sources import (
    SOURCE_SPECS,
    KafkaSource,
    MqttSource,
    NatsSource,
    RabbitMQSource,
    RedisStreamSource,
    SourceSpec,
    invalid,
    need_number,
)
from legato.definitions.trigger_specs import MessageSpec, describe
from legato.errors import DefinitionError, where

__all__ = [
    "MAX_MESSAGE_BYTES",
    "SOURCE_SPECS",
    "KafkaSource",
    "Message",
    "MessageSource",
    "MqttSource",
    "NatsSource",
    "OnMessage",
    "RabbitMQSource",
    "RedisStreamSource",
    "RunRequest",
    "SourceSpec",
    "idempotency_key",
    "message_key_parts",
]

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
            invalid("RunRequest", "partition", self.partition, "pass the partition key as a string")
        if not isinstance(self.config, Mapping) or not all(isinstance(k, str) for k in self.config):
            invalid("RunRequest", "config", self.config, "pass a mapping with string keys")
        where_ = non_finite_number(dict(self.config), "config")
        if where_ is not None:  # a message's NaN: refused with the message, not with its batch
            invalid(
                "RunRequest", "config", self.config, f"{where_} must be a finite number or null"
            )
        if not isinstance(self.tags, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.tags.items()
        ):
            invalid("RunRequest", "tags", self.tags, "pass a mapping of strings to strings")
        if self.key is not None and (not isinstance(self.key, str) or not self.key):
            invalid("RunRequest", "key", self.key, "pass a non-empty string, or None")
        dynamic: dict[str, tuple[str, ...]] = {}
        for name, keys in dict(self.dynamic_partitions).items():
            if isinstance(keys, str | bytes) or not all(isinstance(k, str) for k in keys):
                hint = 'map each set name to a list of keys, e.g. {"tenant": ["acme"]}'
                invalid("RunRequest", "dynamic_partitions", self.dynamic_partitions, hint)
            dynamic[str(name)] = tuple(keys)
        object.__setattr__(self, "config", dict(self.config))
        object.__setattr__(self, "tags", dict(self.tags))
        object.__setattr__(self, "dynamic_partitions", dynamic)


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
            invalid("OnMessage", "source", self.source, f"pass one of {kinds}, or a plugin's spec")
        if self.to_run is not None and not callable(self.to_run):
            invalid(
                "OnMessage", "to_run", self.to_run, "pass a function Message -> RunRequest | None"
            )
        for arg in ("batch", "dead_letter_after", "max_bytes"):
            need_number(self, arg, 1, integer=True)
        need_number(self, "within", 0)
        if not isinstance(self.name, str):
            invalid("OnMessage", "name", self.name, "pass a string")
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
        spec = MessageSpec(
            self.name, self.source.name, self.batch, self.within, self.dead_letter_after
        )
        return describe(spec)

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
