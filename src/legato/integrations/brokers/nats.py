"""NATS JetStream: a durable pull consumer behind the synchronous :class:`MessageSource` interface.

Message ids are ``<stream>:<stream sequence>``, the same on every redelivery. Acks wait for the
server's confirmation. Messages fetched and not acked are nak'ed on ``close`` so they come back at
once; after a crash JetStream redelivers them when ``ack_wait`` runs out. Dead letters are
published to a JetStream subject (a stream is created for it if none captures it) with the reason
in the ``legato-dead-letter-reason`` header, and a ``Nats-Msg-Id`` so a retried dead-lettering
is stored once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from legato._internal.optional import require
from legato.definitions.messages import Message, NatsSource
from legato.errors import ConfigError
from legato.integrations.brokers._common import dead_letter_headers
from legato.integrations.brokers._loop import LoopThread

log = logging.getLogger(__name__)

_CALL_MARGIN = 10.0  # seconds a call may take beyond its own timeout before we give up on it


class NatsMessageSource:
    """Reads a :class:`~legato.definitions.messages.NatsSource`; see the module docstring."""

    def __init__(self, spec: NatsSource, *, now: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.name = spec.name
        self._now = now
        self._loop: LoopThread | None = None
        self._nc: Any = None
        self._js: Any = None
        self._sub: Any = None
        self._dead_letter_subject = ""
        self._inflight: dict[str, Any] = {}

    def connect(self) -> None:
        """Connect, find or create the stream and the dead-letter stream, bind the consumer."""
        if self._loop is not None:
            return
        self._loop = LoopThread(f"legato-nats-{self.spec.subject}")
        try:
            self._loop.run(self._connect(), timeout=30)
        except BaseException:
            self.close()
            raise

    async def _connect(self) -> None:
        nats = require("nats", "nats")
        api = require("nats.js.api", "nats")
        errors = require("nats.js.errors", "nats")
        spec = self.spec

        async def on_error(exc: Exception) -> None:
            log.warning("NATS connection of %s: %s", self.name, exc)

        self._nc = await nats.connect(spec.url, connect_timeout=5, error_cb=on_error)
        self._js = self._nc.jetstream()
        stream = await self._stream_for(spec.subject, spec.stream, errors)
        dead = spec.dead_letter_subject or f"legato.dead_letter.{stream}"
        await self._stream_for(dead, f"{stream}_DEAD_LETTER", errors)
        self._dead_letter_subject = dead
        config = api.ConsumerConfig(
            durable_name=spec.durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=spec.ack_wait,
            max_deliver=-1,
        )
        self._sub = await self._js.pull_subscribe(
            spec.subject, durable=spec.durable, stream=stream, config=config
        )

    async def _stream_for(self, subject: str, name: str | None, errors: Any) -> str:
        """The stream that captures ``subject``; create ``name`` for it when none does."""
        try:
            found: str = await self._js.find_stream_name_by_subject(subject)
            return found
        except errors.NotFoundError:
            if name is None:
                raise ConfigError(
                    f"NatsSource({self.spec.subject!r}): no JetStream stream captures this subject",
                    obj=self.name,
                    hint="create one (nats stream add) or pass NatsSource(..., stream='NAME') "
                    "to let Legato create it",
                ) from None
        await self._js.add_stream(name=name, subjects=[subject])
        return name

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        """Up to ``max_messages`` messages; waits up to ``timeout`` s for the first one."""
        loop = self._connected()
        natives: list[Any] = loop.run(self._fetch(max_messages, timeout), timeout + _CALL_MARGIN)
        received_at = self._now()
        messages = []
        for native in natives:
            meta = native.metadata
            message = Message(
                id=f"{meta.stream}:{meta.sequence.stream}",
                body=bytes(native.data),
                headers=dict(native.headers or {}),
                source=self.name,
                received_at=received_at,
                deliveries=int(meta.num_delivered),
            )
            self._inflight[message.id] = native
            messages.append(message)
        return messages

    async def _fetch(self, max_messages: int, timeout: float) -> list[Any]:
        try:
            result: list[Any] = await self._sub.fetch(
                batch=max_messages, timeout=max(timeout, 0.01)
            )
        except TimeoutError:  # nats.errors.TimeoutError subclasses it: nothing arrived in time
            return []
        return result

    def ack(self, messages: Sequence[Message]) -> None:
        """Ack and wait for JetStream to confirm each ack."""
        natives = [n for m in messages if (n := self._inflight.pop(m.id, None)) is not None]
        if natives:
            self._connected().run(self._ack_all(natives), _CALL_MARGIN)

    @staticmethod
    async def _ack_all(natives: list[Any]) -> None:
        import asyncio

        await asyncio.gather(*(n.ack_sync(timeout=5) for n in natives))

    def dead_letter(self, message: Message, reason: str) -> None:
        """Publish to the dead-letter subject (stored once per message id), then ack."""
        native = self._inflight.pop(message.id, None)
        headers = dead_letter_headers(message, reason)
        headers["Nats-Msg-Id"] = f"dead-letter:{self.name}:{message.id}"
        self._connected().run(self._dead_letter(native, message.body, headers), _CALL_MARGIN)

    async def _dead_letter(self, native: Any, body: bytes, headers: dict[str, str]) -> None:
        await self._js.publish(self._dead_letter_subject, body, headers=headers, timeout=5)
        if native is not None:
            await native.ack_sync(timeout=5)

    def close(self) -> None:
        """Nak what was fetched and not acked (so it is redelivered now), then disconnect."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        natives, self._inflight = list(self._inflight.values()), {}
        try:
            loop.run(self._close(natives), _CALL_MARGIN)
        except Exception as exc:  # closing a broken connection must not raise
            log.debug("closing %s: %s", self.name, exc)
        finally:
            loop.stop()

    async def _close(self, natives: list[Any]) -> None:
        if self._nc is None:
            return
        try:
            if not self._nc.is_closed:
                for native in natives:
                    await native.nak()
                await self._nc.flush(timeout=2)
        finally:
            await self._nc.close()
            self._nc = self._js = self._sub = None

    def _connected(self) -> LoopThread:
        if self._loop is None or self._sub is None:
            raise ConfigError(
                f"{self.name}: the source is not connected", hint="call connect() first"
            )
        return self._loop
