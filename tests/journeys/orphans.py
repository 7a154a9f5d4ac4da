"""Legato processes a test left running.

A journey's processes run in its project directory. What they started in sessions of their own
(a daemon's run workers, a killed daemon's orphans, which go on by design) outlives them; before
the journey's PostgreSQL schema is dropped - which a process still writing to it would deadlock -
every Legato process whose working directory is in the project directory is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from procs import alive, cmdline


def _is_legato(command: str) -> bool:
    return "-m legato" in command or "/bin/legato " in command or command.endswith("/bin/legato")


def _running_in(directory: Path) -> dict[int, str]:
    root = directory.resolve()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == root or root in cwd.parents:
            command = cmdline(int(entry.name))
            if _is_legato(command):
                found[int(entry.name)] = command
    return found


def kill_in(directory: Path, timeout: float = 10.0) -> list[str]:
    """SIGKILL the Legato processes running in ``directory`` and wait until they are gone; their
    pids and command lines."""
    found = _running_in(directory)
    for pid in found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in found) and time.monotonic() < deadline:
        time.sleep(0.02)
    return [f"{pid} {command[:160]}" for pid, command in found.items()]
