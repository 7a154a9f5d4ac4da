"""A fork server: a copy of this process, made while it runs one thread, that starts the
long-lived children of ``spawn_child`` (run workers, step workers) by forking itself.

Starting ``python -m legato...`` costs a fresh interpreter and every import again (0.3-0.5 s of
CPU for a process that opens the store); a fork of a process that has them costs milliseconds.
Forking a process that runs several threads is unsafe (the copy can inherit a lock another
thread held), and the daemon and the engine run threads; so a process that will start children
makes its copy first, with ``start()``, while it is single-threaded, and asks it for each later.

The copy runs nothing but its loop. For each request it forks a child that runs the module's
``main(argv)`` as ``python -m module`` would: a session of its own, the working directory, the
environment and ``sys.path[0]`` of the request, /dev/null as stdin, and the request's pipes as
arguments. It tells the parent each child's pid and, later, its exit status (Popen's
``returncode``: negative for a signal). It exits when the parent closes the socket (and the
parent waits for it at exit), and dies with the parent (a parent-death signal), so it never
outlives it; children asked to die with their parent get the same signal from it.

Linux only (``pidfd_open``, ``send_fds``); elsewhere, in a process that made no copy, or with
``LEGATO_FORK_SERVER=0``, ``spawn_child`` starts a fresh interpreter.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import itertools
import os
import pickle
import select
import selectors
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

_MAX_MESSAGE = 1 << 20  # a request carries the environment: well under this
_server: ForkServer | None = None


def start(*, close: tuple[int, ...] = (), preload: tuple[str, ...] = ()) -> ForkServer | None:
    """Make this process's fork server, once, if it can: on Linux, while a single thread runs.
    ``close``: descriptors of this process the copy must not hold (pipes whose end-of-file
    someone waits for); ``preload``: modules the copy imports once for all its children (this
    process does not pay for them)."""
    global _server
    if _server is not None or not _supported():
        return _server
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the copy
        ours.close()
        for fd in close:
            with contextlib.suppress(OSError):
                os.close(fd)
        _serve(theirs, parent, preload)  # never returns
    theirs.close()
    _server = ForkServer(ours, pid)
    atexit.register(_server.stop, 10.0)  # at exit, the copy ends (saving what it measured) first
    return _server


def current() -> ForkServer | None:
    """This process's fork server, if it made one and it still answers."""
    return _server if _server is not None and _server.alive else None


def _supported() -> bool:
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "pidfd_open")
        and hasattr(socket, "send_fds")
        and os.environ.get("LEGATO_FORK_SERVER", "1") != "0"
        and threading.active_count() == 1
    )


# -- the parent's side ----------------------------------------------------------------------------


@dataclass
class ForkServer:
    """The parent's handle on its fork server: ask for children, learn how they ended."""

    sock: socket.socket
    pid: int
    alive: bool = True
    children_cpu: float = 0.0  # CPU seconds of the children that have ended (and what they reaped)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _replies: dict[int, tuple[str, Any]] = field(default_factory=dict)
    _exits: dict[int, int] = field(default_factory=dict)
    _sending: threading.Lock = field(default_factory=threading.Lock)
    _reader: threading.Thread | None = None

    def spawn(
        self,
        module: str,
        fds: tuple[int, ...],
        *,
        cwd: Path | None,
        die_with_parent: bool,
        stdio: bool = False,
        env: Mapping[str, str] | None = None,
        argv: tuple[str, ...] | None = None,
    ) -> Forked:
        """Start ``module.main([str(fd) ...])`` in a forked child holding ``fds`` (which stay
        open here: the caller closes them as it would after Popen). With ``stdio``, the
        descriptors become the child's stdin, stdout (and stderr, if there are three) instead,
        and ``main(argv or [])`` runs."""
        request_id = next(self._ids)
        request = {
            "id": request_id,
            "module": module,
            "cwd": str(cwd or Path.cwd()),
            "env": dict(os.environ if env is None else env),
            "die_with_parent": die_with_parent,
            "stdio": stdio,
            "argv": list(argv or ()),
        }
        self._ensure_reader()
        with self._sending:
            socket.send_fds(self.sock, [pickle.dumps(request)], list(fds))
        with self._lock:
            while request_id not in self._replies:
                if not self.alive:
                    raise OSError("the fork server is gone")
                self._lock.wait()
            kind, value = self._replies.pop(request_id)
        if kind != "spawned":
            raise OSError(f"the fork server could not start {module}: {value}")
        return Forked(self, int(value))

    def returncode(self, pid: int) -> int | None:
        with self._lock:
            return self._exits.get(pid)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        """The child's exit status once the server reports it, waiting up to ``timeout``."""
        with self._lock:
            self._lock.wait_for(lambda: pid in self._exits or not self.alive, timeout)
            return self._exits.get(pid)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()

    def stop(self, timeout: float) -> None:
        """Close, then wait up to ``timeout`` s for the copy (a child made by ``start``) to end."""
        self.close()
        with contextlib.suppress(OSError):  # OSError: already reaped
            pidfd = os.pidfd_open(self.pid)
            try:
                if select.select([pidfd], [], [], timeout)[0]:
                    os.waitpid(self.pid, 0)
            finally:
                os.close(pidfd)

    def _ensure_reader(self) -> None:
        with self._lock:
            if self._reader is None:
                self._reader = threading.Thread(
                    target=self._read, name="legato-fork-server", daemon=True
                )
                self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(_MAX_MESSAGE)
            except OSError:
                data = b""
            with self._lock:
                if not data:
                    self.alive = False
                    self._lock.notify_all()
                    return
                kind, key, value = pickle.loads(data)
                if kind == "exit":
                    self._exits[key], cpu = value
                    self.children_cpu += cpu
                else:
                    self._replies[key] = (kind, value)
                    if kind == "spawned":  # a reused pid: its old child's status is not this one's
                        self._exits.pop(value, None)
                self._lock.notify_all()


