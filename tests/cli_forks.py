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
import pickle
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
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
    cwd: Path,
    args: tuple[str, ...],
    env: Mapping[str, str],
    output: int,
    errors: int,
    stdin: int | None = None,
) -> Forked:
    server = _server(measured=_measured(env))
    null = os.open(os.devnull, os.O_RDONLY) if stdin is None else None
    try:
        return server.spawn(
            "legato.cli.main",
            (stdin if null is None else null, output, errors),
            cwd=cwd,
            die_with_parent=False,
            stdio=True,
            env=env,
            argv=args,
        )
    finally:
        if null is not None:
            os.close(null)


_SHIM = """\
import os, pickle, signal, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
sock.connect({address!r})
request = (sys.argv[1:], os.getcwd(), dict(os.environ))
socket.send_fds(sock, [pickle.dumps(request)], [0, 1, 2])
kind, value = pickle.loads(sock.recv(4096))
if kind != "pid":
    sys.exit(f"legato: could not start the command: {{value}}")
def forward(sig, _frame):
    os.kill(value, sig)
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, forward)
data = sock.recv(4096)
code = pickle.loads(data)[1] if data else 1
if code < 0:  # ended by a signal: so does this command, as a shell expects
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


@contextlib.contextmanager
def legato_on_path(bin_dir: Path) -> Iterator[None]:
    """Write ``bin_dir/legato``, a command that a shell script can run as ``legato ARGS``: it
    hands its arguments, working directory, environment and stdio to this process, which runs
    the command as a fork (as ``run`` does) and answers with its exit status; signals the
    command gets are passed on. Until the block ends; commands still running then are killed.
    With fresh interpreters (``LEGATO_TEST_FRESH_CLI=1``), it runs ``python -m legato``."""
    legato = bin_dir / "legato"
    if not _enabled():
        legato.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m legato "$@"\n')
        legato.chmod(0o755)
        yield
        return
    address = f"\0legato-test-{os.getpid()}-{secrets.token_hex(8)}"  # abstract: no file
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(address)
    listener.listen()
    (bin_dir / "legato.py").write_text(_SHIM.format(address=address))
    legato.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -S "{bin_dir}/legato.py" "$@"\n')
    legato.chmod(0o755)
    children: list[Forked] = []
    relay = threading.Thread(target=_relay, args=(listener, children), daemon=True)
    relay.start()
    try:
        yield
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        relay.join(10)
        for child in children:
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait(10)


def _relay(listener: socket.socket, children: list[Forked]) -> None:
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return  # closed: the block ended
        threading.Thread(target=_serve_one, args=(connection, children), daemon=True).start()


def _serve_one(connection: socket.socket, children: list[Forked]) -> None:
    with connection:
        data, fds, _flags, _address = socket.recv_fds(connection, 1 << 20, 3)
        try:
            args, cwd, env = pickle.loads(data)
            child = _fork(Path(cwd), tuple(args), env, fds[1], fds[2], stdin=fds[0])
        except Exception as exc:
            connection.send(pickle.dumps(("failed", str(exc))))
            return
        finally:
            for fd in fds:
                os.close(fd)
        children.append(child)
        connection.send(pickle.dumps(("pid", child.pid)))
        code = child.wait()
        with contextlib.suppress(OSError):
            connection.send(pickle.dumps(("exit", code)))


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
