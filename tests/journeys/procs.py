"""The process tree as ``/proc`` shows it: who is whose child, what each runs, and who is gone."""

from __future__ import annotations

from pathlib import Path

_PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of ``pid``, or None once it no longer exists."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and ')'
    return fields[0], int(fields[1])


def cmdline(pid: int) -> str:
    try:
        return (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (dead, waiting to be reaped)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def parent(pid: int) -> int | None:
    stat = _stat(pid)
    return None if stat is None else stat[1]


def owner(pid: int) -> int | None:
    """The process that started ``pid``: its parent, or the parent of the fork server
    (``legato.execution.fork_server``) it was forked from."""
    up = parent(pid)
    while up is not None and FORK_SERVER in cmdline(up):
        up = parent(up)
    return up


def children(pid: int, running: str = "") -> list[int]:
    """Live processes ``pid`` started (directly or through its fork server, which counts too)
    whose command line contains ``running``."""
    out = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        child = int(entry.name)
        started_by = parent(child) if FORK_SERVER in cmdline(child) else owner(child)
        if started_by == pid and alive(child) and running in cmdline(child):
            out.append(child)
    return sorted(out)


FORK_SERVER = "legato.execution.fork_server"
RUN_WORKER = "legato.automation.run_worker"
STEP_WORKER = "legato.execution.executors.step_worker"
