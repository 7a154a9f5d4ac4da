"""Capture what a step prints and logs, per step, even when steps run in threads.

``sys.stdout``/``sys.stderr`` are replaced (once, while an engine or worker runs) by proxies that
write to the current step's sink, found through a context variable, or to the real stream when no
step is running. A logging handler does the same for log records.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from legato._internal.secrets import redact

MAX_LINE = 64 * 1024
MAX_LINES_PER_STEP = 100_000
LogRecordTuple = tuple[float, str, str, str]  # ts, level, stream, message

_current: contextvars.ContextVar[LogSink | None] = contextvars.ContextVar(
    "legato_sink", default=None
)


class LogSink:
    """Lines of one step attempt; ``on_flush`` (if any) receives batches while the step runs:
    at most ``flush_every`` seconds after a line is written, even if the step then goes quiet
    (a background thread flushes sinks that have lines waiting)."""

    def __init__(
        self,
        on_flush: Callable[[list[LogRecordTuple]], None] | None = None,
        flush_every: float = 0.5,
    ) -> None:
        self.records: list[LogRecordTuple] = []
        self._partial: dict[str, str] = {}
        self._count = 0
        self._on_flush = on_flush
        self._flush_every = flush_every
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        if on_flush is not None:
            _flusher.watch(self)

    def write(self, stream: str, text: str) -> None:
        buf = self._partial.get(stream, "") + text
        *lines, rest = buf.split("\n")
        self._partial[stream] = rest
        for line in lines:
            self.add("INFO" if stream == "stdout" else "WARNING", stream, line)
        if len(rest) > MAX_LINE:
            self._partial[stream] = ""
            self.add("INFO" if stream == "stdout" else "WARNING", stream, rest)

    def add(self, level: str, stream: str, message: str) -> None:
        message = redact(message)  # before truncation: a cut must not expose part of a secret
        self._count += 1
        if self._count > MAX_LINES_PER_STEP:
            if self._count == MAX_LINES_PER_STEP + 1:
                self.records.append(
                    (
                        time.time(),
                        "WARNING",
                        "legato",
                        f"log truncated: more than {MAX_LINES_PER_STEP} lines",
                    )
                )
            return
        if len(message) > MAX_LINE:
            message = message[:MAX_LINE] + f"… [truncated {len(message) - MAX_LINE} characters]"
        if "\x00" in message or not message.isascii():  # NUL and lone surrogates cannot be stored
            message = message.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
        with self._lock:
            self.records.append((time.time(), level, stream, message))
        if self._on_flush is not None and time.monotonic() - self._last_flush > self._flush_every:
            self.flush()

    def flush(self) -> None:
        """Hand the lines written so far to ``on_flush`` (one batch, in order)."""
        if self._on_flush is None:
            return
        with self._lock:  # one flush at a time, so batches arrive in the order they were cut
            if not self.records:
                return
            batch, self.records = self.records, []
            self._last_flush = time.monotonic()
            try:
                self._on_flush(batch)
            except BaseException:
                self.records[:0] = batch  # kept: they go with the outcome instead
                raise

    def due(self, now: float) -> bool:
        return bool(self.records) and now - self._last_flush >= self._flush_every

    def close(self) -> list[LogRecordTuple]:
        """The lines not yet flushed (returned with the outcome); no flush happens after this."""
        for stream, rest in self._partial.items():
            if rest:
                self.add("INFO" if stream == "stdout" else "WARNING", stream, rest)
        self._partial.clear()
        with self._lock:
            self._on_flush = None
            out, self.records = self.records, []
        return out


class _Flusher:
    """One thread per process that flushes live sinks whose lines have waited long enough."""

    def __init__(self) -> None:
        self._sinks: weakref.WeakSet[LogSink] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, sink: LogSink) -> None:
        with self._lock:
            self._sinks.add(sink)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="legato-log-flush", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(0.2)
            now = time.monotonic()
            with self._lock:
                sinks = list(self._sinks)
            for sink in sinks:
                if sink.due(now):
                    with contextlib.suppress(Exception):  # the sink kept its lines
                        sink.flush()


_flusher = _Flusher()


class _StreamProxy:
    def __init__(self, real: TextIO, name: str) -> None:
        self._real = real
        self._name = name

    def write(self, text: str) -> int:
        sink = _current.get()
        if sink is None:
            return self._real.write(text)
        sink.write(self._name, text)
        return len(text)

    def flush(self) -> None:
        if _current.get() is None:
            self._real.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _SinkHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sink = _current.get()
        if sink is not None:
            try:
                message = self.format(record)
            except Exception:  # a broken log call must not fail the step
                message = str(record.msg)
            sink.add(record.levelname, "log", message)


_handler = _SinkHandler()
_handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
_installed = 0


@contextmanager
def capturing() -> Iterator[None]:
    """Route prints and log records of running steps to their sinks while this block runs."""
    global _installed
    if _installed == 0:
        _install()
    _installed += 1
    try:
        yield
    finally:
        _installed -= 1
        if _installed == 0:
            _uninstall()


_saved: dict[str, Any] = {}


def _install() -> None:
    _saved["stdout"], _saved["stderr"] = sys.stdout, sys.stderr
    sys.stdout = _StreamProxy(sys.stdout, "stdout")
    sys.stderr = _StreamProxy(sys.stderr, "stderr")
    logging.getLogger().addHandler(_handler)


def _uninstall() -> None:
    if isinstance(sys.stdout, _StreamProxy):
        sys.stdout = _saved["stdout"]
    if isinstance(sys.stderr, _StreamProxy):
        sys.stderr = _saved["stderr"]
    logging.getLogger().removeHandler(_handler)


@contextmanager
def step_sink(sink: LogSink) -> Iterator[LogSink]:
    token = _current.set(sink)
    try:
        yield sink
    finally:
        _current.reset(token)
