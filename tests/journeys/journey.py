"""A user's journey, driven from the outside: a project directory, the ``legato`` command, a real
``legato daemon`` or ``legato up`` process and the REST API, on SQLite or PostgreSQL, with the
user's default settings.

Every process a journey starts is stopped and reaped, and every file it opens is closed, when the
test ends, whether it passed, failed or timed out (``Journey.close``, called by the fixture).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import cli_forks
from legato.store.engine import Store
from legato_process import run_legato
from polling import poller

_SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


wait_until = poller(timeout=60.0, interval=0.05)  # a journey's processes start in seconds


def across_stores(executors: Iterable[Any]) -> Any:
    """Parametrize ``(journey, executor)`` so that every executor runs on a store and each store
    sees several executors: the default executor (process) on both, the others alternating,
    instead of the full product (what an executor does is the same on either store)."""
    stores = itertools.cycle(["sqlite", "postgres"])
    pairs = []
    for entry in executors:  # a name, or a pytest.param of one with its marks
        executor, marks = (
            (entry.values[0], entry.marks) if hasattr(entry, "values") else (entry, ())
        )
        for store in ["sqlite", "postgres"] if executor == "process" else [next(stores)]:
            pairs.append(pytest.param(store, executor, marks=marks, id=f"{store}-{executor}"))
    return pytest.mark.parametrize(("journey", "executor"), pairs, indirect=["journey"])


@dataclass
class Process:
    """A long-running ``legato`` process in its own session; its output goes to a file."""

    name: str
    popen: Any  # a subprocess.Popen, or a cli_forks child with the same methods
    log_path: Path
    log_file: Any

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        if not self.log_file.closed:
            self.log_file.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """Signal the process alone (SIGTERM is a user's Ctrl-C to a service; SIGKILL a crash)."""
        if self.alive():
            os.kill(self.popen.pid, sig)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, wait; then SIGKILL the whole session so nothing it started outlives it."""
        if self.alive():
            os.kill(self.popen.pid, signal.SIGTERM)
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = -9
        self.kill_group()
        self.popen.wait(timeout=10)
        self.log_file.close()
        return code

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)


@dataclass
class Journey:
    """One project directory on one backend (``"sqlite"`` or ``"postgres"``)."""

    dir: Path
    backend: str
    database_url: str | None  # None: the embedded default, SQLite at .legato/legato.db
    processes: list[Process] = field(default_factory=list)
    stores: list[Store] = field(default_factory=list)

    # -- the project -----------------------------------------------------------------------------

    def write(self, files: dict[str, str], config: str = "") -> Journey:
        """Write project modules (``{"pipes.py": source}``) and a ``legato.toml`` listing them;
        ``config`` adds lines to ``legato.toml`` (defaults are the user's otherwise)."""
        modules = [name[:-3] for name in files if name.endswith(".py") and "/" not in name]
        toml = f"modules = {json.dumps(modules)}\n" + textwrap.dedent(config)
        config_file = self.dir / "legato.toml"
        new_project = not config_file.exists()
        config_file.write_text(toml)
        written = [config_file]
        for name, source in files.items():
            path = self.dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
            written.append(path)
        if new_project:  # written before the user starts Legato, as a project is; a file
            # modified within the last second makes a loaded process load it again at once
            a_minute_ago = time.time() - 60
            for path in written:
                os.utime(path, (a_minute_ago, a_minute_ago))
        return self

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("LEGATO_EXECUTOR", None)
        env.pop("LEGATO_DATABASE_URL", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_SRC), env.get("PYTHONPATH")]))
        env["COLUMNS"] = "200"
        if self.database_url is not None:
            env["LEGATO_DATABASE_URL"] = self.database_url
        if self.backend == "sqlite":
            # Under `scripts/test`, every Python process is measured for coverage, at about half
            # again its CPU. A journey runs the same processes, the same code, on both stores;
            # those of its PostgreSQL run are measured, those of its SQLite run are not (the
            # SQLite store's own code is measured by the store tests, in process).
            env.pop("COVERAGE_PROCESS_START", None)
            env.pop("COVERAGE_PROCESS_CONFIG", None)
        return env

    # -- the command line ------------------------------------------------------------------------

    def legato(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``legato ARGS`` to completion, stdout not a terminal (as in a script or CI)."""
        return run_legato(self.dir, *args, env={**self.env, **(env or {})}, timeout=timeout)

    def ok(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``legato ARGS``, which must exit 0 (else the test fails with its output)."""
        result = self.legato(*args, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(
                f"legato {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def start(self, *args: str, env: dict[str, str] | None = None) -> Process:
        """Start ``legato ARGS`` (``daemon``, ``up``, ``run``…) in the background."""
        log_path = self.dir / f"{args[0]}-{len(self.processes)}.log"
        log_file = open(log_path, "wb")  # noqa: SIM115 - closed by Process.stop
        popen = cli_forks.start(self.dir, args, {**self.env, **(env or {})}, log_file.fileno())
        process = Process(args[0], popen, log_path, log_file)
        self.processes.append(process)
        return process

    def daemon(self, *args: str) -> Process:
        """``legato daemon`` with the user's defaults (plus ``args``)."""
        return self.start("daemon", *args)

    def up(self, *args: str, env: dict[str, str] | None = None) -> Server:
        """``legato up`` on a free port, waited for until its API answers. Its local-mode token
        is chosen here (``LEGATO_UP_TOKEN``), so the Server sends the one of its own start."""
        port = free_port()
        token = secrets.token_urlsafe(32)
        process = self.start(
            "up", "--port", str(port), *args, env={**(env or {}), "LEGATO_UP_TOKEN": token}
        )
        server = Server(process, f"http://127.0.0.1:{port}", token)

        def answering() -> bool:
            if not process.alive():
                raise AssertionError(f"legato up exited:\n{process.output()}")
            try:
                return server.get("/api/v1/health")[0] == 200
            except OSError:
                return False

        wait_until(answering, timeout=60, what="legato up to answer")
        return server

    # -- looking at the store --------------------------------------------------------------------

    def store(self) -> Store:
        """The project's store, as the processes see it (opened once it exists)."""
        if self.stores:
            return self.stores[0]
        if self.database_url is None:
            db = self.dir / ".legato" / "legato.db"
            wait_until(db.exists, what=f"{db} to be created")
            url = f"sqlite:///{db}"
        else:
            url = self.database_url
        store = Store(url)
        self.stores.append(store)
        return store

    def close(self) -> None:
        for process in reversed(self.processes):
            if not process.log_file.closed:
                process.stop()
        for store in self.stores:
            store.dispose()


@dataclass
class Server:
    """A ``legato up`` process and a JSON client of its API (local mode: the implicit admin,
    proved by the start's token)."""

    process: Process
    url: str
    token: str
    csrf: str = "journey-csrf-token"

    @property
    def login_url(self) -> str:
        """The URL ``legato up`` prints: opening it gives a browser the token as a cookie."""
        return f"{self.url}/?token={self.token}"

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", "application/json")
        request.add_header("Cookie", f"legato_csrf={self.csrf}")
        request.add_header("X-CSRF-Token", self.csrf)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
            exc.close()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return self.request("POST", path, body if body is not None else {})

    def stream(self, path: str, seconds: float) -> Iterable[bytes]:
        """Read a streaming response (SSE) for up to ``seconds``; yields raw lines."""
        request = urllib.request.Request(self.url + path)
        request.add_header("Authorization", f"Bearer {self.token}")
        deadline = time.monotonic() + seconds
        with urllib.request.urlopen(request, timeout=seconds + 5) as response:
            while time.monotonic() < deadline:
                line = response.readline()
                if not line:
                    return
                yield line
