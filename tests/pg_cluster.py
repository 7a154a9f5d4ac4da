"""A PostgreSQL cluster of a test's own, to stop and start at will: ``initdb`` into a temporary
directory, ``pg_ctl`` on a free port of 127.0.0.1, trust authentication.

Tests that take the database away use this, never the machine's shared server. PostgreSQL
refuses to run as root, so as root every command runs as the ``postgres`` user (``runuser``) in
a directory that user owns.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's ``bin`` directory (with ``initdb`` and ``pg_ctl``)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)],
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    root: Path  # owned by the user the server runs as; holds data/, the socket and the log
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def _pg(self, program: str, *args: str, timeout: float = 120) -> str:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def init(self) -> None:
        self._pg("initdb", "-D", "data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            " -c fsync=off -c max_connections=200"
        )
        self._pg(
            "pg_ctl", "-D", "data", "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m MODE``: fast disconnects every client and shuts down cleanly;
        immediate is a crash."""
        self._pg("pg_ctl", "-D", "data", "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        try:
            self._pg("pg_ctl", "-D", "data", "status", timeout=30)
        except RuntimeError:
            return False
        return True


@contextmanager
def cluster() -> Iterator[Cluster]:
    """A started cluster; stopped (immediately) and deleted afterwards, whatever happened."""
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("initdb is not installed")
    root = Path(tempfile.mkdtemp(prefix="legato-pg-"))  # short: the socket path has a limit
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    made = Cluster(bindir, root, _free_port())
    try:
        made.init()
        made.start()
        yield made
    finally:
        if made.running():
            made.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
