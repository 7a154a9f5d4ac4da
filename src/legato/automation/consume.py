"""Turn broker messages into run requests, one micro-batch at a time, acked only once recorded.

:func:`consume_batch` is one step: fetch a micro-batch, dead-letter the poison messages (among
them those asking for a run that could not start, which ``check`` names), hand the ``(message,
run request)`` pairs to ``record`` (the daemon commits the runs and the message ids in one
transaction) and ack only after ``record`` returned. :class:`ConsumerLoop` runs that step on a
thread until stopped, reconnecting with backoff, and never dies of a recoverable error.

The order is what makes it at-least-once with no loss: a crash before ``record`` returns leaves
every message unacked, so the broker delivers it again; a crash after ``record`` and before ``ack``
redelivers messages whose runs exist, and the idempotency key ``msg:<source>:<message id>`` makes
their second recording a no-op.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from legato._internal.secrets import redact
from legato.definitions.messages import Message, MessageSource, OnMessage, RunRequest
from legato.errors import LegatoError

log = logging.getLogger(__name__)

Pairs = list[tuple[Message, RunRequest]]
Record = Callable[[Pairs], None]
# Why the run a message asks for could not start (its config does not fit the pipeline's steps),
# or None: such a message is poison.
Check = Callable[[Message, RunRequest], str | None]
# Makes a dead letter visible where runs are (the daemon: a failed tick with the problem); called
# with the message and the problem before the message goes to the dead-letter destination.
DeadLettered = Callable[[Message, str], None]


@dataclass(frozen=True)
class ConsumeResult:
    """What one :func:`consume_batch` did.

    Attributes:
        fetched: messages fetched from the broker.
        recorded: messages handed to ``record`` (and then acked).
        skipped: messages whose ``to_run`` returned None (acked, no run).
        dead_lettered: poison messages sent to the dead-letter destination.
        dead_letter_reasons: the reason given for each of those, in order.
    """

    fetched: int = 0
    recorded: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    dead_letter_reasons: tuple[str, ...] = ()

    @property
    def acked(self) -> int:
        return self.recorded + self.skipped + self.dead_lettered


class BatchNotRecorded(LegatoError):
    """``record`` raised: nothing of the batch was acked, so the broker will deliver it again.

    Attributes:
        pairs: what ``record`` was given; ``to_ack``: what to ack once it is durable;
        result: the counts, as they will be once the batch is recorded.
    """

    def __init__(
        self, trigger: OnMessage, pairs: Pairs, to_ack: list[Message], result: ConsumeResult
    ) -> None:
        ids = ", ".join(repr(m.id) for m, _ in pairs[:3]) + (", ..." if len(pairs) > 3 else "")
        super().__init__(
            f"{trigger.label}: recording {len(pairs)} run request(s) failed (messages {ids}); "
            "nothing was acked, so the broker will deliver them again",
            obj=trigger.name,
            hint="check that the store is reachable; the idempotency key deduplicates the retry",
        )
        self.pairs = pairs
        self.to_ack = to_ack
        self.result = result


def consume_batch(
    source: MessageSource,
    trigger: OnMessage,
    record: Record,
    *,
    check: Check | None = None,
    dead_lettered: DeadLettered | None = None,
    now: Callable[[], float] = time.time,
    wait: float = 1.0,
) -> ConsumeResult:
    """Fetch one micro-batch, record its run requests, then ack it.

    Args:
        source: a connected message source.
        trigger: the ``OnMessage`` spec: ``to_run``, ``batch``, ``within``, limits.
        record: makes the run requests durable (the daemon: runs + message ids in one
            transaction); the batch is acked only after it returns.
        check: why the run a request asks for could not start, or None (the daemon: its config
            against the config models of the pipeline's steps); such a message is poison.
        dead_lettered: records each poison message's problem before it is dead-lettered (the
            daemon: a failed tick); if it raises, nothing more of the batch is done and the
            broker delivers the rest again.
        now: the clock for the micro-batch window.
        wait: seconds to wait for the first message; an empty result after that is normal.

    Returns:
        what happened, as counts.

    Raises:
        BatchNotRecorded: ``record`` raised (its exception is the ``__cause__``); nothing was acked
            except the dead letters.
        Exception: whatever the broker client raised; the caller reconnects.
    """
    messages = fetch_batch(source, trigger, now=now, wait=wait)
    pairs: Pairs = []
    to_ack: list[Message] = []
    reasons: list[str] = []
    for message in messages:
        problem, request = _run_request(trigger, message)
        if problem is None and request is not None and check is not None:
            problem = check(message, request)
        if problem is not None:
            # What to_run raised may hold a secret: the broker's dead letter is a sink too, and
            # one outside the store, which masks what it writes.
            problem = redact(problem)
            reason = f"{trigger.label}: message {message.id!r} from {message.source!r}: {problem}"
            if dead_lettered is not None:
                dead_lettered(message, problem)
            source.dead_letter(message, reason)
            log.warning("dead-lettered: %s", reason)
            reasons.append(reason)
            continue
        if request is not None:
            pairs.append((message, request))
        to_ack.append(message)
    result = ConsumeResult(
        fetched=len(messages),
        recorded=len(pairs),
        skipped=len(to_ack) - len(pairs),
        dead_lettered=len(reasons),
        dead_letter_reasons=tuple(reasons),
    )
    if pairs:
        try:
            record(pairs)
        except Exception as exc:
            raise BatchNotRecorded(trigger, pairs, to_ack, result) from exc
    if to_ack:
        source.ack(to_ack)
    return result


def fetch_batch(
    source: MessageSource,
    trigger: OnMessage,
    *,
    now: Callable[[], float] = time.time,
    wait: float = 1.0,
) -> list[Message]:
    """Up to ``trigger.batch`` messages: wait up to ``wait`` s for the first, then up to
    ``trigger.within`` s more for the batch to fill."""
    messages = source.fetch(trigger.batch, wait)
    if not messages or trigger.within <= 0:
        return messages
    deadline = now() + trigger.within
    while len(messages) < trigger.batch and (left := deadline - now()) > 0:
        more = source.fetch(trigger.batch - len(messages), left)
        if not more:  # the fetch waited out the window
            break
        messages.extend(more)
    return messages


def _run_request(trigger: OnMessage, message: Message) -> tuple[str | None, RunRequest | None]:
    """``(problem, None)`` for a poison message, else ``(None, request or None to skip)``."""
    if message.deliveries > trigger.dead_letter_after:
        return (
            f"delivered {message.deliveries} times without being recorded "
            f"(dead_letter_after={trigger.dead_letter_after})",
            None,
        )
    if len(message.body) > trigger.max_bytes:
        return (
            f"body is {len(message.body)} bytes, over the limit of {trigger.max_bytes}; "
            "send a reference to the data instead, or raise OnMessage(max_bytes=...)",
            None,
        )
    try:
        return None, trigger.run_request_for(message)
    except Exception as exc:
        if trigger.to_run is not None:
            return f"to_run raised {type(exc).__name__}: {exc}", None
        if isinstance(exc, ValueError) and type(exc).__name__ == "JSONDecodeError":
            return (
                f"body is not valid JSON ({exc}); send a JSON object or give OnMessage a to_run "
                "function",
                None,
            )
        return f"{type(exc).__name__}: {exc}", None


@dataclass
class ConsumerStats:
    """Counters of a :class:`ConsumerLoop` (a snapshot when read through ``loop.stats``): what
    its thread did, for whoever runs it to check (the counts of one batch are its
    :class:`ConsumeResult`)."""

    batches: int = 0  # batches of one message or more, done and acknowledged
    recorded: int = 0
    dead_lettered: int = 0
    errors: int = 0
    reconnects: int = 0  # connections made after the first
    last_error: str | None = None
    dead_letter_reasons: list[str] = field(default_factory=list)  # the latest hundred


class ConsumerLoop:
    """Consume one ``OnMessage`` trigger on a background thread until :meth:`stop`.

    On a broker error the loop closes the source and reconnects with exponential backoff (from
    ``backoff`` up to ``max_backoff`` seconds). When ``record`` fails, the batch is kept unacked and
    ``record`` is retried for up to ``hold`` seconds, so a short store outage does not make the
    broker redeliver (and count deliveries toward ``dead_letter_after``); after that the source is
    reconnected and the broker redelivers. Only ``BaseException`` that is not an ``Exception``
    (``KeyboardInterrupt``, ``SystemExit``) ends the thread early.

    Example:
        >>> loop = ConsumerLoop(open_source(trigger.source), trigger, record)
        >>> loop.start(); ...; loop.stop()
    """

    def __init__(
        self,
        source: MessageSource,
        trigger: OnMessage,
        record: Record,
        *,
        check: Check | None = None,
        dead_lettered: DeadLettered | None = None,
        now: Callable[[], float] = time.time,
        wait: float = 1.0,
        backoff: float = 0.1,
        max_backoff: float = 30.0,
        hold: float = 10.0,
    ) -> None:
        self.source = source
        self.trigger = trigger
        self._record = record
        self._check = check
        self._dead_lettered = dead_lettered
        self._now = now
        self._wait = wait
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._hold = hold
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stats = ConsumerStats()
        self._thread: threading.Thread | None = None
        self._connected = False
        self._connections = 0

    @property
    def stats(self) -> ConsumerStats:
        """A snapshot of the counters."""
        with self._lock:
            return replace(self._stats, dead_letter_reasons=list(self._stats.dead_letter_reasons))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the consumer thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self.run, name=f"legato-consumer-{self.trigger.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask the loop to stop after the current batch, wait for it, and close the source."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run(self) -> None:
        """The loop itself; :meth:`start` runs it on a thread, tests may call it directly."""
        delay = self._backoff
        try:
            while not self._stop.is_set():
                if self._step():
                    delay = self._backoff
                    continue
                self._stop.wait(delay)
                delay = min(delay * 2, self._max_backoff)
        finally:
            self._disconnect()

    def _step(self) -> bool:
        """One batch; False when something failed and the loop should back off."""
        try:
            if not self._connected:
                self.source.connect()
                self._connected = True
                self._connections += 1
                if self._connections > 1:
                    with self._lock:
                        self._stats.reconnects += 1
            result = consume_batch(
                self.source,
                self.trigger,
                self._record,
                check=self._check,
                dead_lettered=self._dead_lettered,
                now=self._now,
                wait=self._wait,
            )
        except BatchNotRecorded as failed:
            self._note_error(failed)
            self._count(replace(failed.result, recorded=0, skipped=0), batch=False)
            return self._retry_record(failed)
        except Exception as exc:
            self._note_error(exc)
            self._disconnect()
            return False
        self._count(result, batch=result.fetched > 0)
        return True

    def _retry_record(self, failed: BatchNotRecorded) -> bool:
        """Retry ``record`` on the held (unacked) batch for up to ``hold`` s; reconnect after."""
        deadline = time.monotonic() + self._hold
        delay = self._backoff
        while time.monotonic() + delay <= deadline and not self._stop.wait(delay):
            try:
                self._record(failed.pairs)
            except Exception as exc:
                self._note_error(exc)
                delay = min(delay * 2, self._max_backoff)
                continue
            try:
                self.source.ack(failed.to_ack)
            except Exception as exc:  # recorded but not acked: redelivery is deduplicated
                self._note_error(exc)
                self._disconnect()
                return False
            done = replace(failed.result, fetched=0, dead_lettered=0, dead_letter_reasons=())
            self._count(done, batch=True)
            return True
        self._disconnect()
        return False

    def _count(self, result: ConsumeResult, *, batch: bool) -> None:
        with self._lock:
            stats = self._stats
            stats.recorded += result.recorded
            stats.dead_lettered += result.dead_lettered
            stats.dead_letter_reasons.extend(result.dead_letter_reasons)
            del stats.dead_letter_reasons[:-100]  # the latest hundred are enough to look at
            if batch:
                stats.batches += 1

    def _note_error(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        log.warning("%s: %s", self.trigger.label, text, exc_info=exc)
        with self._lock:
            self._stats.errors += 1
            self._stats.last_error = text

    def _disconnect(self) -> None:
        if not self._connected:
            return
        self._connected = False
        try:
            self.source.close()
        except Exception as exc:
            log.debug("closing %s: %s", self.source.name, exc)


__all__ = [
    "BatchNotRecorded",
    "ConsumeResult",
    "ConsumerLoop",
    "ConsumerStats",
    "consume_batch",
    "fetch_batch",
]
