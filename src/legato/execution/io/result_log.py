"""A run's task results in one append-only file, ``ROOT/runs/<run>/results.log``.

Task results are run-scoped intermediates: many, and mostly small. A file each costs a file
creation per step, the dearest system call a result needs; so the engine that holds the run
appends the results that succeeded since its last commit to the run's log in one write, before
the commit that records those steps as succeeded. A crash of any process then loses nothing the
store shows as succeeded, and a re-run from failure reads the results it reuses from here.

A record is a header (``MAGIC``, CRC-32 of the rest, the lengths of the step key and of the
value), the step key, and the value as the filesystem IO manager writes a file: its signature
header, then the pickle. A record without a value is a pointer: that attempt's value was too
large to travel to the engine and lies in a file of its own, ``runs/<run>/<step>.pkl``. The
last record of a step wins (a resumed run may run a step again as a later attempt).

Only the engine that holds the run appends, one whole write per batch (``O_APPEND``). A write cut
short by a crash leaves a torn record at the tail: readers stop before it (its length runs past
the end, or its CRC fails), and the next writer cuts it off before it appends.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

from legato._internal.private import FILE_MODE

LOG_NAME = "results.log"
MAGIC = b"LGR1"
_HEAD = struct.Struct("<4sIIQ")  # magic, CRC-32 of step key + value, their lengths
_CHUNK = 1 << 20  # bytes a scan reads at once
_KEPT = 16  # runs whose index a reader keeps


class Entry(NamedTuple):
    """Where the latest record of a step lies: its value's offset and length (0: a pointer to
    the step's own file) and the CRC that covers it with the step key."""

    offset: int
    length: int
    crc: int
    step: bytes


def encode(step: str, value: bytes) -> bytes:
    """One record: ``value`` (signed bytes, or b"" for a pointer) as the result of ``step``."""
    key = step.encode()
    crc = zlib.crc32(value, zlib.crc32(key))
    return _HEAD.pack(MAGIC, crc, len(key), len(value)) + key + value


def scan(fd: int, start: int, end: int) -> tuple[int, dict[str, Entry]]:
    """The whole records between ``start`` and ``end`` of the log open as ``fd``: where the
    last one ends (a torn record, or garbage after a crash, ends the scan) and the latest
    entry of each step."""
    entries: dict[str, Entry] = {}
    position = start
    while position < end:
        buffer = os.pread(fd, min(_CHUNK, end - position), position)
        used = 0
        while used + _HEAD.size <= len(buffer):
            magic, crc, key_len, value_len = _HEAD.unpack_from(buffer, used)
            size = _HEAD.size + key_len + value_len
            if magic != MAGIC or position + used + size > end:
                return position + used, entries
            if used + size > len(buffer):
                if used == 0:  # a record larger than a chunk: read it whole
                    buffer = os.pread(fd, size, position)
                    if len(buffer) < size:
                        return position, entries
                    continue
                break
            body = memoryview(buffer)[used + _HEAD.size : used + size]
            if zlib.crc32(body) != crc:
                return position + used, entries
            key = bytes(body[:key_len])
            offset = position + used + _HEAD.size + key_len
            entries[key.decode(errors="replace")] = Entry(offset, value_len, crc, key)
            used += size
        if used == 0:
            return position, entries  # a header cut short at the end
        position += used
    return position, entries


def append(path: str, records: Sequence[bytes], *, durable: bool, checked: set[str]) -> None:
    """Append ``records`` to the log at ``path`` in one write (the file is made if missing).
    The first append of this writer to a log cuts off a torn tail a crashed writer left
    (``checked`` holds the logs this writer has looked at)."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        if path not in checked:
            size = os.fstat(fd).st_size
            if size:
                whole, _ = scan(fd, 0, size)
                if whole < size:
                    os.ftruncate(fd, whole)
            checked.add(path)
        write_all(fd, records, durable=durable)
    finally:
        os.close(fd)


_IOV_MAX = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 16, 1024)


def write_all(fd: int, chunks: Sequence[bytes], *, durable: bool) -> int:
    """Write ``chunks`` to ``fd`` in one system call when the kernel takes them whole (a short
    write, for a very large value or a full disk, goes on with the rest, or raises OSError);
    fsync if ``durable``. The bytes written."""
    size = sum(len(chunk) for chunk in chunks)
    if len(chunks) > _IOV_MAX:  # writev takes at most that many buffers
        chunks = [b"".join(chunks)]
    written = os.writev(fd, chunks)
    if written < size:
        rest = memoryview(b"".join(chunks))[written:]
        while rest:
            rest = rest[os.write(fd, rest) :]
    if durable:
        os.fsync(fd)
    return size


class RunLogs:
    """What one process knows of the logs of the runs it read from: the latest entry of each
    step, found by scanning a log once and then only what was appended since. Threads share it
    (the threads executor's steps).

    A step's entry never goes stale for a reader: a step is run again in the same run only if
    its success was never committed, and no step that reads it starts before that commit."""

    def __init__(self) -> None:
        self._runs: OrderedDict[str, tuple[int, dict[str, Entry]]] = OrderedDict()
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type[RunLogs], tuple[()]]:
        return RunLogs, ()  # what another process knows starts empty (an IO manager travels)

    def find(self, path: str, step: str) -> tuple[Entry, bytes] | None:
        """The latest record of ``step`` in the log at ``path`` and its value (b"" for a
        pointer); None if the log has none (or does not exist)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            entry = self._entry(fd, path, step)
            if entry is None:
                return None
            value = os.pread(fd, entry.length, entry.offset) if entry.length else b""
        finally:
            os.close(fd)
        if len(value) != entry.length or zlib.crc32(value, zlib.crc32(entry.step)) != entry.crc:
            raise OSError(f"the record of {step!r} in {path} changed after it was written")
        return entry, value

    def _entry(self, fd: int, path: str, step: str) -> Entry | None:
        with self._lock:
            scanned, entries = self._runs.get(path, (0, {}))
            entry = entries.get(step)
            if entry is None:
                end = os.fstat(fd).st_size
                if end > scanned:
                    scanned, found = scan(fd, scanned, end)
                    entries.update(found)
                entry = entries.get(step)
            self._runs[path] = (scanned, entries)
            self._runs.move_to_end(path)
            if len(self._runs) > _KEPT:
                self._runs.popitem(last=False)
            return entry