class Forked:
    """What ``spawn_child`` callers use of ``subprocess.Popen``, for a child of the fork server."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server = server
        self.pid = pid
        self.stdin: IO[str] | None = None  # the caller's ends of a ``stdio`` child's pipes
        self.stdout: IO[str] | None = None
        self.stderr: IO[str] | None = None

    @property
    def returncode(self) -> int | None:
        return self.server.returncode(self.pid)

    def poll(self) -> int | None:
        code = self.returncode
        if code is None and not self.server.alive and not _exists(self.pid):
            return -signal.SIGKILL  # orphaned by the server's end, then gone: status unknown
        return code

    def wait(self, timeout: float | None = None) -> int:
        code = self.server.wait(self.pid, timeout)
        if code is None:
            code = self.poll()
        if code is None:
            raise subprocess.TimeoutExpired(f"process {self.pid}", timeout or 0.0)
        return code

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> None:
    """``python -m legato.execution.fork_server FD [MODULE ...]``: serve requests on the socket
    ``FD`` inherited from the parent (a ``ForkServer(socket, pid)`` there), importing the
    modules first. For a program that is not single-threaded (a test runner) and starts many
    short ``legato`` commands: each is then a fork with those imports done."""
    sock = socket.socket(fileno=int(argv[0]))
    # No parent-death signal: it would come when the parent's thread that started this process
    # ends, not the parent. The loop ends when the parent's end of the socket closes.
    _serve(sock, os.getppid(), tuple(argv[1:]), die_with_parent=False)


# -- the copy's side ------------------------------------------------------------------------------


def _serve(
    sock: socket.socket, parent: int, preload: tuple[str, ...], *, die_with_parent: bool = True
) -> None:
    try:
        if die_with_parent:
            _die_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setsid()  # out of the terminal's group: only its parent decides when it ends
        _retitle(f"-m {__name__} {parent}")
        for module in preload:
            try:
                importlib.import_module(module)
            except Exception:  # a child that needs it reports the error itself
                traceback.print_exc()
        _loop(sock)
    except BaseException:
        traceback.print_exc()
    _exit(0)


def _loop(sock: socket.socket) -> None:
    children = selectors.DefaultSelector()
    children.register(sock, selectors.EVENT_READ)
    while True:
        for key, _ in children.select():
            if key.fileobj is sock:
                try:
                    data, fds, _flags, _addr = socket.recv_fds(sock, _MAX_MESSAGE, 8)
                except OSError:
                    data, fds = b"", []
                if not data:
                    return  # the parent closed its end or died
                request = pickle.loads(data)
                try:
                    pid = _fork_child(request, fds, sock, children)
                except OSError as exc:
                    _send(sock, ("failed", request["id"], str(exc)))
                    continue
                finally:
                    for fd in fds:
                        os.close(fd)
                pidfd = os.pidfd_open(pid)
                children.register(pidfd, selectors.EVENT_READ, pid)
                _send(sock, ("spawned", request["id"], pid))
            else:
                pid = key.data
                children.unregister(key.fd)
                os.close(key.fd)
                _, status, usage = os.wait4(pid, 0)
                cpu = usage.ru_utime + usage.ru_stime  # its own and that of what it reaped
                _send(sock, ("exit", pid, (os.waitstatus_to_exitcode(status), cpu)))


def _send(sock: socket.socket, message: tuple[str, int, Any]) -> None:
    with contextlib.suppress(OSError):  # the parent is gone: the loop ends at its next read
        sock.send(pickle.dumps(message))


def _fork_child(
    request: dict[str, Any], fds: list[int], sock: socket.socket, children: selectors.BaseSelector
) -> int:
    server = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    # the child: never returns
    code = 1
    try:
        for key in list(children.get_map().values()):
            with contextlib.suppress(OSError):
                os.close(key.fd)  # the socket and the other children's pidfds
        os.setsid()
        if request["die_with_parent"]:
            _die_with_parent(server)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if request["stdio"]:
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            fds = []
        else:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path[0] = request["cwd"]  # as ``python -m`` puts the working directory first
        argv = [str(fd) for fd in fds] + request["argv"]
        sys.argv = [request["module"], *argv]
        _retitle(" ".join(["-m", request["module"], *argv]))  # what ``ps`` shows, as for Popen
        module = importlib.import_module(request["module"])
        result = module.main(argv)
        code = result if isinstance(result, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except BaseException:
        traceback.print_exc()
    _exit(code)
    raise AssertionError("unreachable")  # pragma: no cover


def _exit(code: int) -> None:
    """End a forked process as interpreter shutdown would for what it started (exit hooks,
    which save coverage data; buffered output), but not the finalizers of what it inherited."""
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(code)


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when the thread that forked it ends; at once if it already has."""
    from legato.execution.children import die_with_parent_hook

    hook = die_with_parent_hook()
    if hook is not None:
        hook()
    if os.getppid() != parent:
        os._exit(1)


def _retitle(arguments: str) -> None:
    """Show ``python ARGUMENTS`` as this process's command line (``ps``, /proc/PID/cmdline)
    instead of the command line inherited from the process it was forked from."""
    import setproctitle

    setproctitle.setproctitle(f"{sys.executable} {arguments}")
    # setproctitle also names the process (top, ps -o comm) after the title's first 15 bytes,
    # a path; keep the interpreter's name, as a fresh interpreter has it.
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write(Path(sys.executable).name[:15])


if __name__ == "__main__":
    main(sys.argv[1:])
