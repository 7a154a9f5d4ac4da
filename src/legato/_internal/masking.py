"""Mask secrets in everything a process prints or logs, whoever wrote it.

:func:`mask_process_output` is called first thing by every process Legato runs (the ``legato``
command and so the daemon, the web server and ``legato worker``; the code server, message
consumers, run workers, step workers and Dask workers). From then on:

- ``sys.stdout`` and ``sys.stderr`` mask every write: ``print``, uncaught tracebacks (of threads
  too), warnings;
- every log record is masked as it is made (its message, its traceback and stack), so that no
  handler, formatter or log shipper ever sees the value, whenever the handler was installed.

Steps' own output is masked again where it is captured (``execution.capture``) and everything
stored is masked by the store, so no single one of these is the only guard.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from legato._internal.secrets import active, redact

_lock = threading.Lock()
_installed = False


class MaskedStream:
    """A text stream that masks secrets in what is written to it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text) if active() else text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def mask_process_output() -> None:
    """Mask secrets in this process's stdout, stderr and log records from now on (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is not None and not isinstance(stream, MaskedStream):
                setattr(sys, name, MaskedStream(stream))
        logging.setLogRecordFactory(_masking(logging.getLogRecordFactory()))


def _masking(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if active():
            mask_record(record)
        return record

    return make_masked


def mask_record(record: logging.LogRecord) -> None:
    """Mask ``record`` in place: its message (formatted now), traceback and stack."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format: the handler reports it (with the raw arguments masked)
        record.args = tuple(redact(str(a)) for a in record.args or ())
        record.msg = redact(str(record.msg))
        return
    masked = redact(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(_formatter.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


_formatter = logging.Formatter()
