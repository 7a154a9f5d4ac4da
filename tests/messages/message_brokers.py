"""Test helpers: one small harness per real broker (publish, read dead letters, clean up), and polling.

Each harness makes fresh, uniquely named destinations so tests never see each other's messages,
and removes them (and any persistent session) in ``cleanup``.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from legato.automation.consume import consume_batch
from legato.definitions.messages import (
    Message,
    MessageSource,
    MqttSource,
    NatsSource,
    OnMessage,
    RabbitMQSource,
    RedisStreamSource,
    RunRequest,
    SourceSpec,
)
from legato.integrations.brokers._loop import LoopThread
from polling import wait_for as until

DeadLetter = tuple[bytes, dict[str, str]]


def consume_until(
    source: MessageSource, trigger: OnMessage, count: int, timeout: float = 10.0
) -> list[tuple[Message, RunRequest]]:
    """Run ``consume_batch`` until ``count`` pairs were recorded (fails after ``timeout``)."""
    recorded: list[tuple[Message, RunRequest]] = []
    deadline = time.monotonic() + timeout
    while len(recorded) < count:
        assert time.monotonic() < deadline, f"recorded {len(recorded)} of {count} in {timeout}s"
        consume_batch(source, trigger, recorded.extend, wait=0.2)
    return recorded


class Broker(Protocol):
    kind: str

    def spec(self, **options: Any) -> SourceSpec: ...
    def publish(self, bodies: Sequence[bytes]) -> None: ...
    def dead_letters(self, count: int, timeout: float = 10.0) -> list[DeadLetter]: ...
    def cleanup(self) -> None: ...


def _tag() -> str:
    return secrets.token_hex(4)


class RedisBroker:
    kind = "redis"

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.stream = f"legato-test:{_tag()}"
        self.redis = redis.Redis.from_url(url)

    def spec(self, **options: Any) -> RedisStreamSource:
        return RedisStreamSource(self.stream, url=self.url, **options)

    def publish(self, bodies: Sequence[bytes]) -> None:
        for body in bodies:
            self.redis.xadd(self.stream, {"body": body})

    def dead_letters(self, count: int, timeout: float = 10.0) -> list[DeadLetter]:
        def read() -> list[DeadLetter]:
            entries = self.redis.xrange(f"{self.stream}:dead_letter")
            return [
                (
                    fields[b"body"],
                    {k.decode(): v.decode() for k, v in fields.items() if k != b"body"},
                )
                for _, fields in entries
            ]

        until(lambda: len(read()) >= count, timeout, f"{count} dead letters")
        return read()

    def cleanup(self) -> None:
        self.redis.delete(self.stream, f"{self.stream}:dead_letter")
        self.redis.close()


class NatsBroker:
    kind = "nats"

    def __init__(self, url: str) -> None:
        import nats

        tag = _tag()
        self.url = url
        self.stream = f"LEGATO_TEST_{tag}"
        self.subject = f"legato.test.{tag}"
        self.loop = LoopThread("test-nats")
        self.nc = self.loop.run(nats.connect(url), 10)
        self.js = self.nc.jetstream()
        self.loop.run(self.js.add_stream(name=self.stream, subjects=[self.subject]), 10)

    def spec(self, **options: Any) -> NatsSource:
        return NatsSource(self.subject, stream=self.stream, url=self.url, **options)

    def publish(self, bodies: Sequence[bytes]) -> None:
        async def publish_all() -> None:
            for body in bodies:
                await self.js.publish(self.subject, body)

        self.loop.run(publish_all(), 10)

    def dead_letters(self, count: int, timeout: float = 10.0) -> list[DeadLetter]:
        stream = f"{self.stream}_DEAD_LETTER"

        async def stored() -> int:
            try:
                return int((await self.js.stream_info(stream)).state.messages)
            except Exception:
                return 0

        async def read() -> list[DeadLetter]:
            found = []
            for seq in range(1, count + 1):
                raw = await self.js.get_msg(stream, seq)
                found.append((raw.data, dict(raw.headers or {})))
            return found

        until(lambda: self.loop.run(stored(), 5) >= count, timeout, f"{count} dead letters")
        return self.loop.run(read(), 10)

    def cleanup(self) -> None:
        async def drop() -> None:
            for stream in (self.stream, f"{self.stream}_DEAD_LETTER"):
                with contextlib.suppress(Exception):  # already gone
                    await self.js.delete_stream(stream)
            await self.nc.close()

        self.loop.run(drop(), 10)
        self.loop.stop()


class RabbitMQBroker:
    kind = "rabbitmq"

    def __init__(self, url: str) -> None:
        import pika

        self.pika = pika
        self.url = url
        self.queue = f"legato.test.{_tag()}"
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self.channel.queue_declare(self.queue, durable=True)

    def spec(self, **options: Any) -> RabbitMQSource:
        return RabbitMQSource(self.queue, url=self.url, **options)

    def publish(self, bodies: Sequence[bytes]) -> None:
        persistent = self.pika.BasicProperties(delivery_mode=2)
        for body in bodies:
            self.channel.basic_publish("", self.queue, body, properties=persistent)

    def dead_letters(self, count: int, timeout: float = 10.0) -> list[DeadLetter]:
        found: list[DeadLetter] = []

        def read() -> bool:
            method, properties, body = self.channel.basic_get(
                f"{self.queue}.dead_letter", auto_ack=True
            )
            if method is not None:
                headers = {k: str(v) for k, v in (properties.headers or {}).items()}
                found.append((body, headers))
            return len(found) >= count

        until(read, timeout, f"{count} dead letters")
        return found

    def cleanup(self) -> None:
        for queue in (self.queue, f"{self.queue}.dead_letter"):
            self.channel.queue_delete(queue)
        self.connection.close()


class MqttBroker:
    kind = "mqtt"

    def __init__(self, host: str, port: int) -> None:
        import paho.mqtt.client as mqtt

        tag = _tag()
        self.mqtt = mqtt
        self.host, self.port = host, port
        self.topic = f"legato/test/{tag}"
        self.client_id = f"legato-test-{tag}"
        self.received: list[DeadLetter] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        subscribed = threading.Event()
        self.client.on_message = self._on_dead_letter
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(f"legato/dead_letter/{self.client_id}", qos=1)
        assert subscribed.wait(10), "the MQTT broker did not confirm the subscription"

    def _on_dead_letter(self, _client: Any, _userdata: Any, message: Any) -> None:
        user = getattr(message.properties, "UserProperty", None) or []
        self.received.append((bytes(message.payload), dict(user)))

    def spec(self, **options: Any) -> MqttSource:
        options.setdefault("client_id", self.client_id)
        return MqttSource(self.topic, host=self.host, port=self.port, **options)

    def publish(self, bodies: Sequence[bytes]) -> None:
        for body in bodies:
            self.client.publish(self.topic, body, qos=1).wait_for_publish(10)

    def dead_letters(self, count: int, timeout: float = 10.0) -> list[DeadLetter]:
        until(lambda: len(self.received) >= count, timeout, f"{count} dead letters")
        return list(self.received)

    def cleanup(self) -> None:
        """End the consumer's persistent session so the broker forgets it."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        self.client.disconnect()
        self.client.loop_stop()
        ender = self.mqtt.Client(
            self.mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=self.mqtt.MQTTv5,
        )
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 0
        ender.connect(self.host, self.port, clean_start=True, properties=properties)
        ender.loop_start()
        until(ender.is_connected, 10, "the session-ending connection")
        ender.disconnect()
        ender.loop_stop()
