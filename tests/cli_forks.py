"""``legato ARGS`` to completion, as a fork of a process that has the libraries every command
imports already imported.

A fresh ``python -m legato`` spends most of its 0.5 s of CPU (more under coverage) importing
SQLAlchemy, Click, Rich and the rest before the command starts, and the suite runs hundreds of
commands. So each test process keeps a ``python -m legato.execution.fork_server`` (one with
coverage, one without, as the command's environment asks) that has imported them, and each
command is a fork of it: a process of its own, with its own session, working directory,
environment, ``sys.path[0]``, /dev/null as stdin, its output in files, and its exit status, as
``subprocess.run`` gives. The command's own modules are imported by the command, as in a fresh
interpreter; only third-party modules (and the ``legato`` package, which ``python -m legato``
imports first) are already there.

``LEGATO_TEST_FRESH_CLI=1`` runs every command in a fresh interpreter instead.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from legato.execution.fork_server import Forked, ForkServer

PRELOAD = (
    "sqlalchemy",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "psycopg",
    "click",
    "rich.console",
    "rich.table",
    "rich.markup",
    "msgspec",
    "cloudpickle",
    "alembic.command",  # a fresh store's migrations
    "fastapi",  # legato up
    "uvicorn",
)
_servers: dict[bool, tuple[ForkServer, subprocess.Popen[bytes]]] = {}
_lock = threading.Lock()


def _enabled() -> bool:
    return os.environ.get("LEGATO_TEST_FRESH_CLI", "") != "1" and sys.platform.startswith("linux")


def run(
    cwd: Path, args: tuple[str, ...], env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """``legato ARGS`` in ``cwd`` with exactly ``env``, to completion (``subprocess.run`` with
    ``capture_output``, ``text`` and ``timeout``)."""
    command = [sys.executable, "-m", "legato", *args]
    if not _enabled():
        return subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = _fork(cwd, args, env, out.fileno(), err.fileno())
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)
            raise subprocess.TimeoutExpired(command, timeout, _read(out), _read(err)) from None
        return subprocess.CompletedProcess(command, code, _read(out), _read(err))


def start(cwd: Path, args: tuple[str, ...], env: Mapping[str, str], output: int) -> Any:
    """``legato ARGS`` in the background (a daemon, ``legato up``), in a session of its own,
    writing stdout and stderr to the descriptor ``output``: a ``subprocess.Popen``, or a fork
    with its ``pid``, ``poll``, ``wait``, ``returncode`` and ``send_signal``."""
    if not _enabled():
        return subprocess.Popen(
            [sys.executable, "-m", "legato", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return _fork(cwd, args, env, output, output)


def _fork(
    cwd: Path, args: tuple[str, ...], env: Mapping[str, str], output: int, errors: int
) -> Forked:
    server = _server(measured=_measured(env))
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        return server.spawn(
            "legato.cli.main",
            (null, output, errors),
            cwd=cwd,
            die_with_parent=False,
            stdio=True,
            env=env,
            argv=args,
        )
    finally:
        os.close(null)


def children_cpu() -> float:
    """CPU seconds of the commands that have ended (and of the processes they reaped), which
    the test process does not see among its own children."""
    return sum(server.children_cpu for server, _ in _servers.values())


def _read(file: object) -> str:
    file.seek(0)  # type: ignore[attr-defined]
    return file.read().decode(errors="replace")  # type: ignore[attr-defined, no-any-return]


def _measured(env: Mapping[str, str]) -> bool:
    """Whether coverage would measure a fresh interpreter with ``env`` (``coverage run`` passes
    its configuration to subprocesses in one variable, a ``.pth`` file reads either)."""
    return "COVERAGE_PROCESS_START" in env or "COVERAGE_PROCESS_CONFIG" in env


def _server(*, measured: bool) -> ForkServer:
    with _lock:
        found = _servers.get(measured)
        if found is not None and found[0].alive:
            return found[0]
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(os.environ)
        if not measured:
            env.pop("COVERAGE_PROCESS_START", None)
            env.pop("COVERAGE_PROCESS_CONFIG", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "legato.execution.fork_server", str(theirs.fileno()), *PRELOAD],
            pass_fds=(theirs.fileno(),),
            cwd="/",  # not a test's directory, which a test's clean-up may kill processes in
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        server = ForkServer(ours, process.pid)
        if not _servers:
            atexit.register(_close)
        _servers[measured] = (server, process)
        return server


def _close() -> None:
    """End each server (it saves its coverage data as it exits) and reap it."""
    for server, process in _servers.values():
        server.close()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    _servers.clear()
