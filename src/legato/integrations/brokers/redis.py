"""Redis Streams: a consumer group behind the synchronous :class:`MessageSource` interface.

Message ids are stream entry ids (``1700000000000-0``), the same on every redelivery. ``fetch``
returns, in this order: this consumer's own pending entries once after each ``connect`` (what it
had read before a restart), entries other consumers left pending longer than ``claim_after``
(``XAUTOCLAIM``: a dead consumer's work moves to a live one), then new entries (``XREADGROUP >``).
``ack`` is ``XACK``; ``dead_letter`` is ``XADD`` to the dead-letter stream and ``XACK`` in one
``MULTI``. The consumer group starts at the beginning of the stream, so entries added before the
first ``connect`` are consumed too.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from legato._internal.optional import require
from legato.definitions.messages import Message, RedisStreamSource
from legato.errors import ConfigError
from legato.integrations.brokers._common import dead_letter_headers

_BLOCK_SLACK = 0.11  # how late Redis may end a blocked read (one tick at hz=10, plus margin)
_POLL = 0.005


class RedisStreamMessageSource:
    """Reads a :class:`~legato.definitions.messages.RedisStreamSource`; see the module docstring."""

    def __init__(self, spec: RedisStreamSource, *, now: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.name = spec.name
        self.consumer = spec.consumer or f"{socket.gethostname()}:{os.getpid()}"
        self.dead_letter_stream = spec.dead_letter_stream or f"{spec.stream}:dead_letter"
        self._now = now
        self._redis: Any = None
        self._history_from: str | None = "0"  # next own-pending id to read; None when done
        self._claim_cursor = "0-0"
        self._next_claim = 0.0
        self._claim_every = min(spec.claim_after / 2, 5.0)

    def connect(self) -> None:
        """Connect and create the consumer group (and the stream) if they do not exist."""
        if self._redis is not None:
            return
        redis = require("redis", "redis")
        client = redis.Redis.from_url(
            self.spec.url, socket_connect_timeout=5, socket_keepalive=True, health_check_interval=30
        )
        try:
            client.xgroup_create(self.spec.stream, self.spec.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                client.close()
                raise
        except BaseException:
            client.close()
            raise
        self._redis = client
        self._history_from = "0"
        self._claim_cursor = "0-0"
        self._next_claim = 0.0

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        """Own pending entries, then claimable ones, then new ones (waiting up to ``timeout`` s)."""
        client = self._connected()
        spec = self.spec
        if self._history_from is not None:
            entries = self._read(client, self._history_from, max_messages, block=None)
            if entries:
                self._history_from = _text(entries[-1][0])  # XREADGROUP reads ids after it
                return self._messages(client, entries, counted=True)
            self._history_from = None
        if time.monotonic() >= self._next_claim:
            self._next_claim = time.monotonic() + self._claim_every
            cursor, entries, *_ = client.xautoclaim(
                spec.stream,
                spec.group,
                self.consumer,
                min_idle_time=int(spec.claim_after * 1000),
                start_id=self._claim_cursor,
                count=max_messages,
            )
            self._claim_cursor = _text(cursor)
            if self._claim_cursor != "0-0":
                self._next_claim = 0.0  # more to scan: look again on the next fetch
            if entries:
                return self._messages(client, entries, counted=True)
        return self._messages(client, self._read_new(client, max_messages, timeout), counted=False)

    def _read_new(self, client: Any, count: int, timeout: float) -> list[Any]:
        """``XREADGROUP >`` that returns by ``timeout``: Redis ends a blocked read only on its
        ``hz`` tick (100 ms by default), so block until a tick before, then poll."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            block = int((left - _BLOCK_SLACK) * 1000)
            entries = self._read(client, ">", count, block=block if block > 0 else None)
            if entries or left <= 0:
                return entries
            if block <= 0:
                time.sleep(min(_POLL, max(deadline - time.monotonic(), 0)))

    def _read(self, client: Any, start: str, count: int, block: int | None) -> list[Any]:
        reply = client.xreadgroup(
            self.spec.group, self.consumer, {self.spec.stream: start}, count=count, block=block
        )
        if not reply:
            return []
        stream_reply = reply[self.spec.stream.encode()] if isinstance(reply, dict) else reply[0]
        entries: list[Any] = stream_reply[0] if isinstance(reply, dict) else stream_reply[1]
        return entries

    def _messages(self, client: Any, entries: list[Any], *, counted: bool) -> list[Message]:
        """Entries as messages; ``counted`` asks Redis how often each was delivered before."""
        trimmed = [_text(entry_id) for entry_id, fields in entries if not fields]
        if trimmed:  # an entry deleted while pending: nothing left to run, forget it
            client.xack(self.spec.stream, self.spec.group, *trimmed)
        live = [(_text(entry_id), fields) for entry_id, fields in entries if fields]
        deliveries: dict[str, int] = {}
        if counted and live:
            pending = client.xpending_range(
                self.spec.stream,
                self.spec.group,
                live[0][0],
                live[-1][0],
                len(live),
                consumername=self.consumer,
            )
            deliveries = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        received_at = self._now()
        messages = []
        for entry_id, fields in live:
            decoded = {_text(k): v for k, v in fields.items()}
            if "body" in decoded:
                body = bytes(decoded.pop("body"))
                headers = {k: _text(v) for k, v in decoded.items()}
            else:  # a plain field map is the message: send it on as a JSON object
                body = json.dumps({k: _text(v) for k, v in decoded.items()}).encode()
                headers = {}
            messages.append(
                Message(
                    id=entry_id,
                    body=body,
                    headers=headers,
                    source=self.name,
                    received_at=received_at,
                    deliveries=deliveries.get(entry_id, 1),
                )
            )
        return messages

    def ack(self, messages: Sequence[Message]) -> None:
        """``XACK`` the messages' entries."""
        if messages:
            self._connected().xack(self.spec.stream, self.spec.group, *[m.id for m in messages])

    def dead_letter(self, message: Message, reason: str) -> None:
        """``XADD`` body and headers (reason included) to the dead-letter stream, ``XACK``, atomically."""
        fields: dict[str, str | bytes] = {"body": message.body}
        fields.update(dead_letter_headers(message, reason))
        pipe = self._connected().pipeline(transaction=True)
        pipe.xadd(self.dead_letter_stream, fields)
        pipe.xack(self.spec.stream, self.spec.group, message.id)
        pipe.execute()

    def close(self) -> None:
        """Disconnect; entries read and not acked stay pending with this consumer."""
        client, self._redis = self._redis, None
        if client is not None:
            client.close()

    def _connected(self) -> Any:
        if self._redis is None:
            raise ConfigError(
                f"{self.name}: the source is not connected", hint="call connect() first"
            )
        return self._redis


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
