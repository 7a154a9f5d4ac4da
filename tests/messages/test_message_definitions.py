"""The pure side of message triggers: specs, run requests and OnMessage reject bad input clearly."""

from __future__ import annotations

import pytest

from legato.definitions.messages import (
    KafkaSource,
    Message,
    MessageSource,
    MqttSource,
    NatsSource,
    OnMessage,
    RabbitMQSource,
    RedisStreamSource,
    RunRequest,
    idempotency_key,
)
from legato.errors import DefinitionError
from legato.integrations.brokers import open_source
from legato.integrations.brokers._common import content_id, dead_letter_headers, header_text
from legato.integrations.brokers.kafka import OffsetTracker


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: NatsSource("orders created"), "NatsSource(subject='orders created')"),
        (lambda: NatsSource("orders", stream="a.b"), "letters, digits"),
        (lambda: NatsSource("orders", url="http://x"), "nats://127.0.0.1:4222"),
        (lambda: NatsSource("o", dead_letter_subject="dl.*"), "no wildcards"),
        (lambda: RedisStreamSource("orders", claim_after=-1), "claim_after=-1"),
        (lambda: RedisStreamSource("", group="g"), "stream=''"),
        (lambda: RabbitMQSource("q", url="http://user:secret@x"), "url='<hidden>'"),
        (lambda: RabbitMQSource("q", prefetch=0), "prefetch=0"),
        (lambda: MqttSource("a/#/b"), "'#' may only be the last level"),
        (lambda: MqttSource("a/b+"), "must fill a level"),
        (lambda: MqttSource("a", qos=0), "use qos=1"),
        (lambda: MqttSource("a", port=70000), "port number"),
        (lambda: KafkaSource("t", bootstrap="nohost"), "host:port"),
        (lambda: OnMessage("orders"), "pass one of NatsSource"),  # type: ignore[arg-type]
        (lambda: OnMessage(RedisStreamSource("s"), batch=0), "OnMessage(batch=0)"),
        (lambda: OnMessage(RedisStreamSource("s"), within=-1), "within=-1"),
        (lambda: OnMessage(RedisStreamSource("s"), to_run=3), "to_run=3"),  # type: ignore[arg-type]
        (lambda: RunRequest(tags={"a": 1}), "mapping of strings"),  # type: ignore[dict-item]
        (lambda: RunRequest(dynamic_partitions={"tenant": "acme"}), '{"tenant": ["acme"]}'),
        (lambda: RunRequest(key=""), "non-empty string"),
    ],
)
def test_bad_arguments_name_the_object_and_the_fix(make: object, says: str) -> None:
    with pytest.raises(DefinitionError) as error:
        make()  # type: ignore[operator]
    assert says in str(error.value)
    assert "secret" not in str(error.value)


def test_source_names_include_the_consumer_identity() -> None:
    assert NatsSource("orders.*", durable="d").name == "nats:orders.*#d"
    assert RedisStreamSource("orders").name == "redis:orders#legato"
    assert RabbitMQSource("orders").name == "rabbitmq:orders"
    assert KafkaSource("orders", "g").name == "kafka:orders#g"
    assert MqttSource("a/+", client_id="c").name == "mqtt:a/+#c"
    assert MqttSource("a/+").session_id == MqttSource("a/+").session_id


def test_on_message_names_itself_after_to_run_and_points_at_it() -> None:
    def orders(message: Message) -> RunRequest:
        return RunRequest()

    trigger = OnMessage(RedisStreamSource("s"), orders)
    assert trigger.name == "orders"
    assert trigger.label.startswith("OnMessage 'orders' (") and "test_message_definitions.py:" in (
        trigger.label
    )
    assert OnMessage(RedisStreamSource("s")).name == "on_message(redis:s#legato)"
    assert OnMessage(RedisStreamSource("s"), name="x").name == "x"


def test_without_to_run_a_json_object_body_becomes_the_config() -> None:
    trigger = OnMessage(RedisStreamSource("s"))
    assert trigger.run_request_for(Message("1", b'{"a": 1}')) == RunRequest(config={"a": 1})
    assert trigger.run_request_for(Message("1", b"  ")) == RunRequest()
    with pytest.raises(ValueError, match="not an object"):
        trigger.run_request_for(Message("1", b"[1]"))
    with pytest.raises(ValueError):
        trigger.run_request_for(Message("1", b"{"))
    # JSON has no NaN: such a body is refused with its message (dead-lettered), not its batch
    with pytest.raises(ValueError, match=r"config.rows\[1\] must be a finite number or null"):
        trigger.run_request_for(Message("1", b'{"rows": [1, NaN]}'))


def test_to_run_must_return_a_run_request_or_none() -> None:
    trigger = OnMessage(RedisStreamSource("s"), lambda m: {"partition": "x"})  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="return a RunRequest or None"):
        trigger.run_request_for(Message("1", b""))
    assert (
        OnMessage(RedisStreamSource("s"), lambda m: None).run_request_for(Message("1", b"")) is None
    )


def test_run_request_copies_its_mappings() -> None:
    config = {"a": 1}
    request = RunRequest(config=config, dynamic_partitions={"tenant": ["acme"]})
    config["a"] = 2
    assert request.config == {"a": 1}
    assert request.dynamic_partitions == {"tenant": ("acme",)}


def test_message_ids_make_the_idempotency_key_and_equality() -> None:
    a = Message("5-0", b"{}", source="redis:s#g", received_at=1.0, deliveries=1)
    b = Message("5-0", b"{}", source="redis:s#g", received_at=2.0, deliveries=3)
    assert a == b and idempotency_key(a) == "msg:redis:s#g:5-0"
    assert a.json() == {}


def test_dead_letter_headers_are_single_printable_lines() -> None:
    message = Message("id-1", b"", {"trace": "t"}, source="s")
    headers = dead_letter_headers(message, "line one\nline two: é " + "x" * 2000)
    reason = headers["legato-dead-letter-reason"]
    assert "\n" not in reason and reason.isascii() and len(reason) == 1000
    assert reason.startswith("line one line two: \\xe9")
    assert headers["trace"] == "t" and headers["legato-message-id"] == "id-1"
    assert header_text("a\tb") == "a b"


def test_content_ids_are_stable_and_tell_places_apart() -> None:
    assert content_id("q", b"x", {"h": "1"}) == content_id("q", b"x", {"h": "1"})
    assert content_id("q", b"x", {}) != content_id("r", b"x", {})
    assert content_id("q", b"x", {}) != content_id("q", b"y", {})


def test_open_source_refuses_what_is_not_a_source_spec() -> None:
    with pytest.raises(DefinitionError, match="pass one of NatsSource"):
        open_source("redis://localhost")  # type: ignore[arg-type]
    source = open_source(RedisStreamSource("s"))
    assert isinstance(source, MessageSource) and source.name == "redis:s#legato"


def test_kafka_offsets_commit_only_past_records_that_are_done() -> None:
    tracker = OffsetTracker()
    for offset in (10, 11, 12):
        tracker.fetched(("t", 0), offset)
    tracker.fetched(("t", 1), 5)
    tracker.done(("t", 0), 11)  # 10 still in flight: nothing may be committed on partition 0
    tracker.done(("t", 1), 5)
    assert tracker.to_commit() == {("t", 1): 6}
    tracker.done(("t", 0), 10)
    assert tracker.to_commit() == {("t", 0): 12}
    assert tracker.to_commit() == {}
    tracker.forget([("t", 0)])
    tracker.done(("t", 0), 12)
    assert tracker.to_commit() == {}
