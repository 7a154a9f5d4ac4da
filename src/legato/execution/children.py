"""Long-lived child processes that talk to their parent over a pair of pipes.

Used by the process pool (step workers), remote-worker slots and the daemon's run workers: the
child is ``python -m MODULE RECV_FD SEND_FD`` (or, where this process made a fork server,
``MODULE.main`` in a fork of it) in a session of its own (so that a signal to the parent's group
never reaches it, and killing its group kills what it started), and each side holds a
``multiprocessing.connection.Connection`` per direction.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TypeVar

from legato.execution import fork_server

# A child as spawn_child started it: a fresh interpreter, or a fork of the fork server.
Process = subprocess.Popen[bytes] | fork_server.Forked
P = TypeVar("P")


@dataclass
class Child:
    """A child process and its two connections; subclasses add what their pool tracks."""

    process: Process
    send: Connection
    recv: Connection

    def close(self) -> None:
        self.send.close()
        self.recv.close()

    def kill(self, wait: float = 5.0) -> None:
        """SIGKILL the child's process group (the child and what it started) and reap it."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(wait)


def spawn_child(
    module: str,
    *,
    cwd: Path | None = None,
    die_with_parent: bool = False,
) -> tuple[Process, Connection, Connection]:
    """Start ``python -m module`` (``module.main(argv)`` in a fork of this process's fork server
    if it has one: ``fork_server``); return the process, the connection to send to it and the
    one to receive from it. ``die_with_parent``: the child is killed when the thread that
    started it (with a fork server: this process) ends."""

    def start(child_reads: int, child_writes: int) -> Process:
        server = fork_server.current()
        if server is not None:
            return server.spawn(
                module, (child_reads, child_writes), cwd=cwd, die_with_parent=die_with_parent
            )
        return subprocess.Popen(
            [sys.executable, "-m", module, str(child_reads), str(child_writes)],
            cwd=cwd,
            pass_fds=(child_reads, child_writes),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent_hook() if die_with_parent else None,
        )

    process, to_child, from_child = with_pipes(start)
    return process, Connection(to_child, readable=False), Connection(from_child, writable=False)


def with_pipes(start: Callable[[int, int], P]) -> tuple[P, int, int]:
    """Make a pipe to a child and one from it, start the child with its ends (``start(the end
    it reads, the end it writes)``), and close those ends here; return what ``start`` returned
    and this process's ends (the one to write to the child, the one to read from it)."""
    child_reads, to_child = os.pipe()
    from_child, child_writes = os.pipe()
    try:
        started = start(child_reads, child_writes)
    except BaseException:
        os.close(to_child)
        os.close(from_child)
        raise
    finally:
        os.close(child_reads)
        os.close(child_writes)
    return started, to_child, from_child


def how_it_ended(process: Process, what: str, wait: float = 1.0) -> str:
    """Why ``what`` (its name in a message) stopped: its exit code or signal, once it has."""
    try:
        code = process.wait(wait)
    except subprocess.TimeoutExpired:
        return f"{what} stopped answering"
    if code < 0:
        return f"{what} was killed by signal {signal.Signals(-code).name}"
    return f"{what} exited with code {code}"


def child_connections(argv: list[str]) -> tuple[Connection, Connection]:
    """In the child: the (receive, send) connections named by its two arguments."""
    return Connection(int(argv[0]), writable=False), Connection(int(argv[1]), readable=False)


def die_with_parent_hook() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGKILL the child when the thread that started it exits
    (with its process, or on its own): a step never outlives the engine that started it."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def die_with_parent() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL))

    return die_with_parent
