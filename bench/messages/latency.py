"""Message trigger latency: publish → ``record`` called, per broker, through ``ConsumerLoop``.

Measures only the broker side of an event-triggered run: the time from just before the publish
call to the moment the consumer hands the message's run request to ``record`` (which here only
notes the time). Storing the run is the daemon's part and is not included. Targets: p50 ≤ 50 ms,
p99 ≤ 250 ms.

    .venv/bin/python bench/messages/latency.py                  # every broker, 300 messages each
    .venv/bin/python bench/messages/latency.py --brokers redis,nats --messages 1000 --gap 0.005
    .venv/bin/python bench/messages/latency.py --batch 50 --within 0.02 --json out.json

Messages are published one at a time, ``--gap`` seconds apart (latency, not throughput), after a
warm-up of 20 messages that are not counted. Needs the brokers of the test suite
(Redis 6379, RabbitMQ 5672, Mosquitto 1883, NATS with JetStream 4222 on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import secrets
import socket
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from legato.automation.consume import ConsumerLoop
from legato.definitions.messages import (
    Message,
    MqttSource,
    NatsSource,
    OnMessage,
    RabbitMQSource,
    RedisStreamSource,
    RunRequest,
    SourceSpec,
)
from legato.integrations.brokers import open_source
from legato.integrations.brokers._loop import LoopThread

WARM_UP = 20
Publisher = tuple[SourceSpec, Callable[[bytes], None], Callable[[], None]]


def redis_publisher(tag: str) -> Publisher:
    import redis

    client = redis.Redis()
    spec = RedisStreamSource(f"legato-bench:{tag}")

    def cleanup() -> None:
        client.delete(spec.stream, f"{spec.stream}:dead_letter")

    return spec, lambda body: client.xadd(spec.stream, {"body": body}), cleanup


def nats_publisher(tag: str) -> Publisher:
    import nats

    loop = LoopThread("bench-nats")
    nc = loop.run(nats.connect(), 10)
    js = nc.jetstream()
    spec = NatsSource(f"legato.bench.{tag}", stream=f"LEGATO_BENCH_{tag}")

    def cleanup() -> None:
        async def drop() -> None:
            for stream in (spec.stream, f"{spec.stream}_DEAD_LETTER"):
                await js.delete_stream(stream)
            await nc.close()

        loop.run(drop(), 10)
        loop.stop()

    return spec, lambda body: loop.run(js.publish(spec.subject, body), 10), cleanup


def rabbitmq_publisher(tag: str) -> Publisher:
    import pika

    spec = RabbitMQSource(f"legato.bench.{tag}")
    connection = pika.BlockingConnection(pika.URLParameters(spec.url))
    channel = connection.channel()
    channel.queue_declare(spec.queue, durable=True)

    def cleanup() -> None:
        channel.queue_delete(spec.queue)
        channel.queue_delete(f"{spec.queue}.dead_letter")
        connection.close()

    return spec, lambda body: channel.basic_publish("", spec.queue, body), cleanup


def mqtt_publisher(tag: str) -> Publisher:
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    spec = MqttSource(f"legato/bench/{tag}", client_id=f"legato-bench-{tag}")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(spec.host, spec.port)
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # paho leaves Nagle on
    client.loop_start()

    def cleanup() -> None:
        client.disconnect()
        client.loop_stop()
        ender = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=spec.session_id, protocol=mqtt.MQTTv5
        )
        expire_now = Properties(PacketTypes.CONNECT)
        expire_now.SessionExpiryInterval = 0
        ender.connect(spec.host, spec.port, clean_start=True, properties=expire_now)
        ender.loop_start()
        time.sleep(0.2)
        ender.disconnect()
        ender.loop_stop()

    return spec, lambda body: client.publish(spec.topic, body, qos=1), cleanup


PUBLISHERS: dict[str, Callable[[str], Publisher]] = {
    "nats": nats_publisher,
    "redis": redis_publisher,
    "rabbitmq": rabbitmq_publisher,
    "mqtt": mqtt_publisher,
}


def measure(broker: str, messages: int, gap: float, batch: int, within: float) -> dict[str, Any]:
    spec, publish, cleanup = PUBLISHERS[broker](secrets.token_hex(4))
    latencies: list[float] = []
    done = threading.Event()

    def record(pairs: list[tuple[Message, RunRequest]]) -> None:
        arrived = time.perf_counter()
        for message, _ in pairs:
            sent = json.loads(message.body)
            if sent["i"] >= WARM_UP:
                latencies.append(arrived - sent["t"])
        if len(latencies) >= messages:
            done.set()

    source = open_source(spec)
    source.connect()  # MQTT keeps messages only for a session that exists
    loop = ConsumerLoop(source, OnMessage(spec, batch=batch, within=within), record)
    loop.start()
    try:
        for i in range(WARM_UP + messages):
            publish(json.dumps({"i": i, "t": time.perf_counter()}).encode())
            time.sleep(gap)
        if not done.wait(30):
            raise SystemExit(f"{broker}: only {len(latencies)} of {messages} arrived in 30 s")
    finally:
        loop.stop()
        cleanup()
    ms = sorted(x * 1000 for x in latencies)
    return {
        "broker": broker,
        "messages": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "max_ms": round(ms[-1], 2),
        "batches": loop.stats.batches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", default=",".join(PUBLISHERS))
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--gap", type=float, default=0.01, help="seconds between publishes")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--within", type=float, default=0.0)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = [
        measure(b, args.messages, args.gap, args.batch, args.within)
        for b in args.brokers.split(",")
    ]
    print(f"{'broker':<10}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'batches':>9}")
    for r in results:
        print(
            f"{r['broker']:<10}{r['messages']:>6}{r['p50_ms']:>10}{r['p99_ms']:>10}"
            f"{r['max_ms']:>10}{r['batches']:>9}"
        )
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"batch": args.batch, "within": args.within, "results": results}, out)


if __name__ == "__main__":
    main()
