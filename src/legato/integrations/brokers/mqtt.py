"""MQTT 5 (paho-mqtt ≥ 2): a persistent-session subscriber behind the :class:`MessageSource` interface.

What the protocol allows, and no more: QoS 1 with manual PUBACKs. The session is persistent (fixed
client id, ``clean_start=False``, one day of session expiry), so the broker keeps messages that
arrive while the daemon is away and resends the ones this session did not acknowledge when it
reconnects. Limits that follow from MQTT itself:

* the broker resends unacknowledged messages only on reconnect (``close`` then ``connect``), never
  on a timer, and holds at most its queue limit for an offline session (Mosquitto:
  ``max_queued_messages``, 1000 by default), dropping the rest;
* there is no message id: the id is the ``message-id`` user property when the publisher set one,
  otherwise a hash of topic, user properties and payload, so identical payloads on one topic count
  as one message;
* there is no delivery count, only the DUP flag (counted as 2 deliveries);
* there is no dead-letter queue: dead letters are published (QoS 1, reason in the
  ``legato-dead-letter-reason`` user property) to ``dead_letter_topic`` and reach whoever
  subscribes to it, so keep a persistent subscriber there;
* a session id serves one connection at a time: replicas share work through a shared
  subscription (``$share/<group>/<filter>``) with one client id each;
* PUBACKs get no answer, and Mosquitto drops what it has not read of a client that disconnects;
  so ``close`` first publishes an empty QoS 1 message to ``legato/ack_barrier/<client id>`` and
  waits for the broker's answer, which proves it has read the acks sent before (the client needs
  permission to publish there). A crash can still lose the last acks: those messages come again
  and their ids deduplicate them.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from legato._internal.optional import require
from legato.definitions.messages import Message, MqttSource
from legato.errors import ConfigError
from legato.integrations.brokers._common import content_id, dead_letter_headers

log = logging.getLogger(__name__)

_SESSION_EXPIRY = 86_400  # seconds the broker keeps the session (and its messages) while away
_TIMEOUT = 10.0


class MqttMessageSource:
    """Reads an :class:`~legato.definitions.messages.MqttSource`; see the module docstring."""

    def __init__(self, spec: MqttSource, *, now: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.name = spec.name
        self.dead_letter_topic = spec.dead_letter_topic or f"legato/dead_letter/{spec.session_id}"
        self._now = now
        self._client: Any = None
        self._queue: queue.Queue[tuple[int, Any]] = queue.Queue()
        self._generation = 0  # one per connection: packet ids mean nothing across connections
        self._subscribed = threading.Event()
        self._disconnected = threading.Event()
        self._problem: str | None = None
        self._inflight: dict[str, list[tuple[int, int]]] = {}
        self._unconfirmed = False  # PUBACKs sent that the broker may not have read yet

    def connect(self) -> None:
        """Connect with the persistent session, subscribe at QoS 1 and wait for the broker's yes."""
        if self._client is not None:
            return
        mqtt = require("paho.mqtt.client", "mqtt")
        properties = require("paho.mqtt.properties", "mqtt")
        packettypes = require("paho.mqtt.packettypes", "mqtt")
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.spec.session_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = lambda *_: self._disconnected.set()
        connect_properties = properties.Properties(packettypes.PacketTypes.CONNECT)
        connect_properties.SessionExpiryInterval = _SESSION_EXPIRY
        self._subscribed.clear()
        self._disconnected.clear()
        self._problem = None
        self._client = client
        try:
            client.connect(
                self.spec.host,
                self.spec.port,
                keepalive=30,
                clean_start=False,
                properties=connect_properties,
            )
            client.loop_start()
            if not self._subscribed.wait(_TIMEOUT) or self._problem:
                raise ConnectionError(
                    f"{self.name}: {self._problem or 'no answer from the broker in time'}"
                )
        except BaseException:
            self.close()
            raise

    def _on_connect(self, client: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self._problem = f"the broker refused the connection: {reason}"
            self._subscribed.set()
            return
        self._generation += 1
        sock = client.socket()
        if sock is not None:  # small packets (PUBACKs, the ack barrier) must not wait for Nagle
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        options = require("paho.mqtt.subscribeoptions", "mqtt").SubscribeOptions
        # retainHandling=1: a retained message is delivered once, when the subscription is new
        client.subscribe(self.spec.topic, options=options(qos=1, retainHandling=1))

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reasons: list[Any], _p: Any) -> None:
        code = reasons[0] if reasons else None
        if code is None or code.is_failure or code.value < 1:
            self._problem = (
                f"subscribing to {self.spec.topic!r} at QoS 1 was refused ({code}); "
                "check the broker's ACL and its maximum QoS"
            )
        self._subscribed.set()

    def _on_message(self, _client: Any, _userdata: Any, native: Any) -> None:
        self._queue.put((self._generation, native))

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        """Up to ``max_messages`` messages; waits up to ``timeout`` s for the first one."""
        self._connected()
        natives: list[tuple[int, Any]] = []
        deadline = time.monotonic() + timeout
        while len(natives) < max_messages:
            try:
                left = deadline - time.monotonic() if not natives else 0
                item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item[0] == self._generation:  # older ones come again on this connection
                natives.append(item)
        received_at = self._now()
        messages = []
        for generation, native in natives:
            user = getattr(native.properties, "UserProperty", None) or []
            headers = {str(k): str(v) for k, v in user}
            payload = bytes(native.payload)
            message_id = headers.get("message-id") or content_id(native.topic, payload, headers)
            self._inflight.setdefault(message_id, []).append((generation, native.mid))
            messages.append(
                Message(
                    id=message_id,
                    body=payload,
                    headers=headers,
                    source=self.name,
                    received_at=received_at,
                    deliveries=2 if native.dup else 1,
                )
            )
        return messages

    def ack(self, messages: Sequence[Message]) -> None:
        """Send the PUBACKs; deliveries from an earlier connection are left to their redelivery."""
        client = self._connected()
        for message in messages:
            for generation, mid in self._inflight.pop(message.id, []):
                if generation == self._generation:
                    client.ack(mid, 1)
                    self._unconfirmed = True

    def _barrier(self, client: Any) -> None:
        """A QoS 1 publish answered by the broker: it has read every packet sent before it.

        MQTT does not answer PUBACKs, and Mosquitto drops the packets it has not read yet when a
        client disconnects, so without this a ``close`` right after ``ack`` loses acks.
        """
        info = client.publish(f"legato/ack_barrier/{self.spec.session_id}", b"", qos=1)
        info.wait_for_publish(_TIMEOUT)
        self._unconfirmed = False

    def dead_letter(self, message: Message, reason: str) -> None:
        """Publish to ``dead_letter_topic`` at QoS 1, wait for the broker's PUBACK, then ack."""
        properties = require("paho.mqtt.properties", "mqtt")
        packettypes = require("paho.mqtt.packettypes", "mqtt")
        publish_properties = properties.Properties(packettypes.PacketTypes.PUBLISH)
        publish_properties.UserProperty = list(dead_letter_headers(message, reason).items())
        info = self._connected().publish(
            self.dead_letter_topic, message.body, qos=1, properties=publish_properties
        )
        info.wait_for_publish(_TIMEOUT)
        if not info.is_published():
            raise ConnectionError(f"{self.name}: the broker did not confirm the dead letter")
        self.ack([message])

    def close(self) -> None:
        """Disconnect; the session keeps what was not acked, to resend on the next connect."""
        client, self._client = self._client, None
        self._inflight = {}
        self._queue = queue.Queue()
        if client is None:
            return
        try:
            if client.is_connected():
                if self._unconfirmed:
                    self._barrier(client)
                client.disconnect()
                self._disconnected.wait(_TIMEOUT)
        except Exception as exc:  # closing a broken connection must not raise
            log.debug("closing %s: %s", self.name, exc)
        finally:
            self._unconfirmed = False
            client.loop_stop()

    def _connected(self) -> Any:
        if self._client is None:
            raise ConfigError(
                f"{self.name}: the source is not connected", hint="call connect() first"
            )
        if not self._client.is_connected():
            raise ConnectionError(f"{self.name}: the connection to the MQTT broker was lost")
        return self._client
