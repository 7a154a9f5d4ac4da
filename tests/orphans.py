"""Processes a test left behind.

Each pytest process makes itself a child subreaper (Linux): a process whose parent exits is
re-parented to it instead of to init, so what a test started stays visible - also what a daemon
it started ran in sessions of their own. When the test ends, children that were not there before
it are killed and reaped, so they cannot write into the next test's database or hold its ports.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def children() -> dict[int, str]:
    """This process's children: pid to state (``Z`` for one that exited and awaits its reaping)."""
    me = os.getpid()
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            tail = stat.read_text().rpartition(")")[2]
        except OSError:
            continue
        fields = tail.split()
        if len(fields) > 1 and fields[1] == str(me):
            found[int(stat.parent.name)] = fields[0]
    return found


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:160]


def kill_new(before: set[int]) -> list[str]:
    """Kill and reap the children that are not in ``before``; the command lines of those that
    were still running (zombies are only reaped: they had exited)."""
    left = []
    for pid, state in children().items():
        if pid in before:
            continue
        if state != "Z":
            left.append(f"{pid} {_command(pid)}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    return left
